"""Camera alarms clear by themselves: after N clean inferences in a row (the vision worker reports
each one through ``report_clean``), or T minutes after the last report (``clear_quiet_camera_alarms``,
run periodically). N and T come from the ``camera:`` section of config/alert_rules.yml."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from tortoise.expressions import F

from domain.alerts import messages, services
from domain.alerts.models import Alarm
from domain.alerts.rules import AlarmAction, CameraClearPolicy, active_key, camera_clear_due
from domain.ports import EventBus

log = logging.getLogger(__name__)


async def report_clean(
    *, bus: EventBus, source: str, alarm_type: str, at: dt.datetime, policy: CameraClearPolicy
) -> int | None:
    """A camera inference that no longer sees the violation. The alarm clears after
    ``policy.clean_inferences`` of them in a row (a new report of the violation resets the count)."""
    alarm = await Alarm.filter(active_key=active_key(source, alarm_type)).first()
    if alarm is None:
        return None
    await Alarm.filter(id=alarm.id, active_key__isnull=False).update(clean_count=F("clean_count") + 1)
    await alarm.refresh_from_db()
    if not camera_clear_due(
        clean_count=alarm.clean_count, last_seen_at=alarm.last_seen_at, now=at, policy=policy
    ):
        return None
    return await services.close(
        bus, alarm, action=AlarmAction.CLEAR, actor="system", at=at, note="画面已恢复正常"
    )


async def clear_quiet_camera_alarms(
    *, bus: EventBus, now: dt.datetime, policy: CameraClearPolicy
) -> list[int]:
    """Camera alarms nobody has reported for ``policy.quiet`` clear by themselves (the camera went
    quiet, or its worker moved): run periodically."""
    quiet = await Alarm.filter(
        active_key__isnull=False,
        alarm_type__in=sorted(messages.CAMERA_TYPES),
        last_seen_at__lte=now - policy.quiet,
    )
    return [
        await services.close(
            bus, alarm, action=AlarmAction.CLEAR, actor="system", at=now, note="持续无新识别，自动解除"
        )
        for alarm in quiet
    ]


async def run_camera_housekeeping(
    *, bus: EventBus, policy: CameraClearPolicy, interval_s: float = 30.0
) -> None:
    """The periodic half of the self-clear: returns only when cancelled."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            cleared = await clear_quiet_camera_alarms(bus=bus, now=dt.datetime.now(dt.UTC), policy=policy)
        except Exception:
            # A database hiccup: the next pass tries again; the error is logged with its stack.
            log.exception("clearing quiet camera alarms failed")
            continue
        if cleared:
            log.info("camera alarms cleared after %s without a report: %s", policy.quiet, cleared)
