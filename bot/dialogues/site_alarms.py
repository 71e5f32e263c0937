"""Site managers handle their alarms in WeChat: acknowledge ("收到", "确认告警 193"), resolve ("已整改"
with a note, then a photo of the fix) and list them ("我的告警").

The alarm notification pushed to a manager is a pending frame: a bare "收到" answers the latest open
alarm of their sites. Only managers bound to a site get here; everyone else's "收到" goes on to the NLU.
The alerts context decides (``domain.alerts.services``); this module only parses and renders.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

from bot.dialogue.frames import AlarmFixQuestion
from bot.dialogue.types import Reply, Turn
from domain.alerts import bindings, services
from domain.alerts.queries import AlarmQuery, list_alarms
from domain.errors import DomainError

SHANGHAI = ZoneInfo("Asia/Shanghai")
PRIORITY = 10  # before ratings, paging and the FAQ: a manager's "收到" is never small talk
FIX_TTL_S = 30 * 60
MAX_LISTED = 5

ACK_RE = re.compile(
    r"^(?:收到|已收到|知道了|确认|确认告警|告警确认|确认收到)[，, ]*(?:告警)?\s*(\d{1,10})?[。！!]?$"
)
RESOLVE_RE = re.compile(r"^(?:告警\s*(\d{1,10})\s*)?(?:已整改|整改完成|已处理|处理完毕|已经整改)")
LIST_RE = re.compile(r"^(?:我的告警|告警列表|查看告警|查告警|有什么告警|未处理的告警)[?？]?$")
ID_RE = re.compile(r"\d{1,10}")

ACKED = "已确认告警 {id}（{site} {label}）。整改后请回复“已整改”并附现场照片。"
ASK_PHOTO = "好的，请发送告警 {id}（{site} {label}）整改后的现场照片，收到照片后即完成处理。"
RESOLVED = "告警 {id}（{site} {label}）已处理，整改说明和照片已记录。"
NO_OPEN = "您绑定的工地目前没有待处理的告警。"
NOT_BOUND = "您还没有绑定工地，无法处理告警。请扫描项目部提供的绑定二维码，或回复“绑定工地”。"
LIST_HEAD = "您工地的待处理告警："
LIST_LINE = "\n{id}. {site} {label}（{state}，{time}）"
LIST_FOOT = "\n回复“确认告警 编号”确认，整改后回复“已整改”并附照片。"
STATE_LABELS = {"raised": "待确认", "acknowledged": "已确认，待整改"}
FAILED = {
    "alarm_not_found": "没有找到该告警，请核对编号。",
    "site_not_bound": "该告警不属于您绑定的工地。",
    "invalid_alarm_transition": "该告警已处理或已恢复，无需再操作。",
}
FAILED_OTHER = "操作未成功，请稍后再试。"


def _time(value: str) -> str:
    return dt.datetime.fromisoformat(value).astimezone(SHANGHAI).strftime("%m月%d日 %H:%M")


async def _open_alarms(sites: list[str]) -> list[dict[str, Any]]:
    page = await list_alarms(AlarmQuery(site_codes=tuple(sites), open_only=True, page_size=20))
    return list(page["items"])


async def _target(turn: Turn, sites: list[str], wanted: str | None) -> dict[str, Any] | None:
    """The alarm named by number, else the latest open one of the manager's sites."""
    if wanted:
        return await services.alarm_detail(int(wanted), openid=turn.openid)
    alarms = await _open_alarms(sites)
    return alarms[0] if alarms else None


async def handle_alarm_text(turn: Turn) -> Reply | None:
    text = turn.text.strip()
    ack, resolve, listing = ACK_RE.match(text), RESOLVE_RE.match(text), LIST_RE.match(text)
    if not (ack or resolve or listing) or (ack and turn.state.choices and not ack.group(1)):
        return None  # a "确认" answering the bot's own numbered question is not about alarms
    sites = await bindings.sites_of(turn.openid)
    if not sites:
        return Reply(NOT_BOUND) if listing or (ack and ack.group(1)) else None
    try:
        if listing:
            return Reply(await _listing(sites))
        return await _act(turn, sites, ack=ack, resolve=resolve, note=text)
    except DomainError as error:
        return Reply(FAILED.get(error.code, FAILED_OTHER))


async def _act(
    turn: Turn, sites: list[str], *, ack: re.Match[str] | None, resolve: re.Match[str] | None, note: str
) -> Reply:
    named = (ack or resolve).group(1) if (ack or resolve) else None  # type: ignore[union-attr]
    alarm = await _target(turn, sites, named)
    if alarm is None:
        return Reply(NO_OPEN)
    if ack:
        done = await services.acknowledge(alarm["id"], actor="wechat", openid=turn.openid, at=turn.now)
        return Reply(ACKED.format(id=done["id"], site=done["site_code"], label=done["label"]))
    return await _start_fix(turn, alarm, note=note)


async def _listing(sites: list[str]) -> str:
    alarms = await _open_alarms(sites)
    if not alarms:
        return NO_OPEN
    lines = [
        LIST_LINE.format(
            id=a["id"],
            site=a["site_code"],
            label=a["label"],
            state=STATE_LABELS.get(a["state"], a["state"]),
            time=_time(a["raised_at"]),
        )
        for a in alarms[:MAX_LISTED]
    ]
    return LIST_HEAD + "".join(lines) + LIST_FOOT


async def _start_fix(turn: Turn, alarm: dict[str, Any], *, note: str) -> Reply:
    """The fix needs a photo: if one came just before, resolve now; else wait for it (a frame)."""
    photo = next(iter(reversed(turn.state.evidence)), None)
    if photo is not None:
        turn.state.evidence = []
        return await _resolve(turn, alarm["id"], note=note, photo_ref=photo)
    turn.state.end_dialogue()
    asked_at = turn.now.timestamp()
    turn.state.ask(
        AlarmFixQuestion(
            alarm_id=int(alarm["id"]), note=note, asked_at=asked_at, expires_at=asked_at + FIX_TTL_S
        )
    )
    return Reply(ASK_PHOTO.format(id=alarm["id"], site=alarm["site_code"], label=alarm["label"]))


async def _resolve(turn: Turn, alarm_id: int, *, note: str, photo_ref: str) -> Reply:
    try:
        done = await services.resolve(
            alarm_id,
            bus=turn.deps.infra.bus,
            actor="wechat",
            openid=turn.openid,
            note=note,
            photo_ref=photo_ref,
            at=turn.now,
        )
    except DomainError as error:
        return Reply(FAILED.get(error.code, FAILED_OTHER))
    return Reply(RESOLVED.format(id=done["id"], site=done["site_code"], label=done["label"]))


async def fix_photo(turn: Turn, media_ref: str) -> Reply | None:
    """The photo the "已整改" frame waits for resolves the alarm."""
    pending = turn.state.waiting(AlarmFixQuestion, now=turn.now.timestamp())
    if pending is None:
        return None
    turn.state.answered(pending)
    return await _resolve(turn, pending.alarm_id, note=pending.note, photo_ref=media_ref)


INTERCEPTORS = (handle_alarm_text,)
PHOTO_HOOKS = (fix_photo,)
