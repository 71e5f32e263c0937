"""The console's evidence panel and package download: an alarm is committed, relayed from the event
outbox, logged, sequenced and checkpointed by the functions the evidence workers run, then staff see
"已存证" on its page and download a package that verifies offline."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import httpx

from adapters.memory import MemoryEventBus
from domain.events import DomainEvent, consume_once
from domain.evidence import events as evidence_events
from domain.evidence.package import verify_package
from domain.evidence.rules import LOGGED_EVENTS
from domain.outbox import services as outbox
from tests.console.conftest import running_console
from tests.console.helpers import file_complaint, login, raise_alarm


def client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=str(app.ctx.http.base_url), timeout=30)


async def log_everything(app: Any) -> None:
    """One pass of the relay, the evidence consumer and the log writer, with the app's own keys."""
    config, now = app.ctx.evidence, dt.datetime.now(dt.UTC)
    bus = MemoryEventBus()
    for name in LOGGED_EVENTS:
        await bus.ensure_group(f"events.{name}", "evidence")
    relayed = await outbox.relay_once(bus, batch=500, now=now)
    while relayed:
        relayed = await outbox.relay_once(bus, batch=500, now=now)

    async def handle(event: DomainEvent) -> int | None:
        return await evidence_events.handle_event(event, media=app.ctx.media, salt=config.salt, now=now)

    handled = 1
    while handled:
        handled = await consume_once(
            bus, group="evidence", consumer="test", event_names=LOGGED_EVENTS, handle=handle
        )
    await evidence_events.write_once(
        batch_size=config.batch_size, signer=config.signer, origin=config.origin, sign=True, now=now
    )


async def test_staff_see_an_alarms_evidence_and_download_a_package_that_verifies(
    db_url: str, console_data_dir: Path
) -> None:
    async with running_console(db_url, console_data_dir) as app, client(app) as http:
        alarm_id = await raise_alarm()
        ticket_no = await file_complaint()
        anonymous = await http.get(f"/console/evidence/alarm/{alarm_id}/package")
        assert anonymous.status_code == 303  # to the login page: no package without a session
        assert (await login(http, "housing1")).status_code == 303
        before = (await http.get(f"/console/alarms/{alarm_id}")).text
        assert "未存证" in before and "下载证据包" not in before
        await log_everything(app)
        page = (await http.get(f"/console/alarms/{alarm_id}")).text
        assert "已存证" in page and "产生" in page, page[-1500:]
        link = re.search(r'href="(/console/evidence/alarm/[^"]+/package)"', page)
        assert link is not None
        download = await http.get(link.group(1))
        assert download.status_code == 200
        assert download.headers["content-type"] == "application/zip"
        report = verify_package(download.content, verifier=app.ctx.evidence.signer.verifier)
        assert report.ok, report
        # A complaint's page carries the same panel (filed, not yet replied: nothing logged yet).
        ticket = await http.get(f"/console/complaints/{ticket_no}")
        assert ticket.status_code == 200 and "存证" in ticket.text and "未存证" in ticket.text
        missing = await http.get("/console/evidence/nothing/1/package")
        assert missing.status_code == 400 and "<html" in missing.text.lower()
