"""Alerts dialogues: ``bind_site`` (a site manager binds with project code + one-time code, or scans a
``bind:<code>`` QR scene) and ``query_environment`` (the public environment summary of a site)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace

from bot.dialogue.frames import BindingFrame, EnvironmentFrame, FrameStatus
from bot.dialogue.types import IntentSpec, Reply, SlotSpec, Turn
from bot.keyword_nlu import PROJECT_CODE_RE
from domain.alerts import bindings, readings
from domain.alerts.rules import BINDING_CODE_ALPHABET, BINDING_CODE_LENGTH
from domain.errors import DomainError

# The user-facing sentences of these dialogues.
ASK_PROJECT = "请告诉我项目编号（如 WL-2026-0031）。"
ASK_CODE = "请输入住建局或建设单位提供的 8 位绑定码。"
BOUND = "绑定成功：您已绑定工地 {site}（项目 {project}），该工地的监测告警将通过微信通知您。"
BIND_FAILED = {
    "binding_code_used": "该绑定码已被使用，请联系发码人重新获取。",
    "binding_code_expired": "该绑定码已过期，请联系发码人重新获取。",
    "binding_code_not_found": "绑定码与项目编号不匹配，请核对后重试。",
    "invalid_binding_code": "绑定码应为 8 位字母和数字，请核对后重试。",
}
BIND_ERROR = "绑定未成功，请稍后再试或联系住建局。"
RETRY_CODE = "10 分钟内直接回复正确的 8 位绑定码即可重试，或回复“取消”。"
# The codes a citizen can correct by typing again: a typo, or a code the issuer then re-sends.
RETRYABLE = frozenset(
    {"binding_code_not_found", "invalid_binding_code", "binding_code_used", "binding_code_expired"}
)
BINDING_RETRY_S = 10 * 60  # as long as the engine waits for any other answer
ASK_SITE = "请告诉我要查询的项目编号（如 WL-2026-0031）。"
NO_SITE = "项目 {project} 暂无在建工地的监测数据。"
SUMMARY = (
    "【{name}】近1小时：PM10 {pm10}，PM2.5 {pm25}（微克/立方米），"
    "噪声 {noise} dB(A)；今日扬尘超标 {count} 次。"
)
NO_DATA = "暂无"

ENV_FOLLOW_UP_RE = re.compile(
    r"^(?:那|那么)?(?:噪声|噪音|扬尘|粉尘|pm10|pm2\.5|空气|环境)(?:呢|怎么样|情况呢?|多少)?[？?]?$",
    re.IGNORECASE,
)
PRONOUN_RE = re.compile(r"这个工地|这个项目|那个工地|该工地|它")
ENV_QUESTION_RE = re.compile(
    r"(?:扬尘|噪声|噪音|空气|环境|pm10|pm2\.5).{0,4}(?:怎么样|如何|情况|多少|呢)", re.IGNORECASE
)
COMPLAINT_CUE_RE = re.compile(r"太|很|特别|吵|呛|投诉|举报")
_CODE_RE = re.compile(rf"(?<![0-9A-Z])[{BINDING_CODE_ALPHABET}]{{{BINDING_CODE_LENGTH}}}(?![0-9A-Z])")


def _project_code(turn: Turn) -> str | None:
    """The project this message names (a code, or a project name the NLU resolved) overrides the one
    in context; only a message naming none ("扬尘怎么样") is about the last project."""
    entity = turn.parse.first("project_code")
    if entity is not None:
        return str(entity.value).upper()
    match = PROJECT_CODE_RE.search(turn.text.upper())
    if match:
        return match.group(0)
    named = turn.parse.first("project")
    if named is not None and PROJECT_CODE_RE.fullmatch(str(named.value).upper()):
        return str(named.value).upper()
    return turn.state.focus.project_code or None


def _binding_code(turn: Turn) -> str | None:
    text = PROJECT_CODE_RE.sub(" ", turn.text.upper())
    match = _CODE_RE.search(text)
    return match.group(0) if match else None


async def _try_bind(openid: str, code: str, *, project_code: str | None, now: dt.datetime) -> tuple[str, str]:
    """(reply, refusal code): the refusal code is "" once bound."""
    try:
        bound = await bindings.bind_site(openid=openid, code=code, project_code=project_code, at=now)
    except DomainError as error:
        return BIND_FAILED.get(error.code, BIND_ERROR), error.code
    return BOUND.format(site=bound["site_code"], project=bound["project_code"]), ""


async def _bind(openid: str, code: str, *, project_code: str | None, now: dt.datetime) -> str:
    return (await _try_bind(openid, code, project_code=project_code, now=now))[0]


async def _bind_in_frame(turn: Turn, frame: BindingFrame, code: str) -> Reply:
    """Bind with ``code`` for the frame's project; a refused code keeps the frame collecting, so the
    corrected code alone (next message) retries, and the project is not asked again."""
    text, refusal = await _try_bind(turn.openid, code, project_code=frame.project_code, now=turn.now)
    if refusal in RETRYABLE:
        turn.state.put(frame)
        return Reply(text=f"{text}\n{RETRY_CODE}")
    turn.state.put(frame.advance(FrameStatus.DONE if not refusal else FrameStatus.CANCELLED))
    return Reply(text=text)


async def bind_site(turn: Turn) -> Reply:
    frame = BindingFrame(project_code=turn.slots["project_code"], started_at=turn.now.timestamp())
    return await _bind_in_frame(turn, frame, turn.slots["code"])


async def binding_code_retry(turn: Turn) -> Reply | None:
    """The binding frame is collecting (its code was refused): a message that is only a code retries
    it; anything else leaves the frame to expire and is understood as usual."""
    frame = turn.state.frame(BindingFrame)
    if frame is None:
        return None
    if turn.now.timestamp() - frame.started_at > BINDING_RETRY_S:
        turn.state.put(frame.advance(FrameStatus.CANCELLED))
        return None
    code = _binding_code(turn)
    if code is None or len(turn.text.strip()) > BINDING_CODE_LENGTH + 6:  # "绑定码是 XXXXXXXX" at most
        return None
    turn.state.end_dialogue()
    return await _bind_in_frame(turn, frame, code)


async def bind_hook(openid: str, token: str, *, now: dt.datetime) -> str:
    """``BotHooks.bind_site``: a QR scene ``bind:<code>`` binds in one scan."""
    return await _bind(openid, token, project_code=None, now=now)


def _number(value: float | None) -> str:
    return NO_DATA if value is None else f"{value:g}"


async def query_environment(turn: Turn) -> Reply:
    project = turn.slots["project_code"]
    sites = await readings.sites_of_project(project)
    if not sites:
        return Reply(text=NO_SITE.format(project=project))
    turn.state.focus = replace(turn.state.focus, project_code=project)
    turn.state.put(EnvironmentFrame(project_code=project))
    lines = []
    for site in sites[:3]:
        summary = await readings.site_summary(site, now=turn.now)
        lines.append(
            SUMMARY.format(
                name=summary["site_name"],
                pm10=_number(summary["pm10_1h"]),
                pm25=_number(summary["pm25_1h"]),
                noise=_number(summary["noise_leq_1h"]),
                count=summary["exceedances_today"],
            )
        )
    return Reply(text="\n".join(lines))


async def environment_in_context(turn: Turn) -> Reply | None:
    """ "那噪声呢" right after an environment answer: the same site's figures (ellipsis)."""
    text = turn.text
    project = turn.state.focus.project_code  # the project named last, by whichever task
    ellipsis = turn.state.frame(EnvironmentFrame) is not None and ENV_FOLLOW_UP_RE.match(text)
    # "这个工地扬尘怎么样": the pronoun is the project just shown; "扬尘很大" is a complaint, not a question.
    pronoun = PRONOUN_RE.search(text) and ENV_QUESTION_RE.search(text) and not COMPLAINT_CUE_RE.search(text)
    if not project or not (ellipsis or pronoun):
        return None
    turn.state.end_dialogue()
    turn.state.slots["project_code"] = project
    return await query_environment(turn)


INTERCEPTORS = (binding_code_retry, environment_in_context)
DIALOGUES = (
    IntentSpec(
        intent="bind_site",
        handler=bind_site,
        slots=(
            SlotSpec("project_code", prompt=ASK_PROJECT, extract=_project_code, strict=True),
            SlotSpec("code", prompt=ASK_CODE, extract=_binding_code, strict=True),
        ),
    ),
    IntentSpec(
        intent="query_environment",
        handler=query_environment,
        slots=(SlotSpec("project_code", prompt=ASK_SITE, extract=_project_code, strict=True),),
    ),
)
