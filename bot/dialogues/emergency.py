"""``report_emergency``: an immediate passive reply with safety instructions and the 119/120 reminder,
an incident opened at once (the duty staff are told through the outbox), the location asked for when
unknown, and later messages of the same reporter added to the incident's timeline."""

from __future__ import annotations

import datetime as dt

from bot import messages
from bot.dialogue.frames import EmergencyFrame, FrameStatus
from bot.dialogue.types import IntentSpec, Reply, Turn
from domain.emergency import queries as emergency_queries
from domain.emergency import services as emergency
from domain.emergency.rules import IncidentReport, IncidentType, classify_incident_text

INTENT = "report_emergency"
FOLLOW_UP_WINDOW = dt.timedelta(hours=6)


def _incident_type(turn: Turn) -> IncidentType:
    entity = turn.parse.first("incident_type")
    if entity is not None and str(entity.value) in IncidentType.__members__.values():
        return IncidentType(str(entity.value))
    return classify_incident_text(turn.text)


async def _open(turn: Turn) -> Reply:
    lat, lng = turn.location if turn.location_is_new and turn.location else (None, None)
    place = turn.parse.first("location")
    message_key = turn.message.dedup_key if turn.message else f"{turn.openid}:{int(turn.now.timestamp())}"
    source_ref = f"wechat:{message_key}"
    report = IncidentReport(
        source="bot",
        source_ref=source_ref,
        incident_type=_incident_type(turn),
        title=(turn.text or "公众号紧急报告")[:100],
        description=turn.text,
        address=str(place.value) if place else "",
        lat=lat,
        lng=lng,
        occurred_at=turn.now,
        reporter_openid=turn.openid,
    )
    incident, _created = await emergency.report_incident(
        report,
        actor="citizen",
        duty_openids=await emergency.duty_openids(turn.deps.settings.admin_alert_openids),
    )
    # The code is set when the incident is created; an incident without one cannot take follow-ups.
    turn.state.put(
        EmergencyFrame(
            incident_code=incident.code or "",
            opened_at=turn.now.timestamp(),
            status=FrameStatus.OPEN if incident.code else FrameStatus.DONE,
        )
    )
    text = messages.EMERGENCY_ACK.format(code=incident.code)
    if lat is None:
        return Reply(text=text + messages.EMERGENCY_ASK_LOCATION, keep_open=True)
    return Reply(text=text, keep_open=True)


async def _follow_up(turn: Turn, code: str) -> Reply:
    if turn.location_is_new and turn.location:
        lat, lng = turn.location
        await emergency.update_incident(
            code, actor="reporter", now=turn.now, changes={"lat": lat, "lng": lng}
        )
        return Reply(text=messages.EMERGENCY_LOCATION_RECEIVED.format(code=code), keep_open=True)
    detail = await emergency_queries.detail(code)
    if detail["lat"] is None and not detail["address"] and turn.text:
        address = turn.text.strip()[:200]
        await emergency.update_incident(code, actor="reporter", now=turn.now, changes={"address": address})
        return Reply(
            text=messages.EMERGENCY_ADDRESS_RECEIVED.format(address=address, code=code), keep_open=True
        )
    await emergency.append_reporter_message(turn.openid, turn.text, now=turn.now, window=FOLLOW_UP_WINDOW)
    return Reply(text=messages.EMERGENCY_NOTE_RECEIVED.format(code=code), keep_open=True)


def _open_incident_code(turn: Turn) -> str | None:
    """The incident this reporter opened recently: their later messages belong to it."""
    recent = turn.state.frame(EmergencyFrame)
    if recent is None or turn.now.timestamp() - recent.opened_at > FOLLOW_UP_WINDOW.total_seconds():
        return None
    return recent.incident_code


async def report_emergency(turn: Turn) -> Reply:
    code = _open_incident_code(turn)
    if code is not None:
        return await _follow_up(turn, code)
    return await _open(turn)


DIALOGUES = (IntentSpec(intent=INTENT, handler=report_emergency),)
