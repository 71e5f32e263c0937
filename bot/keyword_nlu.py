"""A minimal keyword parser behind ``nlu.interface.NluEngine``, used when no NLU engine is configured.

It knows a few words per intent and two entities (project codes and road/place names). It is a
fallback, not the NLU: the real engine (``app.ctx.nlu``) replaces it when present.
"""

from __future__ import annotations

import re

from nlu.interface import FALLBACK_INTENT, Entity, ParseResult

# Checked in order: the first list that matches wins, later matches follow in the ranking.
INTENT_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("human_agent", ("转人工", "人工客服", "人工服务", "找人工", "真人")),
    ("complaint_status", ("投诉进度", "处理到哪", "投诉结果", "处理进度", "工单")),
    ("report_emergency", ("事故", "坍塌", "倒塌", "着火", "火灾", "受伤", "塌方")),
    (
        "report_nuisance",
        ("投诉", "举报", "噪音", "噪声", "扰民", "扬尘", "灰尘", "渣土", "半夜", "夜间施工", "太吵"),
    ),
    ("check_credit", ("信用", "评分", "黑名单")),
    ("query_approval", ("审批", "施工许可", "办件")),
    ("bind_site", ("绑定",)),
    ("query_environment", ("监测", "PM10", "pm10", "空气质量")),
    ("ask_procedure", ("怎么办理", "流程", "需要什么材料")),
    (
        "query_project",
        (
            "工地",
            "项目",
            "在建",
            "建什么",
            "附近",
            "周边",
            "完工",
            "竣工",
            "施工单位",
            "进度",
            "工程",
            "楼盘",
            "开工",
        ),
    ),
    ("greet", ("你好", "您好", "在吗", "hello", "hi")),
    ("goodbye", ("再见", "拜拜", "谢谢")),
)
MATCH_CONFIDENCE = 0.9
PLACE_CONFIDENCE = 0.6  # a bare road name is most likely a project question
FALLBACK_CONFIDENCE = 0.2

PROJECT_CODE_RE = re.compile(r"WL-\d{4}-\d{4}", re.IGNORECASE)
_LEADING_FILLER = re.compile(
    r"^(?:请问|我想问一?下|问一?下|想知道|帮我查一?下|查一?下|查询|你好|您好)[，,\s]*"
)
PLACE_RE = re.compile(r"[\u4e00-\u9fa5]{1,8}?(?:大道|街道|路|镇|街|桥)")


def _entities(text: str) -> tuple[Entity, ...]:
    found: list[Entity] = []
    for match in PROJECT_CODE_RE.finditer(text):
        found.append(
            Entity(
                "project_code", match.group().upper(), match.start(), match.end(), match.group(), "keyword"
            )
        )
    stripped = _LEADING_FILLER.sub("", text)
    offset = len(text) - len(stripped)
    place = PLACE_RE.search(stripped)
    if place:
        found.append(
            Entity(
                "location",
                place.group(),
                place.start() + offset,
                place.end() + offset,
                place.group(),
                "keyword",
            )
        )
    return tuple(found)


class KeywordNlu:
    async def parse(self, text: str) -> ParseResult:
        return parse_keywords(text)


def parse_keywords(text: str) -> ParseResult:
    entities = _entities(text)
    ranking = [
        (intent, max(0.1, MATCH_CONFIDENCE - 0.1 * position))
        for position, intent in enumerate(
            intent for intent, words in INTENT_KEYWORDS if any(word in text for word in words)
        )
    ]
    if not ranking and entities:
        ranking = [("query_project", PLACE_CONFIDENCE)]
    if not ranking:
        return ParseResult(
            text=text, intent=FALLBACK_INTENT, confidence=FALLBACK_CONFIDENCE, entities=entities
        )
    intent, confidence = ranking[0]
    return ParseResult(
        text=text, intent=intent, confidence=confidence, entities=entities, ranking=tuple(ranking)
    )
