"""Complaint dialogues of the official account.

- ``report_nuisance``: what (nuisance type), where (a location message or an address), when (the time
  expression, normalised by the NLU), an optional photo, then a confirmation and the ticket number.
- ``complaint_status``: the citizen's open tickets with state and due date; when one waits for a rating,
  the reply offers 1 满意 / 2 基本满意 / 3 不满意 (不满意 reopens the ticket).
- ``rating_in_context``: the rating question pushed after a staff reply is a pending frame
  (``RatingQuestion``): "不满意" or a bare "3" answers it in context.

WeChat location messages carry GCJ-02 (Tencent map) coordinates; the inbound handler converts them
to WGS-84 once, so ``turn.location`` is already in the datum tickets store.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from adapters.uploads import validate_image
from bot.dialogue.frames import ComplaintFrame, FrameStatus, RatingQuestion
from bot.dialogue.types import IntentSpec, Reply, SlotSpec, Turn
from domain.accounts.rules import mask_openid
from domain.complaints import intake, queries, routing, services
from domain.complaints.rules import AGENCY_NAMES, Rating, parse_rating
from domain.errors import DomainError, ValidationFailed
from domain.projects.services import project_details
from nlu.embedded.timeexpr import is_night, is_night_moment

if TYPE_CHECKING:
    from domain.complaints.models import Complaint

log = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")
REPORT = "report_nuisance"
STATUS = "complaint_status"
MEDIA_REF_RE = re.compile(r"^[0-9a-f]{64}\.(jpg|png)$")
DRAFT_TTL_S = 10 * 60
MAX_LISTED = 5
OTHER_TASK = 0.8

# --- the Chinese sentences of these dialogues -----------------------------------------------------
ASK_WHAT = (
    "请问您要反映哪类问题？回复序号或文字：\n1. 夜间施工噪声\n2. 白天施工噪声\n3. 扬尘\n4. 渣土车\n5. 其他"
)
ASK_WHERE = "请发送位置（点击“+”→“位置”），或告诉我具体地址，例如“万昌中路和锦屏路路口的工地”。"
ASK_WHEN = "请问是什么时候发生的？例如“昨晚11点”“凌晨2点”“刚才”。"
CONFIRM = (
    "请确认投诉内容：\n类型：{what}\n地点：{where}\n时间：{when}\n照片：{photos} 张\n"
    "如有现场照片可现在发送。回复 1 确认提交，2 取消。"
)
SITE_NOTE = "（将派给工地【{name}】，相距约 {meters} 米）"
ACCEPTED = "已受理，工单号 {ticket_no}。将由{agency}办理，预计 {due} 前答复您。回复“投诉进度”可随时查询。"
DUPLICATE_HINT = "附近已有相同问题的投诉，我们会合并办理。"
CANCELLED = "已取消本次投诉。"
NOT_FILED = "投诉未能提交：{reason}"
NO_TICKETS = "您目前没有办理中的投诉。如需反映施工扰民，请直接描述问题。"
TICKETS_HEAD = "您的投诉："
TICKET_LINE = "· {ticket_no} {what}：{state}（{due}）"
DUE_TEXT = "预计 {due} 前答复"
ANSWERED_TEXT = "已答复"
RATE_PROMPT = "工单 {ticket_no} 已答复：{reply}\n请评价：1 满意，2 基本满意，3 不满意。"
WHEN_NOW = "刚才"
WHERE_LOCATION = "已发送的位置"
ERROR_TEXT = {
    "invalid_complaint": "信息不完整，请补充问题描述和地点。",
    "ticket_not_found": "没有找到该工单。",
    "invalid_transition": "该工单当前状态不能进行此操作。",
    "ticket_changed": "工单状态刚刚发生变化，请稍后再试。",
}
WHAT_CHOICES = {"1": "night_noise", "2": "construction_noise", "3": "dust", "4": "muck_truck", "5": "other"}
WHAT_WORDS: tuple[tuple[str, str], ...] = (
    ("渣土", "muck_truck"),
    ("泥头车", "muck_truck"),
    ("土方车", "muck_truck"),
    ("扬尘", "dust"),
    ("灰尘", "dust"),
    ("粉尘", "dust"),
    ("尘土", "dust"),
    ("夜间", "night_noise"),
    ("半夜", "night_noise"),
    ("凌晨", "night_noise"),
    ("深夜", "night_noise"),
    ("晚上", "night_noise"),
    ("打桩", "construction_noise"),
    ("噪", "construction_noise"),
    ("吵", "construction_noise"),
    ("其他", "other"),
)
# The NLU's nuisance codes, in this context's terms.
NLU_NUISANCE = {
    "night_construction": "night_noise",
    "noise": "construction_noise",
    "dust": "dust",
    "muck_truck": "muck_truck",
    "road_damage": "other",
    "light": "other",
    "other": "other",
}
NOW_WORDS = ("刚才", "现在", "正在", "刚刚", "此刻", "一直")
CONFIRM_WORDS = frozenset({"确认", "确定", "提交", "是", "是的", "对", "好", "好的"})


def _draft(turn: Turn) -> ComplaintFrame | None:
    """At the confirmation step a new message re-runs the dialogue in the engine: a typed confirmation
    ("确认"), a location or a photo keeps every slot of the draft the message does not itself change."""
    draft = turn.state.frame(ComplaintFrame)
    if draft is None or turn.now.timestamp() - draft.drafted_at > DRAFT_TTL_S:
        return None
    # Only the dialogue that wrote it may use it: a report abandoned for another task is not resumed.
    return draft if draft.dialogue_started_at == turn.state.started_at else None


def _close_draft(turn: Turn, status: FrameStatus) -> None:
    draft = turn.state.frame(ComplaintFrame)
    if draft is not None:
        turn.state.put(draft.advance(status))


def extract_what(turn: Turn) -> str | None:
    said = _what_said(turn)
    if said is not None:
        return said
    drafted = _draft(turn)
    return drafted.nuisance_type if drafted is not None else None


def _what_said(turn: Turn) -> str | None:
    if turn.state.awaiting == "what" and turn.text in WHAT_CHOICES:
        return WHAT_CHOICES[turn.text]
    entity = turn.parse.first("nuisance_type")
    code = NLU_NUISANCE.get(str(entity.value)) if entity is not None else None
    if code is None:
        code = next((value for word, value in WHAT_WORDS if word in turn.text), None)
    when = turn.parse.first("time")
    at_night = when is not None and isinstance(when.value, dict) and is_night(when.value)
    return "night_noise" if code == "construction_noise" and at_night else code  # GB 12523: 22-06


def extract_where(turn: Turn) -> dict[str, Any] | None:
    if turn.location_is_new and turn.location is not None:
        lat, lng = turn.location  # WGS-84 already (converted once by the inbound handler)
        label = turn.message.label if turn.message is not None else ""
        return {"lat": lat, "lng": lng, "address": label[:200]}
    entity = turn.parse.first("location")
    if entity is not None:
        return {"address": (entity.text or str(entity.value))[:200]}
    if turn.state.awaiting == "where" and len(turn.text) >= 2 and not _another_task(turn):
        return {"address": turn.text[:200]}
    drafted = _draft(turn)
    return drafted.where() if drafted is not None else None


def _another_task(turn: Turn) -> bool:
    """The message is clearly about something else ("WL-2026-0019 什么时候完工"): not an address."""
    parse = turn.parse
    return parse.intent not in ("", REPORT, "nlu_fallback", "out_of_scope") and parse.confidence >= OTHER_TASK


def _iso_or_none(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=SHANGHAI)


def extract_when(turn: Turn) -> str | None:
    said = _when_said(turn)
    if said is not None:
        return said
    drafted = _draft(turn)
    return drafted.occurred_at if drafted is not None else None


def _when_said(turn: Turn) -> str | None:
    entity = turn.parse.first("time")
    if entity is not None and isinstance(entity.value, dict):
        start = _iso_or_none(entity.value.get("from"))
        if start is not None:
            return min(start, turn.now).astimezone(dt.UTC).isoformat()
    if any(word in turn.text for word in NOW_WORDS) or (turn.state.awaiting == "when" and turn.text):
        return turn.now.astimezone(dt.UTC).isoformat()
    return None


def _when_label(value: str) -> str:
    moment = _iso_or_none(value)
    return moment.astimezone(SHANGHAI).strftime("%m月%d日 %H:%M") if moment else WHEN_NOW


async def _photos(turn: Turn) -> tuple[str, ...]:
    """Photos the citizen sent in this dialogue, re-checked by content (never trust a stored ref blindly)."""
    media, settings = turn.deps.media, turn.deps.settings
    if media is None:
        return ()
    kept: list[str] = []
    for ref in turn.state.evidence:
        if not MEDIA_REF_RE.match(ref) or len(kept) >= intake.MAX_PHOTOS:
            continue
        try:
            data = await media.get(ref)
            await asyncio.to_thread(
                validate_image, data, max_bytes=settings.media_max_bytes, max_pixels=settings.media_max_pixels
            )
        except DomainError as error:
            log.warning(
                "photo %s dropped from a report of %s: %s", ref[:12], mask_openid(turn.openid), error.code
            )
            continue
        kept.append(ref)
    return tuple(kept)


async def report_nuisance(turn: Turn) -> Reply:
    what, where, when = turn.slots["what"], turn.slots["where"], turn.slots["when"]
    moment = _iso_or_none(when)
    if what == "construction_noise" and moment is not None and is_night_moment(moment):
        what = turn.slots["what"] = "night_noise"  # "工地太吵" then "昨晚11点": night work (GB 12523)
    if turn.choice == "cancel":
        _close_draft(turn, FrameStatus.CANCELLED)
        return Reply(CANCELLED)
    confirmed = turn.choice == "confirm" or (_draft(turn) is not None and turn.text in CONFIRM_WORDS)
    if _draft(turn) is not None and turn.text in CONFIRM_WORDS:
        turn.state.said = [text for text in turn.state.said if text not in CONFIRM_WORDS]
    if not confirmed:
        turn.state.put(_drafted(turn, what=what, where=where, when=when))
        policy = services.default_policy()
        text = CONFIRM.format(
            what=policy.nuisance(what).label,
            where=(where.get("address") or WHERE_LOCATION) + await _site_note(what, where),
            when=_when_label(when),
            photos=len(turn.state.evidence),
        )
        return Reply(text, keep_open=True, choices=((REPORT, "confirm"), (REPORT, "cancel")))
    _close_draft(turn, FrameStatus.DONE)
    return Reply(await _submit(turn, what=what, where=where, when=when))


def _drafted(turn: Turn, *, what: str, where: dict[str, Any], when: str) -> ComplaintFrame:
    lat, lng = where.get("lat"), where.get("lng")
    return ComplaintFrame(
        status=FrameStatus.CONFIRMING,
        nuisance_type=what,
        address=str(where.get("address", "")),
        lat=float(lat) if lat is not None else None,
        lng=float(lng) if lng is not None else None,
        occurred_at=when,
        drafted_at=turn.now.timestamp(),
        dialogue_started_at=turn.state.started_at,
    )


async def _site_note(what: str, where: dict[str, Any]) -> str:
    """Which site the ticket will go to, and how far: the citizen can correct a wrong place now."""
    lat, lng = where.get("lat"), where.get("lng")
    if lat is None or lng is None:
        return ""
    found = await routing.route(
        what,
        lat=float(lat),
        lng=float(lng),
        address=str(where.get("address", "")),
        policy=services.default_policy(),
    )
    if not found.project_code or found.distance_m is None:
        return ""
    try:
        name = str((await project_details(found.project_code))["name"])
    except DomainError:
        return ""
    return SITE_NOTE.format(name=name, meters=int(round(found.distance_m, -1)))


async def _submit(turn: Turn, *, what: str, where: dict[str, Any], when: str) -> str:
    occurred_at = _iso_or_none(when)
    # Only what the citizen said in this report, in their own words: never the chat before it.
    description = "；".join(text for text in turn.state.said if text not in CONFIRM_WORDS)[-500:]
    new = intake.NewComplaint(
        nuisance_type=what,
        description=description or services.default_policy().nuisance(what).label,
        channel="wechat",
        reporter_openid=turn.openid,
        address=str(where.get("address", ""))[:200],
        lat=where.get("lat"),
        lng=where.get("lng"),
        occurred_at=occurred_at.astimezone(dt.UTC) if occurred_at else None,
        photos=await _photos(turn),
    )
    try:
        complaint = await intake.submit(new, now=turn.now)
    except ValidationFailed as error:
        return NOT_FILED.format(reason=ERROR_TEXT.get(error.code, error.message))
    text = ACCEPTED.format(
        ticket_no=complaint.ticket_no,
        agency=AGENCY_NAMES.get(complaint.department, "相关部门"),
        due=complaint.due_at.astimezone(SHANGHAI).strftime("%m月%d日 %H:%M"),
    )
    return f"{text}\n{DUPLICATE_HINT}" if complaint.merge_candidates else text


# --- status and rating ----------------------------------------------------------------------------


async def rate_text(openid: str, ticket_no: str, rating: Rating, *, now: dt.datetime) -> str:
    """Rate; "" on success: the complaints context pushes the one thank-you (or the reopen notice)
    itself, so a passive reply would say it twice."""
    try:
        await services.rate(ticket_no, rating, openid=openid, now=now)
    except DomainError as error:
        return ERROR_TEXT.get(error.code, NOT_FILED.format(reason=error.message))
    return ""


RATING_QUESTION_TTL_S = 30 * 24 * 3600  # a staff reply's rating question, answered in context this long


async def rating_question(turn: Turn) -> RatingQuestion | None:
    """The rating question pushed after a staff reply, as the conversation's pending frame."""
    asked = await _rating_asked(turn)
    return asked[0] if asked else None


