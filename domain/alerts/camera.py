"""Camera alarms clear by themselves: after N clean inferences in a row (the vision worker reports
each one through ``report_clean``), or T minutes after the last report (``clear_quiet_camera_alarms``,
run periodically). N and T come from the ``camera:`` section of config/alert_rules.yml.

Also what the vision context's labelling loop reads of a camera alarm, and the verdict on its
timeline."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass

from tortoise.expressions import F

from domain.alerts import messages, services
from domain.alerts.models import Alarm, AlarmEvent
from domain.alerts.rules import AlarmAction, CameraClearPolicy, active_key, camera_clear_due
from domain.errors import Conflict, NotFound
from domain.ports import EventBus

log = logging.getLogger(__name__)
CAMERA_SOURCE_PREFIX = "camera:"


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


@dataclass(frozen=True, slots=True)
class CameraAlarm:
    """What the vision context needs to label a camera alarm's frame."""

    alarm_id: int
    camera_code: str
    alarm_type: str
    evidence_ref: str


async def camera_alarm(alarm_id: int) -> CameraAlarm:
    """The camera alarm ``alarm_id``; 404 when there is none, 409 when it is not a camera's."""
    alarm = await Alarm.filter(id=alarm_id).first() if 0 < alarm_id <= services.MAX_ID else None
    if alarm is None:
        raise NotFound(f"no alarm {alarm_id}", code="alarm_not_found")
    if alarm.alarm_type not in messages.CAMERA_TYPES or not alarm.source.startswith(CAMERA_SOURCE_PREFIX):
        raise Conflict("only a camera alarm has a frame to label", code="not_a_camera_alarm")
    if not alarm.evidence_ref:
        raise Conflict("this camera alarm kept no frame", code="no_frame_kept")
    return CameraAlarm(
        alarm.id, alarm.source.removeprefix(CAMERA_SOURCE_PREFIX), alarm.alarm_type, alarm.evidence_ref
    )


async def note_verdict(alarm_id: int, *, verdict: str, actor: str, note: str, at: dt.datetime) -> None:
    """The verdict on the alarm's timeline (``verdict_confirmed`` / ``verdict_rejected``)."""
    await AlarmEvent.create(alarm_id=alarm_id, kind=f"verdict_{verdict}"[:24], at=at, actor=actor, note=note)
