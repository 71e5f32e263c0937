"""Credit dialogue (``check_credit``): an enterprise's grade and score; for the user's own enterprise
also the latest changes and why ("我公司信用评分为什么被扣分了").

Other enterprises get only what the public lookup shows (grade and score); the reasons behind a score
are told only to the enterprise itself.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.dialogue.types import IntentSpec, Reply, SlotSpec, Turn
from domain.accounts import services as accounts
from domain.credit import queries, services
from domain.credit.rules import SubjectKind

INTENT = "check_credit"
CHANGE_WINDOW_DAYS = 180
MAX_CHANGES = 3
MAX_MATCHES = 4
OWN_WORDS = (
    "我公司",
    "我们公司",
    "我司",
    "本公司",
    "本企业",
    "我们企业",
    "我们单位",
    "本单位",
    "我的企业",
    "我们的",
)
_FILLER = (
    "信用评分",
    "信用等级",
    "信用分",
    "信用档案",
    "信用情况",
    "信用",
    "诚信记录",
    "诚信",
    "评分",
    "等级",
    "不良记录",
    "查一下",
    "查询",
    "查查",
    "查",
    "怎么样",
    "多少",
    "是几级",
    "几级",
    "的",
    "吗",
    "呢",
    "？",
    "?",
    "，",
    ",",
    "。",
    " ",
)

# The user-facing sentences of this dialogue.
ASK_COMPANY = "请告诉我要查询的企业名称或统一社会信用代码。"
NOT_FOUND = "没有找到名称含“{term}”的企业信用档案，请换个关键词试试。"
PICK_ONE = "找到多家企业，请回复序号：\n{lines}"
PICK_LINE = "{number}. {name}"
STANDING = "【{name}】信用等级 {grade}（{label}），信用分 {score}（截至 {as_of}）。"
BLACKLISTED = "该企业目前列入黑名单：{reason}。"
NO_BIDDING = "该企业目前暂停投标资格：{reason}。"
NOT_BOUND = (
    "您的微信尚未关联企业账号，无法查看本企业的扣分原因。请在小程序用企业账号登录，或告诉我企业名称查询等级。"
)
CHANGES_HEAD = "近{days}天的变化："
CHANGE_LINE = "· {on} {verb}{points}分：{label}（{source}，{until}）"
NO_CHANGES = "近{days}天信用分没有变化。"
APPEAL_HINT = "如对扣分记录有异议，可在小程序“信用”页提交申诉并上传材料。"
VERBS = {"added": ("加", "扣"), "expired": ("到期恢复", "到期减"), "revoked": ("申诉撤销恢复", "申诉撤销减")}


def _is_own(text: str) -> bool:
    return any(word in text for word in OWN_WORDS)


def extract_company(turn: Turn) -> dict[str, Any] | None:
    """{"own": True}, or {"term": name-or-code}; None asks the user."""
    if _is_own(turn.text):
        return {"own": True}
    entity = turn.parse.first("company")
    if entity is not None and str(entity.value).strip():
        return {"term": str(entity.value).strip()[:32]}
    term = turn.text
    for word in _FILLER:
        term = term.replace(word, "")
    if turn.state.awaiting == "company" or len(term) >= 4:
        return {"term": term[:32]} if len(term) >= 2 else None
    return None


def _standing_text(name: str, standing: dict[str, Any]) -> str:
    lines = [
        STANDING.format(
            name=name,
            grade=standing["grade"],
            label=standing["grade_label"],
            score=standing["score"],
            as_of=standing["as_of"],
        )
    ]
    for sanction in standing["sanctions"]:
        template = BLACKLISTED if sanction["blacklist"] else NO_BIDDING
        lines.append(template.format(reason=f"{sanction['label']}，至 {sanction['ends_on']}"))
    return "\n".join(lines)


def _change_line(change: dict[str, Any]) -> str:
    gain, loss = VERBS.get(change["kind"], ("加", "扣"))
    delta = change["delta"]
    until = (
        f"有效期至 {change['expires_on']}"
        if change["kind"] == "added"
        else f"原记录生效于 {change['effective_on']}"
    )
    return CHANGE_LINE.format(
        on=change["on"],
        verb=gain if delta > 0 else loss,
        points=abs(delta),
        label=change["label"],
        source=change["source_ref"],
        until=until,
    )


async def _own_reply(turn: Turn, today: dt.date) -> Reply:
    uscc = await accounts.enterprise_of_openid(turn.openid)
    if uscc is None:
        return Reply(NOT_BOUND)
    catalogue = services.rule_catalogue()
    standing = await queries.subject_standing(
        SubjectKind.ENTERPRISE, uscc, as_of=today, catalogue=catalogue, missing_ok=True
    )
    changes = await queries.recent_changes(
        SubjectKind.ENTERPRISE, uscc, today=today, days=CHANGE_WINDOW_DAYS, catalogue=catalogue
    )
    lines = [_standing_text(standing["subject"]["name"] or uscc, standing)]
    if changes:
        lines.append(CHANGES_HEAD.format(days=CHANGE_WINDOW_DAYS))
        lines.extend(_change_line(change) for change in changes[:MAX_CHANGES])
        if any(change["delta"] < 0 and change["kind"] == "added" for change in changes):
            lines.append(APPEAL_HINT)
    else:
        lines.append(NO_CHANGES.format(days=CHANGE_WINDOW_DAYS))
    return Reply("\n".join(lines))


async def _public_reply(uscc: str, name: str, today: dt.date) -> Reply:
    catalogue = services.rule_catalogue()
    standing = await queries.subject_standing(SubjectKind.ENTERPRISE, uscc, as_of=today, catalogue=catalogue)
    return Reply(_standing_text(name, standing))


async def check_credit(turn: Turn) -> Reply:
    today = services.local_day(turn.now)
    if turn.choice:
        name = await queries.subject_name(SubjectKind.ENTERPRISE, turn.choice)
        return await _public_reply(turn.choice, name, today)
    target = turn.slots.get("company") or {}
    if target.get("own"):
        return await _own_reply(turn, today)
    term = str(target.get("term", ""))
    matches = await queries.find_enterprises(term, limit=MAX_MATCHES)
    if not matches:
        return Reply(NOT_FOUND.format(term=term))
    exact = [match for match in matches if term in (match[0], match[1])]
    if len(matches) == 1 or len(exact) == 1:
        uscc, name = (exact or matches)[0]
        return await _public_reply(uscc, name, today)
    lines = "\n".join(
        PICK_LINE.format(number=n, name=name) for n, (_uscc, name) in enumerate(matches, start=1)
    )
    return Reply(PICK_ONE.format(lines=lines), choices=tuple((INTENT, uscc) for uscc, _name in matches))


DIALOGUES = (
    IntentSpec(
        intent=INTENT,
        handler=check_credit,
        slots=(SlotSpec("company", prompt=ASK_COMPANY, extract=extract_company, kind=dict),),
    ),
)
