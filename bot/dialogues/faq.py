"""Rule and procedure questions ("这个工地晚上几点必须停工") answered from the FAQ (config/faq.yml,
handed in as ``services["faq"]``). A question is never taken for a complaint: a complaint needs the
citizen to describe a nuisance or say they want to complain."""

from __future__ import annotations

import re

from bot import messages
from bot.dialogue.types import Reply, Turn

# "怎么样" asks how a site is doing (the environment, a project), not what the rule is.
QUESTION_RE = re.compile(
    r"几点|什么时候|怎么(?!样)|如何|哪里|哪儿|找谁|能不能|可不可以|可以吗|能吗|是否|规定|允许|要求|多少|多久|几天|吗[？?]?$"
)
EXPLICIT_COMPLAINT_RE = re.compile(r"(我要|我想|帮我|想要|要)(投诉|举报|反映)|投诉一下|举报一下")
PRIORITY = 20  # before the project search: "晚上几点必须停工" names no place


def is_rule_question(text: str) -> bool:
    return bool(QUESTION_RE.search(text)) and not EXPLICIT_COMPLAINT_RE.search(text)


async def rule_question(turn: Turn) -> Reply | None:
    faq = turn.deps.hooks.faq
    if faq is None or not turn.text or turn.state.awaiting or not is_rule_question(turn.text):
        return None
    match = faq.best(turn.text)
    if match is None:
        return None
    turn.state.end_dialogue()
    return Reply(match.entry.answer + messages.FAQ_FOOTER)


INTERCEPTORS = (rule_question,)
