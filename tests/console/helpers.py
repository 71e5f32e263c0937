"""Shared by the console tests: demo data written through the domain services, staff accounts with
passwords, and a browser-like login over real HTTP (cookies, the login form's CSRF token)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

import httpx

from adapters.memory import MemoryEventBus
from domain.accounts.models import Account
from domain.accounts.rules import Role, hash_password
from domain.alerts import services as alerts
from domain.complaints import intake
from tests.integration.test_complaints_api import NEAR_A

PASSWORD = "Console-Pass-2026"
XSS_SCRIPT = "<script>window.__pwned=1</script>"
XSS_IMG = '"><img src=x onerror="window.__pwned=2">'


async def seed_staff() -> None:
    """housing1 exists already (seed_sites, no password): give it one; add environment and admin."""
    account = await Account.get(username="housing1")
    account.password_hash = hash_password(PASSWORD)
    await account.save()
    await Account.create(
        username="env1", role=Role.STAFF, department="environment", password_hash=hash_password(PASSWORD)
    )
    await Account.create(username="admin1", role=Role.ADMIN, password_hash=hash_password(PASSWORD))
    await Account.create(
        username="builder1", role=Role.ENTERPRISE, enterprise_uscc="91331081MA2XXXXX01",
        password_hash=hash_password(PASSWORD),
    )  # fmt: skip


async def file_complaint(
    *, description: str = "凌晨还在打桩", openid: str = "oCitizenConsole0001", **extra: Any
) -> str:
    new = intake.NewComplaint(
        nuisance_type="night_noise",
        description=description,
        channel="wechat",
        reporter_openid=openid,
        reporter_phone="13800000000",
        address="万昌中路",
        lat=NEAR_A[0],
        lng=NEAR_A[1],
    )
    complaint = await intake.submit(dataclasses.replace(new, **extra), now=dt.datetime.now(dt.UTC))
    return str(complaint.ticket_no)


async def raise_alarm(*, site_code: str = "WL-2026-0031-S1", source: str = "dust-001") -> int:
    return await alerts.raise_alarm(
        bus=MemoryEventBus(),
        source=source,
        alarm_type="dust_pm10_1h",
        severity="major",
        site_code=site_code,
        value=212.0,
        limit=150.0,
        message="PM10 小时均值 212 µg/m³",
        at=dt.datetime.now(dt.UTC),
    )


def form_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


async def login(http: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    page = await http.get("/console/login")
    return await http.post(
        "/console/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": form_token(page.text),
            "next": "/console/complaints",
        },
    )


async def seed_readings(*, site_code: str = "WL-2026-0031-S1", days: int = 7) -> None:
    """One hour of PM10 and noise per day for the last ``days`` days; the latest day over the limit."""
    from domain.alerts.models import MinuteAggregate  # noqa: PLC0415

    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    for back in range(days):
        minute = now - dt.timedelta(days=back)
        pm10 = 210.0 if back == 0 else 60.0 + 10 * back
        for metric, value in (("pm10", pm10), ("leq_db", 62.0)):
            await MinuteAggregate.create(
                site_code=site_code, device_code="dust-001", metric=metric, minute=minute, count=1,
                total=value, minimum=value, maximum=value, valid_count=1, valid_total=value,
            )  # fmt: skip
