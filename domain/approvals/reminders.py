"""The periodic SLA pass: reminders to the reviewers of due-soon and overdue tasks, through the outbox.

Safe to run in several processes at once: each reminder's idempotency key (task, state, Shanghai day,
reviewer) makes the outbox keep one message, so no leader election is needed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Protocol

from domain.accounts.services import openids_of_departments
from domain.approvals.reviews import send_reminders
from domain.approvals.services import ApprovalsEnv

log = logging.getLogger(__name__)

REMINDER_INTERVAL_S = 15 * 60


class ReminderRuntime(Protocol):
    """The slice of ``config.container.Runtime`` this worker uses."""

    @property
    def approvals(self) -> ApprovalsEnv: ...


async def department_reviewers(department: str) -> list[str]:
    """Openids of the active staff of a department who bound WeChat."""
    return (await openids_of_departments([department]))[department]


async def run_reminders(runtime: ReminderRuntime, *, interval_s: float = REMINDER_INTERVAL_S) -> None:
    """Runs until cancelled: one pass now, then one every ``interval_s``."""
    env = runtime.approvals
    while True:
        try:
            queued = await send_reminders(env, now=dt.datetime.now(dt.UTC), reviewers=department_reviewers)
            if queued:
                log.info("approval reminders queued: %s", queued)
        except Exception:
            # One bad pass (database blip, a year missing from the calendar) must not stop the next one.
            log.exception("approval reminder pass failed")
        await asyncio.sleep(interval_s)
