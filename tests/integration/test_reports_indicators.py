"""Every indicator of the October 2026 report equals a known answer and an independent raw query."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
from tortoise import connections

from domain.reports.periods import parse_period
from domain.reports.services import build_report, deployed_report_env, public_transparency
from tests.integration.reports_seed import E1, E2, at, seed_all

START, END = at(10, 1, 0), at(11, 1, 0)


def _moment(value: Any) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    moment: dt.datetime = value
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


async def _rows(sql: str) -> list[Any]:
    _, rows = await connections.get("default").execute_query(sql)
    return list(rows)


@pytest.fixture
async def report(database: str) -> dict[str, Any]:
    await seed_all()
    env = deployed_report_env()
    return await build_report(parse_period("2026-10"), env, now=at(11, 5))


async def test_projects(report: dict[str, Any]) -> None:
    projects = report["sections"]["projects"]
    assert projects["starts"] == 1 and projects["completions"] == 1
    assert projects["by_town"] == {"城东街道": 2, "泽国镇": 2}
    assert projects["by_stage"] == {"construction": 2, "approval": 1, "completed": 1}
    rows = await _rows("SELECT town, stage, actual_start, actual_end FROM project")
    month = (dt.date(2026, 10, 1), dt.date(2026, 11, 1))

    def within(day: Any) -> bool:
        return day is not None and month[0] <= dt.date.fromisoformat(str(day)[:10]) < month[1]

    assert projects["starts"] == sum(within(r["actual_start"]) for r in rows)
    assert projects["completions"] == sum(within(r["actual_end"]) for r in rows)
    assert projects["by_stage"] == dict(Counter(r["stage"] for r in rows))
    assert report["comparison"][0]["previous"] == 1  # WL-2026-0004 started in September


async def test_complaints(report: dict[str, Any]) -> None:
    c = report["sections"]["complaints"]
    assert c["total"] == 5
    assert c["by_type"] == {"noise": 3, "dust": 2}
    assert c["answered"] == 2 and c["sla_due"] == 3 and c["on_time"] == 1
    assert c["on_time_rate"] == pytest.approx(0.3333)
    assert c["satisfaction_rate"] == 0.5 and c["reopened"] == 1 and c["reopen_rate"] == 0.5
    assert c["response_hours"]["median"] == 26.0
    rows = [r for r in await _rows("SELECT * FROM complaint") if START <= _moment(r["created_at"]) < END]
    assert c["total"] == len(rows)
    assert c["by_town"] == dict(Counter(r["town"] for r in rows).most_common())
    assert c["answered"] == sum(r["answered_at"] is not None for r in rows)
    reopened = {
        r["complaint_id"]
        for r in await _rows("SELECT complaint_id FROM complaint_event WHERE action = 'reopen'")
    }
    assert c["reopened"] == len(reopened & {r["id"] for r in rows})


async def test_alarms(report: dict[str, Any]) -> None:
    a = report["sections"]["alarms"]
    assert a["total"] == 4
    assert a["by_severity"] == {"warning": 2, "critical": 1, "major": 1}
    assert a["repeat_offenders"] == [{"site_code": "WL-2026-0001-S1", "alarms": 3}]
    assert a["ack_minutes"]["median"] == 20.0 and a["acknowledged"] == 2
    rows = [r for r in await _rows("SELECT * FROM alert_alarm") if START <= _moment(r["raised_at"]) < END]
    assert a["by_site"] == dict(Counter(r["site_code"] for r in rows).most_common())
    assert a["by_type"] == dict(Counter(r["alarm_type"] for r in rows))


async def test_approvals(report: dict[str, Any]) -> None:
    a = report["sections"]["approvals"]
    departments = {row["key"]: row for row in a["by_department"]}
    assert departments["development"]["mean_working_days"] == 2.0
    assert departments["development"]["on_time_rate"] == 1.0
    assert departments["planning"]["decided"] == 2
    assert departments["planning"]["mean_working_days"] == 7.0  # (4 + (11 - 1 paused)) / 2
    assert departments["planning"]["on_time_rate"] == 0.5
    stages = {row["key"]: row for row in a["by_stage"]}
    assert stages["land_use_planning"]["mean_working_days"] == 4.0
    assert stages["land_use_planning"]["legal_limit_days"] == 20
    assert stages["construction_planning"]["on_time"] == 0
    assert a["decided"] == 2 and a["on_time_rate"] == 0.5
    rows = await _rows("SELECT status, decided_at FROM approval_review_task")
    decided = [r for r in rows if r["decided_at"] and START <= _moment(r["decided_at"]) < END]
    assert a["tasks_decided"] == len(decided)


async def test_credit(report: dict[str, Any]) -> None:
    c = report["sections"]["credit"]
    assert c["grades"]["A"] == 1 and c["grades"]["C"] == 1
    assert c["previous_grades"]["B"] == 2
    assert c["upgrades"] == 1 and c["downgrades"] == 1
    assert {(t["from"], t["to"]) for t in c["transitions"]} == {("B", "A"), ("B", "C")}
    rows = await _rows("SELECT subject_id, category, effective_on FROM credit_record")
    in_month = [r for r in rows if "2026-10-01" <= str(r["effective_on"])[:10] < "2026-11-01"]
    assert c["records_by_category"] == dict(Counter(r["category"] for r in in_month))
    assert {r["subject_id"] for r in rows} == {E1, E2}


async def test_emergencies(report: dict[str, Any]) -> None:
    e = report["sections"]["emergencies"]
    assert e["total"] == 2 and e["deaths"] == 1 and e["serious_injuries"] == 3
    assert e["reported_within_1h"] == 1 and e["reported_within_1h_rate"] == 0.5
    assert e["by_type"] == {"crane_collapse": 1, "fall_from_height": 1}


async def test_transparency_and_comparison(report: dict[str, Any]) -> None:
    t = report["sections"]["transparency"]
    towns = {row["town"]: row for row in t["towns"]}
    assert towns["城东街道"]["dust_compliant_hours"] == 1 and towns["城东街道"]["dust_hours"] == 2
    assert towns["泽国镇"]["dust_compliance_rate"] == 1.0
    assert t["dust_compliance_rate"] == pytest.approx(0.6667)
    assert towns["城东街道"]["complaint_response_rate"] == 1.0
    assert towns["泽国镇"]["complaints"] == 2 and towns["泽国镇"]["complaint_response_rate"] == 0.0
    comparison = {row["key"] + "@" + row["section"]: row for row in report["comparison"]}
    assert comparison["total@complaints"]["previous"] == 1 and comparison["total@complaints"]["delta"] == 4
    assert comparison["total@complaints"]["trend"] == "worse"
    assert comparison["total@alarms"]["previous"] == 1


async def test_public_view_has_no_personal_data(database: str) -> None:
    await seed_all()
    data = await public_transparency(parse_period("2026-10"), deployed_report_env())
    text = repr(data)
    assert "oOpenid" not in text and "13800000000" not in text and "T0000" not in text
    assert {row["town"] for row in data["towns"]} == {"城东街道", "泽国镇"}
