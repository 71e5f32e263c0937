"""Each approvals refusal by its stable code, on a real database: the right error, and nothing written."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from config.app import create_app
from domain.approvals import reviews, services
from domain.approvals.checks import ApplicationRejected
from domain.approvals.models import Application, ClockPause, Material, ReviewTask, TimelineEntry
from domain.approvals.rules import ApplicationStatus, TaskDecision
from domain.calendar.rules import SHANGHAI
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.notifications.models import OutboxMessage
from tests.conftest import make_settings
from tests.integration.approvals_helpers import (
    ENTERPRISE_A,
    FIELDS,
    PERMIT_MATERIALS,
    PROJECT,
    T0,
    make_env,
    make_pdf,
    permit_uploads,
    staff,
    upload,
)
from tests.integration.test_approvals_api import MAX_BYTES, SECRET, Client, files, new_draft

LATER = T0 + dt.timedelta(hours=2)


async def draft_permit(env: services.ApprovalsEnv) -> Application:
    return await services.create_draft(
        env, ENTERPRISE_A, project_code=PROJECT, stage="construction_permit", fields=FIELDS, now=T0
    )


async def submitted_permit(env: services.ApprovalsEnv) -> Application:
    application = await draft_permit(env)
    await services.upload_materials(env, ENTERPRISE_A, application.code, uploads=permit_uploads(), now=T0)
    return await services.submit(env, ENTERPRISE_A, application.code, now=T0)


async def task_of(application: Application, department: str) -> ReviewTask:
    return await ReviewTask.get(application_id=application.id, department=department)


async def snapshot(application: Application) -> dict[str, Any]:
    """Everything a refused call could have touched, so a test can show it touched nothing."""
    row = await Application.get(id=application.id)
    tasks = ReviewTask.filter(application_id=application.id).order_by("id")
    return {
        "application": (row.status, row.fields_data, row.round, row.due_at, row.paused_at, row.decided_at),
        "tasks": [(t.status, t.comment, t.due_at, t.paused_days) for t in await tasks],
        "timeline": await TimelineEntry.filter(application_id=application.id)
        .order_by("id")
        .values_list("action", flat=True),
        "materials": await Material.all().order_by("id").values_list("key", "version", "current"),
        "pauses": await ClockPause.filter(application_id=application.id).count(),
        "outbox": await OutboxMessage.all().count(),
    }


def media_files(tmp_path: Path) -> set[Path]:
    root = tmp_path / "media"
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


@pytest.mark.usefixtures("database")
class TestServiceRefusals:
    async def test_editing_a_submitted_application_is_not_editable_and_keeps_its_fields(
        self, tmp_path: Path
    ) -> None:
        env = make_env(tmp_path)
        application = await submitted_permit(env)
        before = await snapshot(application)
        with pytest.raises(Conflict) as raised:
            await services.update_draft(
                env, ENTERPRISE_A, application.code, fields={"project_name": "改名"}, now=LATER
            )
        assert raised.value.code == "not_editable"
        assert await snapshot(application) == before

    async def test_uploading_to_a_submitted_application_is_not_editable_and_stores_no_file(
        self, tmp_path: Path
    ) -> None:
        env = make_env(tmp_path)
        application = await submitted_permit(env)
        before, stored_files = await snapshot(application), media_files(tmp_path)
        with pytest.raises(Conflict) as raised:
            await services.upload_materials(
                env,
                ENTERPRISE_A,
                application.code,
                uploads=[upload("site_plan", make_pdf("site-plan-v2"))],
                now=LATER,
            )
        assert raised.value.code == "not_editable"
        assert await snapshot(application) == before
        assert media_files(tmp_path) == stored_files  # refused before the bytes reach the media store

    async def test_an_unknown_material_refuses_the_whole_batch(self, tmp_path: Path) -> None:
        env = make_env(tmp_path)
        application = await draft_permit(env)
        before = await snapshot(application)
        batch = [upload("survey_report", make_pdf("fine")), upload("moon_rock_sample", make_pdf("rock"))]
        with pytest.raises(ApplicationRejected) as raised:
            await services.upload_materials(env, ENTERPRISE_A, application.code, uploads=batch, now=T0)
        assert raised.value.code == "files_rejected"
        assert raised.value.problems == ["moon_rock_sample: 本阶段没有这项材料 (unknown material)"]
        assert await snapshot(application) == before
        assert media_files(tmp_path) == set()

    async def test_deciding_a_task_that_does_not_exist_is_task_not_found(self, tmp_path: Path) -> None:
        env = make_env(tmp_path)
        application = await submitted_permit(env)
        before = await snapshot(application)
        missing_id = max(task.id for task in await ReviewTask.all()) + 1
        with pytest.raises(NotFound) as raised:
            await reviews.decide(
                env, staff("fire"), missing_id, decision=TaskDecision.APPROVE, comment="", now=LATER
            )
        assert raised.value.code == "task_not_found"
        assert await snapshot(application) == before

    async def test_deciding_another_departments_task_is_task_not_found(self, tmp_path: Path) -> None:
        env = make_env(tmp_path)
        application = await submitted_permit(env)
        housing = await task_of(application, "housing")
        before = await snapshot(application)
        with pytest.raises(NotFound) as raised:
            await reviews.decide(
                env, staff("fire"), housing.id, decision=TaskDecision.APPROVE, comment="", now=LATER
            )
        assert raised.value.code == "task_not_found"
        assert await snapshot(application) == before

    @pytest.mark.parametrize("decision", [TaskDecision.REJECT, TaskDecision.REQUEST_CORRECTION])
    async def test_rejecting_or_asking_a_correction_without_a_comment_is_comment_required(
        self, tmp_path: Path, decision: TaskDecision
    ) -> None:
        env = make_env(tmp_path)
        application = await submitted_permit(env)
        fire = await task_of(application, "fire")
        before = await snapshot(application)
        with pytest.raises(ValidationFailed) as raised:
            await reviews.decide(env, staff("fire"), fire.id, decision=decision, comment="  \n ", now=LATER)
        assert raised.value.code == "comment_required"
        assert await snapshot(application) == before

    async def test_deciding_the_open_task_of_a_rejected_application_is_not_under_review(
        self, tmp_path: Path
    ) -> None:
        env = make_env(tmp_path)
        application = await submitted_permit(env)
        fire, housing = await task_of(application, "fire"), await task_of(application, "housing")
        await reviews.decide(
            env, staff("fire"), fire.id, decision=TaskDecision.REJECT, comment="不符", now=T0
        )
        before = await snapshot(application)
        assert before["application"][0] is ApplicationStatus.REJECTED
        with pytest.raises(Conflict) as raised:
            await reviews.decide(
                env, staff("housing"), housing.id, decision=TaskDecision.APPROVE, comment="", now=LATER
            )
        assert raised.value.code == "not_under_review"
        assert await snapshot(application) == before

    async def test_pausing_the_clock_of_a_decided_application_is_not_under_review(
        self, tmp_path: Path
    ) -> None:
        env = make_env(tmp_path)
        application = await submitted_permit(env)
        fire = await task_of(application, "fire")
        await reviews.decide(
            env, staff("fire"), fire.id, decision=TaskDecision.REJECT, comment="不符", now=T0
        )
        before = await snapshot(application)
        with pytest.raises(Conflict) as raised:
            await reviews.pause_clock(env, staff("housing"), application.code, reason="专家论证", now=LATER)
        assert raised.value.code == "not_under_review"
        assert await snapshot(application) == before

    async def test_deciding_while_the_clock_is_paused_is_clock_paused(self, tmp_path: Path) -> None:
        env = make_env(tmp_path)
        application = await submitted_permit(env)
        await reviews.pause_clock(env, staff("housing"), application.code, reason="专家论证", now=T0)
        fire = await task_of(application, "fire")
        before = await snapshot(application)
        with pytest.raises(Conflict) as raised:
            await reviews.decide(
                env, staff("fire"), fire.id, decision=TaskDecision.APPROVE, comment="同意", now=LATER
            )
        assert raised.value.code == "clock_paused"
        assert await snapshot(application) == before

    async def test_resuming_a_running_clock_is_not_paused_and_moves_no_deadline(self, tmp_path: Path) -> None:
        env = make_env(tmp_path)
        application = await submitted_permit(env)
        before = await snapshot(application)
        with pytest.raises(Conflict) as raised:
            await reviews.resume_clock(
                env, staff("housing"), application.code, now=dt.datetime(2026, 2, 25, 9, tzinfo=SHANGHAI)
            )
        assert raised.value.code == "not_paused"
        assert await snapshot(application) == before


@pytest.fixture
async def client(db_url: str, tmp_path: Path) -> Client:
    settings = make_settings(tmp_path, database_url=db_url, secret_key=SECRET, media_max_bytes=MAX_BYTES)
    return Client(create_app(settings).asgi_client)


async def test_an_unknown_decision_word_is_invalid_decision_and_leaves_the_task_open(client: Client) -> None:
    """``invalid_decision`` is the door's: the service takes a ``TaskDecision`` and cannot see a bad word."""
    code = await new_draft(client)
    uploads = files(*[(key, f"{key}.pdf", make_pdf(key)) for key in PERMIT_MATERIALS])
    assert (
        await client.call("post", f"/applications/{code}/materials", ENTERPRISE_A, files=uploads)
    ).status == 201
    submitted = await client.call("post", f"/applications/{code}/submit", ENTERPRISE_A)
    assert submitted.status == 200, submitted.text
    fire_task = next(t for t in submitted.json["tasks"] if t["department"] == "fire")
    response = await client.call(
        "post", f"/review/tasks/{fire_task['id']}/decision", staff("fire"), json={"decision": "maybe"}
    )
    assert response.status == 400, response.text
    assert response.json["code"] == "invalid_decision"
    after = (await client.call("get", f"/applications/{code}", ENTERPRISE_A)).json
    assert after["status"] == "under_review"
    assert [t["status"] for t in after["tasks"] if t["department"] == "fire"] == ["in_review"]
    assert after["timeline"][-1]["action"] == "under_review"