async def _rating_asked(turn: Turn) -> tuple[RatingQuestion, Complaint] | None:
    """The pending rating question and the ticket it is about.

    The push leaves another process (the outbox dispatcher), so the complaint record is the truth of
    whether a rating is awaited: the frame is refreshed from it here and dropped when the ticket was
    rated elsewhere (the mini-program) or closed."""
    held = turn.state.waiting(RatingQuestion, now=turn.now.timestamp())
    waiting = await services.awaiting_rating(turn.openid)
    if waiting is None:
        if held is not None:
            turn.state.answered(held)
        return None
    asked_at = waiting.answered_at.timestamp() if waiting.answered_at else 0.0
    question = RatingQuestion(
        ticket_no=waiting.ticket_no, asked_at=asked_at, expires_at=asked_at + RATING_QUESTION_TTL_S
    )
    if question.expired(turn.now.timestamp()):
        return None
    if question != held:
        turn.state.ask(question)
    return question, waiting


async def rating_in_context(turn: Turn) -> Reply | None:
    """A rating ("1", "不满意") answers the pending rating question. A bare number answers a numbered
    question the bot asked *after* the staff reply instead; a rating word never can."""
    rating = parse_rating(turn.text)
    if rating is None:
        return None
    question = await rating_question(turn)
    if question is None:
        return None
    numbered_since = turn.state.choices and question.asked_at <= turn.state.updated_at
    if numbered_since and turn.text.strip().isdigit():
        return None
    turn.state.choices = []
    turn.state.answered(question)
    return Reply(await rate_text(turn.openid, question.ticket_no, rating, now=turn.now))


