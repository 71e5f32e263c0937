"""The periodic SLA pass: reminders to the reviewers of due-soon and overdue tasks, through the outbox.

Safe to run in several processes at once: each reminder's idempotency key (task, state, Shanghai day,
reviewer) makes the outbox keep one message, so no leader election is needed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from pathlib import Path
from typing import Any, Protocol

from domain.accounts.services import openids_of_departments
from domain.approvals.catalogue import load_catalogue
from domain.approvals.reviews import send_reminders
from domain.approvals.services import ApprovalsEnv
from domain.calendar.rules import load_calendar

log = logging.getLogger(__name__)

REMINDER_INTERVAL_S = 15 * 60


class ReminderRuntime(Protocol):
    """The slice of ``config.container.Runtime`` this worker uses."""

    @property
    def infra(self) -> Any: ...

    @property
    def media(self) -> Any: ...

    @property
    def settings(self) -> Any: ...


async def department_reviewers(department: str) -> list[str]:
    """Openids of the active staff of a department who bound WeChat."""
    return (await openids_of_departments([department]))[department]


async def run_reminders(
    runtime: ReminderRuntime, *, config_dir: Path, interval_s: float = REMINDER_INTERVAL_S
) -> None:
    """Runs until cancelled: one pass now, then one every ``interval_s``."""
    catalogue, calendar = await asyncio.to_thread(
        lambda: (
            load_catalogue(config_dir / "approvals.yml"),
            load_calendar(config_dir / "calendar_overrides.yml"),
        )
    )
    env = ApprovalsEnv(
        catalogue=catalogue,
        calendar=calendar,
        media=runtime.media,
        bus=runtime.infra.bus,
        max_file_bytes=runtime.settings.media_max_bytes,
    )
    while True:
        try:
            queued = await send_reminders(env, now=dt.datetime.now(dt.UTC), reviewers=department_reviewers)
            if queued:
                log.info("approval reminders queued: %s", queued)
        except Exception:
            # One bad pass (database blip, a year missing from the calendar) must not stop the next one.
            log.exception("approval reminder pass failed")
        await asyncio.sleep(interval_s)
