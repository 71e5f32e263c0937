"""A small city with known answers for October 2026 (and a little September, the previous period)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from domain.alerts.models import Alarm, MinuteAggregate
from domain.approvals.models import Application, ReviewTask
from domain.complaints.models import Complaint, ComplaintEvent
from domain.credit.models import CreditRecord, CreditSubject
from domain.emergency.models import Incident
from domain.projects.models import Project, Site
from domain.projects.rules import uscc_check_char

SH = ZoneInfo("Asia/Shanghai")
E1 = "91331081MA0000101" + uscc_check_char("91331081MA0000101")
E2 = "91331081MA0000102" + uscc_check_char("91331081MA0000102")


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=SH).astimezone(dt.UTC)


async def seed_projects() -> None:
    specs = [
        ("WL-2026-0001", "城东街道", "construction", "residential", dt.date(2026, 10, 5), None),
        ("WL-2026-0002", "泽国镇", "completed", "municipal", dt.date(2025, 3, 1), dt.date(2026, 10, 20)),
        ("WL-2026-0003", "城东街道", "approval", "transport", None, None),
        ("WL-2026-0004", "泽国镇", "construction", "residential", dt.date(2026, 9, 10), None),
    ]
    for number, (code, town, stage, kind, start, end) in enumerate(specs, 1):
        project = await Project.create(
            code=code,
            name=f"测试项目{number}",
            kind=kind,
            stage=stage,
            town=town,
            address="温岭",
            lat=28.37 + number / 100,
            lng=121.37,
            actual_start=start,
            actual_end=end,
        )
        if number != 3:
            await Site.create(
                code=f"{code}-S1", project=project, name=f"工地{number}", lat=project.lat, lng=121.37
            )


async def _complaint(
    no: int, *, kind: str, town: str, created: dt.datetime, due: dt.datetime, **extra: Any
) -> Complaint:
    return await Complaint.create(
        ticket_no=f"T{no:05d}",
        nuisance_type=kind,
        category="complaint",
        town=town,
        sla_started_at=created,
        due_at=due,
        created_at=created,
        updated_at=created,
        reporter_openid=f"oOpenid{no}",
        reporter_phone="13800000000",
        **extra,
    )


async def seed_complaints() -> None:
    c1 = at(10, 8)
    await _complaint(
        1,
        kind="noise",
        town="城东街道",
        created=c1,
        due=at(10, 20),
        answered_at=c1 + dt.timedelta(hours=2),
        rating="satisfied",
        state="closed",
    )
    c2 = at(10, 9)
    late = await _complaint(
        2,
        kind="dust",
        town="城东街道",
        created=c2,
        due=at(10, 10),
        answered_at=c2 + dt.timedelta(hours=50),
        rating="dissatisfied",
        state="reopened",
    )
    await ComplaintEvent.create(
        complaint=late,
        action="reopen",
        from_state="follow_up",
        to_state="reopened",
        actor="citizen",
        at=at(10, 13),
    )
    await ComplaintEvent.create(
        complaint=late,
        action="reopen",
        from_state="follow_up",
        to_state="reopened",
        actor="citizen",
        at=at(10, 14),
    )
    await _complaint(3, kind="noise", town="泽国镇", created=at(10, 3), due=at(10, 10), state="in_progress")
    await _complaint(4, kind="noise", town="泽国镇", created=at(10, 3, 11), due=at(10, 10), state="merged")
    await _complaint(5, kind="dust", town="泽国镇", created=at(10, 30), due=at(11, 20), state="dispatched")
    await _complaint(6, kind="noise", town="泽国镇", created=at(9, 15), due=at(9, 30), state="dispatched")


async def seed_alarms() -> None:
    s1, s2 = "WL-2026-0001-S1", "WL-2026-0002-S1"
    rows = [
        (s1, "dust_pm10_1h", "warning", at(10, 2), 10),
        (s1, "dust_pm10_1h", "warning", at(10, 12), 30),
        (s1, "noise_night", "major", at(10, 22), None),
        (s2, "crane_moment", "critical", at(10, 25), None),
        (s2, "crane_moment", "critical", at(9, 25), 5),
    ]
    for number, (site, kind, severity, raised, ack) in enumerate(rows):
        await Alarm.create(
            source=f"DEV{number}",
            alarm_type=kind,
            severity=severity,
            site_code=site,
            raised_at=raised,
            last_seen_at=raised,
            state="acknowledged" if ack else "cleared",
            acknowledged_at=raised + dt.timedelta(minutes=ack) if ack else None,
        )


async def seed_approvals() -> None:
    app1 = await Application.create(
        code="SP2026-0001",
        project_code="WL-2026-0003",
        enterprise_uscc=E1,
        stage="land_use_planning",
        status="approved",
        first_submitted_at=at(10, 19),
        decided_at=at(10, 23, 16),
        due_at=at(10, 30, 23),
    )
    app2 = await Application.create(
        code="SP2026-0002",
        project_code="WL-2026-0003",
        enterprise_uscc=E1,
        stage="construction_planning",
        status="approved",
        first_submitted_at=at(10, 12),
        decided_at=at(10, 27, 16),
        due_at=at(10, 26, 23),
        total_paused_days=1,
    )
    await Application.create(
        code="SP2026-0003",
        project_code="WL-2026-0003",
        enterprise_uscc=E1,
        stage="construction_permit",
        status="under_review",
        first_submitted_at=at(10, 12),
    )
    await ReviewTask.create(
        application=app1,
        department="development",
        is_lead=True,
        status="approved",
        limit_days=5,
        started_at=at(10, 19),
        due_at=at(10, 26, 23),
        decided_at=at(10, 21, 15),
    )
    await ReviewTask.create(
        application=app1,
        department="planning",
        status="approved",
        limit_days=10,
        started_at=at(10, 19),
        due_at=at(10, 30, 23),
        decided_at=at(10, 23, 15),
    )
    await ReviewTask.create(
        application=app2,
        department="planning",
        is_lead=True,
        status="approved",
        limit_days=10,
        started_at=at(10, 12),
        due_at=at(10, 26, 23),
        decided_at=at(10, 27, 15),
        paused_days=1,
    )


async def seed_credit() -> None:
    await CreditSubject.create(kind="enterprise", subject_id=E1, name="温岭甲建设有限公司")
    await CreditSubject.create(kind="enterprise", subject_id=E2, name="温岭乙建设有限公司")
    specs = [
        (E1, "dust_penalty", "dust_penalty", -5, dt.date(2026, 10, 10), dt.date(2027, 10, 10)),
        (E2, "award_municipal", "award", 3, dt.date(2026, 8, 1), dt.date(2029, 8, 1)),
        (E2, "award_provincial", "award", 5, dt.date(2026, 10, 2), dt.date(2029, 10, 2)),
    ]
    for number, (subject, record_type, category, points, effective, expires) in enumerate(specs):
        await CreditRecord.create(
            subject_kind="enterprise",
            subject_id=subject,
            record_type=record_type,
            category=category,
            points=points,
            effective_on=effective,
            expires_on=expires,
            status="effective",
            approved_on=effective,
            project_code="WL-2026-0001",
            source_ref=f"doc-{number}",
            created_by="test",
        )


async def seed_incidents() -> None:
    first = at(10, 6)
    await Incident.create(
        incident_type="crane_collapse",
        grade=2,
        title="塔吊倒塌",
        deaths=1,
        serious_injuries=2,
        direct_loss_yuan=1_000_000,
        source="staff",
        occurred_at=first,
        reported_levels={"county": (first + dt.timedelta(minutes=30)).isoformat()},
    )
    second = at(10, 16)
    await Incident.create(
        incident_type="fall_from_height",
        grade=1,
        title="高处坠落",
        serious_injuries=1,
        source="bot",
        occurred_at=second,
        status="closed",
        reported_levels={"county": (second + dt.timedelta(hours=2)).isoformat()},
    )


async def seed_dust() -> None:
    s1, s2 = "WL-2026-0001-S1", "WL-2026-0002-S1"
    rows = [
        (s1, "pm10", at(10, 5, 10, 1), 1000.0, 10),
        (s1, "pm10", at(10, 5, 10, 2), 1000.0, 10),
        (s1, "pm10", at(10, 5, 11, 5), 3600.0, 20),
        (s2, "pm10", at(10, 7, 10, 0), 1400.0, 10),
        (s2, "pm25", at(10, 7, 10, 0), 9999.0, 10),
        (s2, "pm10", at(10, 7, 12, 0), 0.0, 0),
        (s2, "pm10", at(9, 7, 12, 0), 9000.0, 10),
    ]
    for site, metric, minute, total, valid in rows:
        await MinuteAggregate.create(
            site_code=site,
            device_code=f"D{site}",
            metric=metric,
            minute=minute,
            count=max(valid, 1),
            total=total,
            minimum=0,
            maximum=0,
            valid_count=valid,
            valid_total=total,
        )


async def seed_all() -> None:
    await seed_projects()
    await seed_complaints()
    await seed_alarms()
    await seed_approvals()
    await seed_credit()
    await seed_incidents()
    await seed_dust()
