"""Benchmark: the monthly report (October 2026, with September for the comparison) over a year of
city-scale demo data, against the sum of the raw SQL aggregations it reconciles with.

Data (PostgreSQL only: a scratch database ``bench_reports_<pid>`` is created next to DATABASE_URL's
and dropped afterwards; no other database is touched):
- 900 projects with one site each, 1,000 enterprises with credit records, ~2,000 review tasks;
- 50,000 complaints over 12 months (5% reopened), ~30,000 alarms, 60 incidents;
- PM10 minute aggregates, thinned so the run stays under 90 s on a shared 2-core machine: one row per
  site and hour (count=60, i.e. 60 minute readings rolled up) in the two months the report reads, and
  one per 6 hours in the ten other months (``BENCH_THIN_HOURS`` changes that). Scale: BENCH_SITES,
  BENCH_COMPLAINTS.

Measured in the same run: ``report_s`` (``build_report``: both periods, every section),
``sql_s`` (the same indicators as plain GROUP BY / COUNT queries, both periods), their ratio, and the
peak Python heap (tracemalloc) and the process's max RSS. Prints one JSON line.
Run: ``DATABASE_URL=postgres://... .venv/bin/python -m tests.bench.bench_reports``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import random
import resource
import time
import tracemalloc
from pathlib import Path
from typing import Any

import asyncpg
from tortoise.migrations.api import migrate

from config.container import close_database, init_tortoise
from config.database import tortoise_config
from domain.projects.rules import uscc_check_char
from domain.reports.periods import parse_period
from domain.reports.services import build_report, deployed_report_env

SITES = int(os.environ.get("BENCH_SITES", "900"))
COMPLAINTS = int(os.environ.get("BENCH_COMPLAINTS", "50000"))
THIN_HOURS = int(os.environ.get("BENCH_THIN_HOURS", "6"))
YEAR_START = dt.datetime(2025, 11, 1, tzinfo=dt.UTC)
YEAR_END = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
DENSE_FROM = dt.datetime(2026, 9, 1, tzinfo=dt.UTC) - dt.timedelta(hours=8)
TOWNS = [
    "太平街道",
    "城东街道",
    "城西街道",
    "城北街道",
    "横峰街道",
    "泽国镇",
    "大溪镇",
    "松门镇",
    "箬横镇",
    "新河镇",
    "石塘镇",
]
FILLERS = {
    "character varying": "",
    "text": "",
    "integer": 0,
    "bigint": 0,
    "smallint": 0,
    "double precision": 0.0,
    "real": 0.0,
    "boolean": False,
    "jsonb": "{}",
    "json": "{}",
}


async def copy(connection: asyncpg.Connection, table: str, rows: list[dict[str, Any]]) -> None:
    """COPY rows in, filling NOT NULL columns they leave out (Tortoise defaults live in Python)."""
    info = await connection.fetch(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = $1",
        table,
    )
    given = set(rows[0])
    columns = [
        r["column_name"]
        for r in info
        if r["column_name"] != "id" and (r["column_name"] in given or r["is_nullable"] == "NO")
    ]
    now = dt.datetime.now(dt.UTC)
    fill = {
        r["column_name"]: FILLERS.get(r["data_type"], now if "timestamp" in r["data_type"] else now.date())
        for r in info
    }
    records = [tuple(row.get(c, fill[c]) for c in columns) for row in rows]
    await connection.copy_records_to_table(table, records=records, columns=columns)


def rand_time(
    rng: random.Random, start: dt.datetime = YEAR_START, end: dt.datetime = YEAR_END
) -> dt.datetime:
    return start + dt.timedelta(seconds=rng.uniform(0, (end - start).total_seconds()))


async def seed(connection: asyncpg.Connection, rng: random.Random) -> dict[str, int]:
    projects = [
        {
            "code": f"WL-2026-{n:04d}",
            "name": f"项目{n}",
            "kind": rng.choice(["residential", "municipal", "transport"]),
            "stage": rng.choice(["construction", "construction", "acceptance", "completed", "approval"]),
            "status": "active",
            "town": rng.choice(TOWNS),
            "address": "温岭",
            "lat": 28.3 + rng.random() / 5,
            "lng": 121.3 + rng.random() / 5,
            "actual_start": rand_time(rng).date(),
            "actual_end": rand_time(rng).date() if rng.random() < 0.2 else None,
        }
        for n in range(1, SITES + 1)
    ]
    await copy(connection, "project", projects)
    await connection.execute(
        "INSERT INTO site (code, project_id, name, lat, lng, active) SELECT code || "
        "'-S1', id, name, lat, lng, true FROM project"
    )
    sites = [f"{p['code']}-S1" for p in projects]
    town_of = {f"{p['code']}-S1": p["town"] for p in projects}
    complaints, events = [], []
    for n in range(COMPLAINTS):
        created = rand_time(rng)
        answered = created + dt.timedelta(hours=rng.expovariate(1 / 30)) if rng.random() < 0.9 else None
        site = rng.choice(sites)
        complaints.append(
            {
                "ticket_no": f"B{n:08d}",
                "state": "closed" if answered else "dispatched",
                "nuisance_type": rng.choice(["noise", "dust", "muck_truck", "other"]),
                "category": "complaint",
                "town": town_of[site],
                "site_code": site,
                "sla_started_at": created,
                "due_at": created + dt.timedelta(days=13),
                "answered_at": answered,
                "created_at": created,
                "updated_at": created,
                "rating": rng.choice(["satisfied", "basically_satisfied", "dissatisfied", ""]),
                "photos": "[]",
                "merge_candidates": "[]",
                "reminders_sent": "[]",
            }
        )
    await copy(connection, "complaint", complaints)
    ids = [r["id"] for r in await connection.fetch("SELECT id FROM complaint WHERE random() < 0.05")]
    events = [
        {
            "complaint_id": i,
            "action": "reopen",
            "from_state": "follow_up",
            "to_state": "reopened",
            "actor": "citizen",
            "at": YEAR_END,
        }
        for i in ids
    ]
    if events:
        await copy(connection, "complaint_event", events)
    alarms = []
    for n in range(SITES * 33):
        raised = rand_time(rng)
        alarms.append(
            {
                "source": f"DEV{n}",
                "alarm_type": rng.choice(["dust_pm10_1h", "noise_night", "crane_moment", "device_offline"]),
                "state": "cleared",
                "severity": rng.choice(["info", "warning", "major", "critical"]),
                "site_code": rng.choice(sites),
                "raised_at": raised,
                "last_seen_at": raised,
                "acknowledged_at": raised + dt.timedelta(minutes=rng.expovariate(1 / 12))
                if rng.random() < 0.8
                else None,
            }
        )
    await copy(connection, "alert_alarm", alarms)
    columns = [
        "site_code",
        "device_code",
        "metric",
        "minute",
        "count",
        "total",
        "minimum",
        "maximum",
        "valid_count",
        "valid_total",
    ]
    aggregates: list[tuple[Any, ...]] = []
    written = 0
    moment = YEAR_START - dt.timedelta(hours=8)
    while moment < YEAR_END:
        for site in sites:
            mean = rng.gauss(90, 40)
            aggregates.append(
                (site, f"D{site}", "pm10", moment, 60, mean * 60, 0.0, 0.0, 60, max(mean, 1) * 60)
            )
        moment += dt.timedelta(hours=1 if DENSE_FROM <= moment < YEAR_END else THIN_HOURS)
        if len(aggregates) >= 100_000 or moment >= YEAR_END:
            # In chunks: the generator should not dominate the process's memory.
            await connection.copy_records_to_table(
                "alert_minute_aggregate", records=aggregates, columns=columns
            )
            written += len(aggregates)
            aggregates = []
    usccs = [f"91331081MA{n:07d}" for n in range(1000)]
    usccs = [u + uscc_check_char(u) for u in usccs]
    await copy(
        connection,
        "credit_subject",
        [
            {"kind": "enterprise", "subject_id": u, "name": f"企业{u[-5:]}", "created_at": YEAR_END}
            for u in usccs
        ],
    )
    credit = []
    for n in range(5000):
        effective = rand_time(rng).date()
        bad = rng.random() < 0.7
        credit.append(
            {
                "subject_kind": "enterprise",
                "subject_id": rng.choice(usccs),
                "record_type": "dust_penalty" if bad else "award_county",
                "category": "dust_penalty" if bad else "award",
                "points": -5 if bad else 1,
                "effective_on": effective,
                "expires_on": effective + dt.timedelta(days=365),
                "status": "effective",
                "approved_on": effective,
                "source_ref": f"doc-{n}",
                "created_by": "bench",
            }
        )
    await copy(connection, "credit_record", credit)
    applications = []
    for n in range(1000):
        submitted = rand_time(rng)
        applications.append(
            {
                "code": f"SP{n:06d}",
                "project_code": rng.choice(projects)["code"],
                "enterprise_uscc": usccs[n],
                "stage": rng.choice(["land_use_planning", "construction_planning", "construction_permit"]),
                "status": "approved",
                "first_submitted_at": submitted,
                "decided_at": submitted + dt.timedelta(days=rng.randint(3, 40)),
                "due_at": submitted + dt.timedelta(days=28),
                "fields_data": "{}",
                "material_versions": "{}",
            }
        )
    await copy(connection, "approval_application", applications)
    await connection.execute(
        "INSERT INTO approval_review_task (application_id, department, is_lead, status, "
        "limit_days, started_at, due_at, "
        "paused_days, comment, correction_materials, decided_by, decided_at, created_at) "
        "SELECT id, d, d = 'planning', 'approved', 10, first_submitted_at, due_at, 0, "
        "'', '[]', '', decided_at - interval '1 day', "
        "first_submitted_at FROM approval_application, unnest(ARRAY['planning', 'development']) AS d"
    )
    await copy(
        connection,
        "incident",
        [
            {
                "incident_type": "fall_from_height",
                "status": "closed",
                "grade": 1,
                "title": "坠落",
                "source": "staff",
                "occurred_at": rand_time(rng),
                "reported_levels": "{}",
                "created_at": YEAR_END,
                "updated_at": YEAR_END,
            }
            for _ in range(60)
        ],
    )
    return {
        "sites": SITES,
        "complaints": COMPLAINTS,
        "alarms": len(alarms),
        "minute_aggregate_rows": written,
        "credit_records": len(credit),
        "applications": len(applications),
    }


RAW_SQL = [
    "SELECT stage, count(*) FROM project GROUP BY stage",
    "SELECT kind, count(*) FROM project GROUP BY kind",
    "SELECT town, count(*) FROM project GROUP BY town",
    "SELECT count(*) FILTER (WHERE actual_start >= $1::timestamptz::date AND "
    "actual_start < $2::timestamptz::date), "
    "count(*) FILTER (WHERE actual_end >= $1::timestamptz::date AND actual_end < "
    "$2::timestamptz::date) FROM project",
    "SELECT nuisance_type, town, count(*), count(answered_at), avg(extract(epoch "
    "FROM answered_at - created_at)), "
    "count(*) FILTER (WHERE answered_at <= due_at), count(*) FILTER (WHERE rating IN "
    "('satisfied', 'basically_satisfied')) "
    "FROM complaint WHERE created_at >= $1 AND created_at < $2 GROUP BY nuisance_type, town",
    "SELECT count(DISTINCT e.complaint_id) FROM complaint_event e JOIN complaint c ON c.id = e.complaint_id "
    "WHERE e.action = 'reopen' AND c.created_at >= $1 AND c.created_at < $2",
    "SELECT alarm_type, severity, site_code, count(*), avg(extract(epoch FROM acknowledged_at - raised_at)) "
    "FROM alert_alarm WHERE raised_at >= $1 AND raised_at < $2 GROUP BY alarm_type, severity, site_code",
    "SELECT department, count(*), count(*) FILTER (WHERE decided_at <= due_at) FROM approval_review_task "
    "WHERE decided_at >= $1 AND decided_at < $2 GROUP BY department",
    "SELECT stage, count(*), count(*) FILTER (WHERE decided_at <= due_at) FROM approval_application "
    "WHERE decided_at >= $1 AND decided_at < $2 GROUP BY stage",
    "SELECT subject_id, sum(points) FROM credit_record WHERE status = 'effective' "
    "AND effective_on <= $2::timestamptz::date "
    "AND expires_on > $2::timestamptz::date GROUP BY subject_id",
    "SELECT incident_type, grade, count(*), sum(deaths) FROM incident WHERE "
    "occurred_at >= $1 AND occurred_at < $2 GROUP BY 1, 2",
    "SELECT site_code, count(*) FILTER (WHERE m <= 150), count(*) FROM (SELECT "
    "site_code, sum(valid_total) / sum(valid_count) AS m "
    "FROM alert_minute_aggregate WHERE metric = 'pm10' AND minute >= $1 AND minute < $2 AND valid_count > 0 "
    "GROUP BY site_code, date_trunc('hour', minute)) h GROUP BY site_code",
]


async def raw_sql(connection: asyncpg.Connection, periods: list[tuple[dt.datetime, dt.datetime]]) -> float:
    started = time.perf_counter()
    for start, end in periods:
        for sql in RAW_SQL:
            params = (start, end) if "$1" in sql else (end,) if "$2" in sql else ()
            await connection.fetch(sql.replace("$2", "$1") if len(params) == 1 else sql, *params)
    return time.perf_counter() - started


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


async def main() -> dict[str, Any]:
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        return {"bench": "reports", "skipped": "needs DATABASE_URL (PostgreSQL)"}
    name = f"bench_reports_{os.getpid()}"
    server = base.rsplit("/", 1)[0]
    admin = await asyncpg.connect(f"{server}/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{server}/{name}"
    try:
        await migrate(config=tortoise_config(url))
        await close_database()
        connection = await asyncpg.connect(url)
        seed_started = time.perf_counter()
        sizes = await seed(connection, random.Random(7))
        await connection.execute("ANALYZE")
        seed_s = time.perf_counter() - seed_started
        period = parse_period("2026-10")
        windows = [
            (period.start_utc, period.end_utc),
            (period.previous().start_utc, period.previous().end_utc),
        ]
        await raw_sql(connection, windows)  # warm the cache for both sides alike
        sql_s = await raw_sql(connection, windows)
        await init_tortoise(url)
        env = deployed_report_env()
        rss_before = _rss_mb()
        tracemalloc.start()
        started = time.perf_counter()
        report = await build_report(period, env, now=YEAR_END)
        report_s = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        await close_database()
        await connection.close()
        return {
            "bench": "reports",
            "period": "2026-10",
            **sizes,
            "seed_s": round(seed_s, 1),
            "report_s": round(report_s, 3),
            "sql_s": round(sql_s, 3),
            "ratio_to_sql": round(report_s / sql_s, 2),
            "peak_python_heap_mb": round(peak / 2**20, 1),
            "rss_before_report_mb": rss_before,
            "rss_after_report_mb": _rss_mb(),
            "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "target_s": 30,
            "within_target": report_s <= 30,
            "complaints_in_month": report["sections"]["complaints"]["total"],
            "dust_compliance_rate": report["sections"]["transparency"]["dust_compliance_rate"],
        }
    finally:
        await close_database()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main()), ensure_ascii=False))