async def complaint_status(turn: Turn) -> Reply:
    if turn.choice.startswith("rate:"):
        _, ticket_no, value = turn.choice.split(":", 2)
        return Reply(await rate_text(turn.openid, ticket_no, Rating(value), now=turn.now))
    asked = await _rating_asked(turn)
    rating = parse_rating(turn.text)
    if asked is not None and rating is not None:
        turn.state.answered(asked[0])
        return Reply(await rate_text(turn.openid, asked[0].ticket_no, rating, now=turn.now))
    tickets = await queries.list_mine(turn.openid, now=turn.now, open_only=True, limit=MAX_LISTED)
    if not tickets:
        return Reply(NO_TICKETS)
    lines = [TICKETS_HEAD, *(_line(ticket) for ticket in tickets)]
    if asked is None:
        return Reply("\n".join(lines))
    waiting = asked[1]
    lines.append(RATE_PROMPT.format(ticket_no=waiting.ticket_no, reply=waiting.last_reply[:200]))
    choices = tuple((STATUS, f"rate:{waiting.ticket_no}:{r.value}") for r in Rating)
    return Reply("\n".join(lines), keep_open=True, choices=choices)


def _line(ticket: dict[str, Any]) -> str:
    answered = ticket["state"] in ("replied", "follow_up")
    due = dt.datetime.fromisoformat(ticket["due_at"]).astimezone(SHANGHAI).strftime("%m月%d日")
    return TICKET_LINE.format(
        ticket_no=ticket["ticket_no"],
        what=ticket["nuisance_label"],
        state=ticket["state_label"],
        due=ANSWERED_TEXT if answered else DUE_TEXT.format(due=due),
    )


DIALOGUES = (
    IntentSpec(
        intent=REPORT,
        handler=report_nuisance,
        slots=(
            SlotSpec("what", prompt=ASK_WHAT, extract=extract_what),
            SlotSpec("where", prompt=ASK_WHERE, extract=extract_where, strict=True, kind=dict),
            SlotSpec("when", prompt=ASK_WHEN, extract=extract_when),
        ),
    ),
    IntentSpec(intent=STATUS, handler=complaint_status),
)
INTERCEPTORS = (rating_in_context,)
