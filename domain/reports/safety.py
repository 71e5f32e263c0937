"""Read-only indicator queries: alarms, credit, emergencies and the public transparency figures."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from tortoise import connections
from tortoise.functions import Count

from domain.alerts.models import Alarm
from domain.complaints.models import Complaint
from domain.credit.catalogue import Catalogue
from domain.credit.models import CreditRecord
from domain.credit.queries import enterprise_grades
from domain.emergency.models import Incident
from domain.projects.models import Project, Site
from domain.reports.periods import Period
from domain.reports.rules import counts, duration_summary, minutes_between, rate

REPEAT_OFFENDER_MIN_ALARMS = 3  # a site with this many alarms in one period is listed as a repeat offender
COUNTY_REPORT_LIMIT = dt.timedelta(hours=1)  # 生产安全事故报告和调查处理条例: county within 1 hour
TOP_SITES = 20


async def alarms_section(period: Period) -> dict[str, Any]:
    raised = Alarm.filter(raised_at__gte=period.start_utc, raised_at__lt=period.end_utc)
    rows = await raised.values_list("site_code", "raised_at", "acknowledged_at")
    ack_minutes = [minutes_between(at, ack) for _, at, ack in rows if ack is not None]
    by_site = Counter(site for site, _, _ in rows)
    repeat = [
        {"site_code": site, "alarms": n}
        for site, n in sorted(by_site.items(), key=lambda item: (-item[1], item[0]))
        if n >= REPEAT_OFFENDER_MIN_ALARMS
    ]
    by_type = await raised.annotate(n=Count("id")).group_by("alarm_type").values_list("alarm_type", "n")
    by_severity = await raised.annotate(n=Count("id")).group_by("severity").values_list("severity", "n")
    ack = duration_summary(ack_minutes)
    return {
        "total": len(rows),
        "by_type": counts(by_type),
        "by_severity": counts(by_severity),
        "by_site": dict(list(counts(by_site.items()).items())[:TOP_SITES]),
        "acknowledged": len(ack_minutes),
        "ack_minutes": ack,
        "median_ack_minutes": ack["median"],
        "repeat_offenders": repeat,
    }


def _distribution(rows: list[tuple[str, str, int, str, str, str]]) -> dict[str, str]:
    return {uscc: grade for uscc, _, _, grade, _, _ in rows}


async def credit_section(period: Period, *, catalogue: Catalogue) -> dict[str, Any]:
    """Enterprise grades at the end of this period and of the previous one, and who moved."""
    now = _distribution(await enterprise_grades(as_of=period.last, catalogue=catalogue))
    before = _distribution(await enterprise_grades(as_of=period.previous().last, catalogue=catalogue))
    order = [band.grade for band in catalogue.grades] + [catalogue.blacklist_grade.grade]
    rank = {grade: index for index, grade in enumerate(order)}
    transitions: Counter[tuple[str, str]] = Counter()
    for uscc, grade in now.items():
        old = before.get(uscc, grade)
        if old != grade:
            transitions[(old, grade)] += 1
    upgrades = sum(n for (old, new), n in transitions.items() if rank.get(new, 0) < rank.get(old, 0))
    added = CreditRecord.filter(
        effective_on__gte=period.first, effective_on__lt=period.end, status="effective"
    )
    by_category = await added.annotate(n=Count("id")).group_by("category").values_list("category", "n")
    return {
        "enterprises": len(now),
        "grades": {grade: sum(1 for g in now.values() if g == grade) for grade in order},
        "previous_grades": {grade: sum(1 for g in before.values() if g == grade) for grade in order},
        "upgrades": upgrades,
        "downgrades": sum(transitions.values()) - upgrades,
        "transitions": [
            {"from": old, "to": new, "count": n} for (old, new), n in sorted(transitions.items())
        ],
        "records_by_category": counts(by_category),
    }


async def emergencies_section(period: Period) -> dict[str, Any]:
    rows = await Incident.filter(
        occurred_at__gte=period.start_utc, occurred_at__lt=period.end_utc
    ).values_list(
        "incident_type",
        "grade",
        "status",
        "deaths",
        "serious_injuries",
        "direct_loss_yuan",
        "occurred_at",
        "reported_levels",
    )
    in_time = 0
    for *_, occurred_at, levels in rows:
        county = (levels or {}).get("county")
        if county and dt.datetime.fromisoformat(county) - occurred_at <= COUNTY_REPORT_LIMIT:
            in_time += 1
    return {
        "total": len(rows),
        "by_type": counts(Counter(str(row[0]) for row in rows).items()),
        "by_grade": counts(Counter(str(row[1]) for row in rows).items()),
        "by_status": counts(Counter(str(row[2]) for row in rows).items()),
        "deaths": sum(row[3] for row in rows),
        "serious_injuries": sum(row[4] for row in rows),
        "direct_loss_yuan": sum(row[5] for row in rows),
        "reported_within_1h": in_time,
        "reported_within_1h_rate": rate(in_time, len(rows)),
    }


async def site_towns() -> dict[str, str]:
    projects = dict(await Project.all().values_list("id", "town"))
    return {
        code: projects.get(project_id, "")
        for code, project_id in await Site.all().values_list("code", "project_id")
    }


_HOUR_BUCKET = {"postgres": "date_trunc('hour', minute)", "sqlite": "substr(minute, 1, 13)"}
_COMPLIANT_HOURS_SQL = (
    "SELECT site_code, SUM(CASE WHEN mean <= {p3} THEN 1 ELSE 0 END) AS ok, COUNT(*) AS hours FROM ("
    "SELECT site_code, SUM(valid_total) / SUM(valid_count) AS mean FROM alert_minute_aggregate "
    "WHERE metric = 'pm10' AND minute >= {p1} AND minute < {p2} AND valid_count > 0 "
    "GROUP BY site_code, {bucket}) AS hourly GROUP BY site_code"
)


def _bound(moment: dt.datetime, dialect: str) -> Any:
    # Tortoise stores SQLite datetimes as ISO text with the UTC offset; compare text with text.
    return moment if dialect == "postgres" else moment.isoformat(sep=" ")


async def compliant_hours(period: Period, *, limit: float) -> list[tuple[str, int, int]]:
    """(site, hours whose valid PM10 mean is within ``limit``, hours with valid data), in SQL:
    a month at city scale is ~670k site-hours, so only one row per site comes back."""
    connection = connections.get("default")
    dialect = "postgres" if connection.capabilities.dialect == "postgres" else "sqlite"
    # Numbered placeholders: the limit appears before the time bounds in the text.
    marks = ("$1", "$2", "$3") if dialect == "postgres" else ("?1", "?2", "?3")
    sql = _COMPLIANT_HOURS_SQL.format(p1=marks[0], p2=marks[1], p3=marks[2], bucket=_HOUR_BUCKET[dialect])
    bounds = [_bound(period.start_utc, dialect), _bound(period.end_utc, dialect), float(limit)]
    _, rows = await connection.execute_query(sql, bounds)
    return [(row["site_code"], int(row["ok"]), int(row["hours"])) for row in rows]


async def _dust_hours_by_town(period: Period, *, limit: float) -> dict[str, tuple[int, int]]:
    """(compliant hours, hours with valid data) per town; sites without a town count as 未填."""
    towns = await site_towns()
    hours: dict[str, tuple[int, int]] = {}
    for site, ok, n in await compliant_hours(period, limit=limit):
        town = towns.get(site, "") or "未填"
        before = hours.get(town, (0, 0))
        hours[town] = (before[0] + ok, before[1] + n)
    return hours


async def _complaints_by_town(period: Period) -> tuple[Counter[str], Counter[str]]:
    """(answered, total) answerable tickets per town created in the period."""
    complaints = (
        await Complaint.filter(created_at__gte=period.start_utc, created_at__lt=period.end_utc)
        .exclude(state__in=("merged", "not_accepted"))
        .values_list("town", "answered_at")
    )
    answered: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for town, answered_at in complaints:
        total[town or "未填"] += 1
        answered[town or "未填"] += answered_at is not None
    return answered, total


def _town_row(town: str, *, hours: tuple[int, int], answered: int, total: int) -> dict[str, Any]:
    ok, n = hours
    return {
        "town": town,
        "dust_compliant_hours": ok,
        "dust_hours": n,
        "dust_compliance_rate": rate(ok, n),
        "complaints": total,
        "complaints_answered": answered,
        "complaint_response_rate": rate(answered, total),
    }


async def transparency_section(period: Period, *, pm10_hour_limit: float) -> dict[str, Any]:
    """Public, per town: dust compliance (hours within the PM10 1-hour limit) and complaint response rate.

    Aggregates only: no ticket numbers, names, openids, phones or addresses.
    """
    hours = await _dust_hours_by_town(period, limit=pm10_hour_limit)
    answered, total = await _complaints_by_town(period)
    rows = [
        _town_row(town, hours=hours.get(town, (0, 0)), answered=answered[town], total=total[town])
        for town in sorted(set(hours) | set(total))
    ]
    return {
        "pm10_hour_limit": pm10_hour_limit,
        "dust_compliance_rate": rate(
            sum(row["dust_compliant_hours"] for row in rows), sum(row["dust_hours"] for row in rows)
        ),
        "complaint_response_rate": rate(sum(answered.values()), sum(total.values())),
        "towns": rows,
    }
