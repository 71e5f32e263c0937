"""Approval use cases on a real database (SQLite, and PostgreSQL when DATABASE_URL is set)."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from domain.approvals import reviews, services
from domain.approvals.checks import ApplicationRejected
from domain.approvals.clocks import SlaState
from domain.approvals.models import Application, CorrectionNotice, Material, ReviewTask
from domain.approvals.rules import ApplicationStatus, TaskDecision, TaskStatus
from domain.calendar.rules import SHANGHAI
from domain.errors import Conflict, NotFound
from domain.notifications.models import OutboxMessage
from tests.integration.approvals_helpers import (
    ENTERPRISE_A,
    ENTERPRISE_B,
    FIELDS,
    OPENID_A,
    PROJECT,
    T0,
    USCC_A,
    make_env,
    make_pdf,
    permit_uploads,
    staff,
    upload,
)

pytestmark = pytest.mark.usefixtures("database")


async def submitted_permit(env: services.ApprovalsEnv) -> Application:
    application = await services.create_draft(
        env, ENTERPRISE_A, project_code=PROJECT, stage="construction_permit", fields=FIELDS, now=T0
    )
    await services.upload_materials(env, ENTERPRISE_A, application.code, uploads=permit_uploads(), now=T0)
    return await services.submit(env, ENTERPRISE_A, application.code, now=T0)


async def status_of(application: Application) -> ApplicationStatus:
    return (await Application.get(id=application.id)).status


async def task_of(application: Application, department: str) -> ReviewTask:
    return await ReviewTask.get(application_id=application.id, department=department)


async def test_codes_are_allocated_atomically_per_year(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    drafts = await asyncio.gather(
        *[
            services.create_draft(
                env, ENTERPRISE_A, project_code=PROJECT, stage="construction_permit", fields={}, now=T0
            )
            for _ in range(8)
        ]
    )
    codes = sorted(d.code for d in drafts)
    assert codes == [f"SP2026-{n:04d}" for n in range(1, 9)]


async def test_parallel_review_completes_only_when_every_department_approves(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    application = await submitted_permit(env)
    assert application.status is ApplicationStatus.UNDER_REVIEW
    tasks = await ReviewTask.filter(application_id=application.id).order_by("id")
    assert {t.department for t in tasks} == {"housing", "fire"}  # 12000 m²: fire design review applies
    housing = await task_of(application, "housing")
    await reviews.decide(env, staff("housing"), housing.id, decision=TaskDecision.APPROVE, comment="", now=T0)
    assert await status_of(application) is ApplicationStatus.UNDER_REVIEW
    fire = await task_of(application, "fire")
    await reviews.decide(env, staff("fire"), fire.id, decision=TaskDecision.APPROVE, comment="符合", now=T0)
    assert await status_of(application) is ApplicationStatus.APPROVED
    assert (await Application.get(id=application.id)).decided_at is not None
    texts = await OutboxMessage.filter(recipient_openid=OPENID_A).values_list("text", flat=True)
    assert any("已受理" in t for t in texts) and any("准予许可" in t for t in texts)
    outbox = await OutboxMessage.filter(recipient_openid=OPENID_A)
    assert {m.template_key for m in outbox} == {"approval_decision"}
    assert {m.template_data["phrase3"] for m in outbox} == {"已受理", "准予许可"}
    with pytest.raises(Conflict):
        await reviews.decide(
            env, staff("fire"), fire.id, decision=TaskDecision.REJECT, comment="晚了", now=T0
        )


async def test_one_rejection_rejects_with_its_reason(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    application = await submitted_permit(env)
    fire = await task_of(application, "fire")
    await reviews.decide(
        env, staff("fire"), fire.id, decision=TaskDecision.REJECT, comment="消防通道不足", now=T0
    )
    assert await status_of(application) is ApplicationStatus.REJECTED
    assert (await Application.get(id=application.id)).rejection_reason == "消防通道不足"


async def test_consolidated_notice_merges_every_department_and_one_resubmission_answers_it(
    tmp_path: Path,
) -> None:
    env = make_env(tmp_path)
    application = await submitted_permit(env)
    housing, fire = await task_of(application, "housing"), await task_of(application, "fire")
    await reviews.decide(
        env,
        staff("housing"),
        housing.id,
        decision=TaskDecision.REQUEST_CORRECTION,
        comment="施工图缺结构计算书",
        materials=["construction_drawings"],
        now=T0,
    )
    # Fire is still reviewing: no notice yet.
    assert await status_of(application) is ApplicationStatus.UNDER_REVIEW
    await reviews.decide(
        env,
        staff("fire"),
        fire.id,
        decision=TaskDecision.REQUEST_CORRECTION,
        comment="消防设计与施工图不一致",
        materials=["fire_design", "construction_drawings"],
        now=T0,
    )
    assert await status_of(application) is ApplicationStatus.CORRECTION_REQUIRED
    notices = await CorrectionNotice.filter(application_id=application.id)
    assert len(notices) == 1
    content = notices[0].content
    assert [d["department"] for d in content["departments"]] == ["housing", "fire"]
    assert {m["key"]: m["requested_by"] for m in content["materials"]}["construction_drawings"] == [
        "housing",
        "fire",
    ]
    corrections = await OutboxMessage.filter(recipient_openid=OPENID_A, text__contains="补正")
    assert len(corrections) == 1 and "住建局" in corrections[0].text and "消防" in corrections[0].text

    later = T0 + dt.timedelta(days=1)
    await services.upload_materials(
        env,
        ENTERPRISE_A,
        application.code,
        uploads=[
            upload("construction_drawings", make_pdf("drawings-v2")),
            upload("fire_design", make_pdf("fire-v2")),
        ],
        now=later,
    )
    await services.resubmit(
        env, ENTERPRISE_A, application.code, answer="已补充计算书并修改消防设计", now=later
    )
    await application.refresh_from_db()
    assert application.status is ApplicationStatus.UNDER_REVIEW and application.round == 2
    assert application.material_versions["construction_drawings"] == 2
    assert application.material_versions["survey_report"] == 1
    for task in await ReviewTask.filter(application_id=application.id):
        assert task.status is TaskStatus.IN_REVIEW and task.started_at == later
    notice = await CorrectionNotice.get(application_id=application.id)
    assert notice.answered_at == later
    with pytest.raises(Conflict):
        await services.resubmit(env, ENTERPRISE_A, application.code, answer="again", now=later)


async def test_upload_once_is_reused_across_stages_with_versions(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    planning = await services.create_draft(
        env, ENTERPRISE_A, project_code=PROJECT, stage="construction_planning", fields=FIELDS, now=T0
    )
    site_plan_v1 = make_pdf("site-plan-v1")
    await services.upload_materials(
        env,
        ENTERPRISE_A,
        planning.code,
        uploads=[upload("business_license", make_pdf("licence")), upload("site_plan", site_plan_v1)],
        now=T0,
    )
    permit = await services.create_draft(
        env, ENTERPRISE_A, project_code=PROJECT, stage="construction_permit", fields=FIELDS, now=T0
    )
    from domain.approvals.views import application_checklist  # noqa: PLC0415

    lines = {line["key"]: line for line in (await application_checklist(env, permit))["lines"]}
    assert lines["business_license"]["uploaded_version"] == 1 and not lines["business_license"]["missing"]
    assert lines["site_plan"]["uploaded_version"] == 1
    assert lines["survey_report"]["missing"]
    # The same bytes again make no new version; different bytes make version 2, and v1 stays readable.
    await services.upload_materials(
        env, ENTERPRISE_A, permit.code, uploads=[upload("site_plan", site_plan_v1)], now=T0
    )
    assert await Material.filter(project_code=PROJECT, key="site_plan").count() == 1
    await services.upload_materials(
        env, ENTERPRISE_A, permit.code, uploads=[upload("site_plan", make_pdf("site-plan-v2"))], now=T0
    )
    rows = await Material.filter(project_code=PROJECT, key="site_plan").order_by("version")
    assert [(r.version, r.current) for r in rows] == [(1, False), (2, True)]
    old, data = await services.open_material(env, ENTERPRISE_A, planning.code, "site_plan", version=1)
    assert data == site_plan_v1 and old.version == 1
    # Another enterprise on the same project shares nothing.
    other = await services.create_draft(
        env, ENTERPRISE_B, project_code=PROJECT, stage="construction_permit", fields={}, now=T0
    )
    other_lines = {line["key"]: line for line in (await application_checklist(env, other))["lines"]}
    assert other_lines["business_license"]["uploaded_version"] is None


async def test_submit_checks_report_everything_and_change_nothing(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    application = await services.create_draft(
        env,
        ENTERPRISE_A,
        project_code=PROJECT,
        stage="construction_permit",
        fields={**FIELDS, "applicant_uscc": "91331081MA2AB1234C", "planned_end": "2026-01-01"},
        now=T0,
    )
    await services.upload_materials(env, ENTERPRISE_A, application.code, uploads=permit_uploads()[:3], now=T0)
    with pytest.raises(ApplicationRejected) as raised:
        await services.submit(env, ENTERPRISE_A, application.code, now=T0)
    problems = raised.value.problems
    assert any("checksum" in p for p in problems)
    assert any(p.startswith("planned_end") for p in problems)
    assert sum("缺少必需材料" in p for p in problems) == 8
    assert await status_of(application) is ApplicationStatus.DRAFT
    assert not await ReviewTask.filter(application_id=application.id).exists()


async def test_bad_files_refuse_the_whole_batch(tmp_path: Path) -> None:
    env = make_env(tmp_path, max_file_bytes=1 * 1024 * 1024)
    application = await services.create_draft(
        env, ENTERPRISE_A, project_code=PROJECT, stage="construction_permit", fields=FIELDS, now=T0
    )
    batch = [
        upload("survey_report", make_pdf("fine")),
        upload("business_license", b"MZ\x90\x00" + b"\x00" * 200, "licence.pdf"),
        upload("construction_contract", make_pdf("secret", password="pw")),
        upload("supervision_contract", b""),
        upload("construction_drawings", b"%PDF-1.7\n" + b"\x00" * (2 * 1024 * 1024)),
        upload("funding_proof", b"%PDF-1.4\nthis is not really a pdf"),
    ]
    with pytest.raises(ApplicationRejected) as raised:
        await services.upload_materials(env, ENTERPRISE_A, application.code, uploads=batch, now=T0)
    codes = [p.split(": ")[1].split(":")[0] for p in raised.value.problems]
    assert codes == ["unsupported_type", "encrypted_pdf", "empty_file", "file_too_large", "corrupt_pdf"]
    assert not await Material.filter(project_code=PROJECT).exists()
    assert not (tmp_path / "media").exists()


async def test_sla_across_spring_festival_and_a_pause(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    application = await submitted_permit(env)
    housing = await task_of(application, "housing")
    # 10 working days from Tue 02-10: 11 12 13 14(Sat) 24 25 26 27 28(Sat) 03-02.
    assert housing.due_at.astimezone(SHANGHAI).date() == dt.date(2026, 3, 2)
    pause_at = dt.datetime(2026, 2, 12, 10, 0, tzinfo=SHANGHAI)
    await reviews.pause_clock(
        env, staff("housing"), application.code, reason="专家论证（深基坑）", now=pause_at
    )
    queue = await reviews.review_queue(env, staff("housing"), now=pause_at)
    assert queue[0][2] is SlaState.PAUSED
    with pytest.raises(Conflict):
        await reviews.decide(
            env, staff("housing"), housing.id, decision=TaskDecision.APPROVE, comment="", now=pause_at
        )
    # Resumed Wed 02-25: paused over 13, 14(Sat, working), 24, 25 -> 4 working days; Spring Festival is free.
    days = await reviews.resume_clock(
        env, staff("housing"), application.code, now=dt.datetime(2026, 2, 25, 9, 0, tzinfo=SHANGHAI)
    )
    assert days == 4
    housing = await task_of(application, "housing")
    assert housing.due_at.astimezone(SHANGHAI).date() == dt.date(2026, 3, 6)
    approved_task = await task_of(application, "fire")
    assert approved_task.paused_days == 4
    state = (
        await reviews.review_queue(env, staff("housing"), now=dt.datetime(2026, 3, 5, 9, tzinfo=SHANGHAI))
    )[0][2]
    assert state is SlaState.DUE_SOON
    late = dt.datetime(2026, 3, 9, 9, tzinfo=SHANGHAI)
    assert (await reviews.review_queue(env, staff("housing"), now=late))[0][2] is SlaState.OVERDUE


async def test_reminders_go_to_the_department_once_a_day(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    application = await submitted_permit(env)
    seen: list[str] = []

    async def reviewers(department: str) -> list[str]:
        seen.append(department)
        return [f"o-{department}-reviewer-01"]

    late = dt.datetime(2026, 3, 5, 9, tzinfo=SHANGHAI)  # housing due 03-02: overdue; fire due 03-09: due soon
    assert await reviews.send_reminders(env, now=late, reviewers=reviewers) == 2
    await reviews.send_reminders(env, now=late + dt.timedelta(hours=2), reviewers=reviewers)
    messages = await OutboxMessage.filter(category="approval_reminder").order_by("id")
    assert len(messages) == 2
    assert "超期" in messages[0].text or "超期" in messages[1].text
    assert application.code in messages[0].text
    assert messages[0].template_key == "reminder"
    assert messages[0].template_data["character_string1"] == application.code


async def test_statistics_in_working_days(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    application = await submitted_permit(env)
    decided = dt.datetime(2026, 2, 25, 10, tzinfo=SHANGHAI)  # 13, 14, 24, 25 after Tue 02-10... plus 11, 12
    for department in ("housing", "fire"):
        task = await task_of(application, department)
        await reviews.decide(
            env, staff(department), task.id, decision=TaskDecision.APPROVE, comment="", now=decided
        )
    stats = await reviews.working_day_statistics(env, since=T0, until=decided + dt.timedelta(days=1))
    assert stats["stages"] == [
        {
            "key": "construction_permit",
            "name": "施工许可",
            "count": 1,
            "average_working_days": 6.0,
            "max_working_days": 6,
        }
    ]
    assert {d["key"] for d in stats["departments"]} == {"housing", "fire"}


async def test_authorization_enterprise_and_department_scopes(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    application = await submitted_permit(env)
    with pytest.raises(NotFound):
        await services.load_visible(ENTERPRISE_B, application.code)
    with pytest.raises(NotFound):
        await services.load_visible(staff("archives"), application.code)
    assert (await services.load_visible(staff("fire"), application.code)).id == application.id
    housing = await task_of(application, "housing")
    with pytest.raises(NotFound):
        await reviews.decide(
            env, staff("fire"), housing.id, decision=TaskDecision.APPROVE, comment="", now=T0
        )
    queue = await reviews.review_queue(env, staff("fire"), now=T0)
    assert [task.department for task, _, _ in queue] == ["fire"]
    assert await services.list_own(ENTERPRISE_B) == []


async def test_reviewers_are_the_departments_bound_staff(tmp_path: Path) -> None:
    from domain.accounts.models import Account  # noqa: PLC0415
    from domain.accounts.rules import Role  # noqa: PLC0415
    from domain.approvals.reminders import department_reviewers  # noqa: PLC0415

    await Account.create(username="fire1", role=Role.STAFF, department="fire", openid="o-fire-reviewer-0001")
    await Account.create(username="fire2", role=Role.STAFF, department="fire")  # no WeChat bound
    await Account.create(
        username="fire3", role=Role.STAFF, department="fire", openid="o-fire-x", active=False
    )
    await Account.create(username="h1", role=Role.STAFF, department="housing", openid="o-housing-reviewer-01")
    assert await department_reviewers("fire") == ["o-fire-reviewer-0001"]


async def test_demo_application_is_seeded_once(tmp_path: Path) -> None:
    from domain.approvals.demo import DEMO_CODE, seed_demo_applications  # noqa: PLC0415

    env = make_env(tmp_path)
    assert await seed_demo_applications(env, enterprise_uscc=USCC_A, project_code=PROJECT) == DEMO_CODE
    assert await seed_demo_applications(env, enterprise_uscc=USCC_A, project_code=PROJECT) is None
    application = await Application.get(code=DEMO_CODE)
    assert application.status is ApplicationStatus.UNDER_REVIEW
    assert await ReviewTask.filter(application_id=application.id).count() == 2


async def test_simultaneous_last_decisions_conclude_exactly_once(tmp_path: Path) -> None:
    from domain.approvals.models import TimelineEntry  # noqa: PLC0415

    env = make_env(tmp_path)
    application = await submitted_permit(env)
    housing, fire = await task_of(application, "housing"), await task_of(application, "fire")
    await asyncio.gather(
        reviews.decide(env, staff("housing"), housing.id, decision=TaskDecision.APPROVE, comment="", now=T0),
        reviews.decide(env, staff("fire"), fire.id, decision=TaskDecision.APPROVE, comment="", now=T0),
    )
    assert await status_of(application) is ApplicationStatus.APPROVED
    assert await TimelineEntry.filter(application_id=application.id, action="approved").count() == 1
