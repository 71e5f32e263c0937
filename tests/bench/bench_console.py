"""Console pages at city scale: 50,000 complaints and 30,000 alarms in PostgreSQL.

- p50/p95/p99 of the complaint queue (page and htmx rows), the alarm list and the alarm map's GeoJSON
  layers, as a logged-in staff member (housing department) and as an admin (every department), each
  requested one after another (the figure is the server's time plus a localhost round trip);
- the public project page (what the official account links to) at a fixed 100 requests/s, against a
  bare Sanic endpoint at the same rate, plus both maximum throughputs (wrk) as a ratio.

Needs DATABASE_URL pointing at PostgreSQL (a separate ``wenling_bench_console`` database is created
on that server); without it the bench reports itself skipped. Prints one JSON line.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from config.container import close_database, init_tortoise, install_policies
from tests.bench.bench_projects import prepare_postgres
from tests.bench.load import bare_sanic, fixed_rate, percentile, wrk_throughput
from tests.live_server import live_server

COMPLAINTS = 50_000
ALARMS = 30_000
OPEN_COMPLAINTS = 0.04  # share of tickets still open: a city closes most within its deadline
ACTIVE_ALARMS = 0.03
SEQUENTIAL_REQUESTS = 150
PASSWORD = "Bench-Console-2026"
DEPARTMENTS = ("housing", "environment", "urban_management", "transport")
NUISANCE_TYPES = ("construction_noise", "night_noise", "dust", "traffic_blocking", "debris")
ALARM_TYPES = ("dust_pm10_1h", "noise_leq", "crane_overload", "device_offline", "no_hardhat")


async def _seed(url: str, data_dir: Path) -> tuple[str, list[str]]:
    """Demo city, then bulk tickets and alarms spread over a year; returns a project code and the
    site codes."""
    from tortoise.migrations.api import migrate  # noqa: PLC0415

    from config.database import tortoise_config  # noqa: PLC0415
    from config.seed import seed_demo_data  # noqa: PLC0415
    from domain.accounts.models import Account  # noqa: PLC0415
    from domain.accounts.rules import Role, hash_password  # noqa: PLC0415
    from domain.alerts.models import Alarm  # noqa: PLC0415
    from domain.alerts.rules import AlarmState, Severity, active_key  # noqa: PLC0415
    from domain.complaints.models import Complaint  # noqa: PLC0415
    from domain.complaints.rules import State  # noqa: PLC0415
    from domain.projects.models import Site  # noqa: PLC0415

    await install_policies()
    await migrate(config=tortoise_config(url))
    await close_database()
    await init_tortoise(url)
    await seed_demo_data(data_dir)
    password = hash_password(PASSWORD)
    await Account.create(username="bench_admin", role=Role.ADMIN, password_hash=password)
    await Account.create(
        username="bench_housing", role=Role.STAFF, department="housing", password_hash=password
    )
    sites = await Site.all().prefetch_related("project")
    rng = random.Random(20261206)
    now = dt.datetime.now(dt.UTC)
    complaints = []
    for index in range(COMPLAINTS):
        site = rng.choice(sites)
        created = now - dt.timedelta(minutes=rng.uniform(10, 365 * 24 * 60))
        is_open = rng.random() < OPEN_COMPLAINTS
        state = (
            rng.choice((State.SUBMITTED, State.DISPATCHED, State.IN_PROGRESS)) if is_open else State.CLOSED
        )
        complaints.append(
            Complaint(
                ticket_no=f"B{index:09d}",
                state=state,
                nuisance_type=rng.choice(NUISANCE_TYPES),
                category="nuisance",
                description=f"第{index}号投诉：工地噪声扰民",
                address=site.name,
                lat=site.lat,
                lng=site.lng,
                channel="wechat",
                site_code=site.code,
                project_code=site.project.code,
                department=rng.choice(DEPARTMENTS),
                sla_started_at=created,
                due_at=created + dt.timedelta(days=rng.choice((1, 5, 20))),
                closed_at=None if is_open else created + dt.timedelta(days=2),
                created_at=created,
                updated_at=created,
            )
        )
    await Complaint.bulk_create(complaints, batch_size=2000)
    alarms = []
    for index in range(ALARMS):
        site = rng.choice(sites)
        raised = now - dt.timedelta(minutes=rng.uniform(1, 365 * 24 * 60))
        alarm_type = rng.choice(ALARM_TYPES)
        source = f"BENCH{index:06d}"
        active = rng.random() < ACTIVE_ALARMS
        alarms.append(
            Alarm(
                source=source,
                alarm_type=alarm_type,
                active_key=active_key(source, alarm_type) if active else None,
                state=AlarmState.RAISED if active else AlarmState.RESOLVED,
                severity=rng.choice((Severity.WARNING, Severity.MAJOR)),
                site_code=site.code,
                project_code=site.project.code,
                value=180.0,
                limit=150.0,
                message="PM10 小时均值 180 µg/m³",
                raised_at=raised,
                last_seen_at=raised,
                closed_at=None if active else raised + dt.timedelta(hours=1),
            )
        )
    await Alarm.bulk_create(alarms, batch_size=2000)
    project_code = sites[0].project.code
    codes = [site.code for site in sites]
    await close_database()
    return project_code, codes


async def _login(client: httpx.AsyncClient, username: str) -> None:
    page = await client.get("/console/login")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    answer = await client.post(
        "/console/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token, "next": "/console/complaints"},
    )
    if answer.status_code not in (302, 303):
        raise RuntimeError(f"console login for {username} answered {answer.status_code}")


async def _sequential(client: httpx.AsyncClient, paths: list[str]) -> dict[str, float]:
    latencies: list[float] = []
    for path in paths:
        started = time.perf_counter()
        response = await client.get(path)
        latencies.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
    return {
        "p50_ms": round(statistics.median(latencies), 2),
        "p95_ms": round(percentile(latencies, 0.95), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
    }


async def _console_pages(base_url: str, site_codes: list[str]) -> dict[str, object]:
    rng = random.Random(5)
    pages: dict[str, Callable[[], str]] = {
        "complaint_queue": lambda: "/console/complaints/",
        "complaint_queue_rows_filtered": lambda: (
            f"/console/complaints/rows?state=submitted&page={rng.randint(1, 3)}"
        ),
        "alarm_list": lambda: "/console/alarms",
        "alarm_rows_by_site": lambda: f"/console/alarms/rows?site_code={rng.choice(site_codes)}",
        "map_sites": lambda: "/console/geo/sites",
        "map_active_alarms": lambda: "/console/geo/active_alarms",
        "map_open_complaints": lambda: "/console/geo/open_complaints",
    }
    report: dict[str, object] = {}
    for username in ("bench_housing", "bench_admin"):
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            await _login(client, username)
            figures: dict[str, object] = {}
            for name, make in pages.items():
                print(f"console bench: {username} {name}", file=sys.stderr, flush=True)
                await _sequential(client, [make() for _ in range(5)])  # warm-up
                figures[name] = await _sequential(client, [make() for _ in range(SEQUENTIAL_REQUESTS)])
            report[username.removeprefix("bench_")] = figures
    return report


def main() -> dict[str, object]:
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        report: dict[str, object] = {"bench": "console", "skipped": "DATABASE_URL is not PostgreSQL"}
        print(json.dumps(report))
        return report
    with tempfile.TemporaryDirectory() as scratch:
        url = asyncio.run(prepare_postgres(database_url, name="wenling_bench_console"))
        started = time.perf_counter()
        project_code, site_codes = asyncio.run(_seed(url, Path(scratch)))
        report = {
            "bench": "console",
            "complaints": COMPLAINTS,
            "alarms": ALARMS,
            "seed_s": round(time.perf_counter() - started, 1),
            "load_avg_1m_before": round(os.getloadavg()[0], 2),
        }
        env = {"DATABASE_URL": url, "SEED_DEMO_DATA": "false", "REDIS_URL": "", "MQTT_URL": ""}
        with live_server(Path(scratch), command="serve", env=env) as app_url:
            report["console"] = asyncio.run(_console_pages(app_url, site_codes))
            public = f"/p/projects/{project_code}"
            report["public_project_100rps"] = asyncio.run(
                fixed_rate(app_url, lambda _rng: public, rate=100, seconds=10)
            )
            public_rps = wrk_throughput(app_url + public)
        with bare_sanic(1) as bare_url:
            report["bare_100rps"] = asyncio.run(fixed_rate(bare_url, lambda _rng: "/", rate=100, seconds=10))
            bare_rps = wrk_throughput(bare_url + "/")
        report["public_project_max_rps"] = round(public_rps, 1)
        report["bare_max_rps"] = round(bare_rps, 1)
        report["public_to_bare_ratio"] = round(public_rps / bare_rps, 3)
        report["load_avg_1m_after"] = round(os.getloadavg()[0], 2)
    print(json.dumps(report, ensure_ascii=False))
    return report


if __name__ == "__main__":
    main()
    sys.exit(0)
