"""Project-query dialogues: by name, road or code; nearby by location or "附近"; follow-ups in context.

"万昌路那个工地在建什么" → the best match with stage, progress, builder and expected completion, plus up
to four alternatives to pick by number. A location message (or "附近" with a remembered location) → the
five nearest projects with their distance. "什么时候完工" right after → answered for the same project.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import replace
from typing import Any

from bot import messages
from bot.dialogue.frames import ProjectQueryFrame
from bot.dialogue.types import IntentSpec, Reply, SlotSpec, Turn
from bot.keyword_nlu import PROJECT_CODE_RE
from domain.projects.services import ProjectQuery, project_details, search_projects

INTENT = "query_project"
ALTERNATIVES = 4
NEARBY_COUNT = 5
NEARBY_RADII_M = (5_000, 20_000, 50_000)
CANDIDATES = 50
SEARCH_FIELDS = ("code", "name", "road", "address", "stage", "stage_label")
NEARBY_WORDS = ("附近", "周边", "周围", "旁边", "身边")
ASPECT_WORDS: dict[str, tuple[str, ...]] = {
    "completion": ("完工", "竣工", "什么时候", "多久", "何时", "建好", "完成"),
    "builder": ("施工单位", "谁建", "哪家", "建设单位", "开发商", "承建"),
    "progress": ("进度", "建到", "到哪"),
}
# Words that say what the user wants to know, not which project: removed before searching.
_FILLER = (
    "在建什么",
    "建什么",
    "是什么",
    "什么时候",
    "那个",
    "这个",
    "那边",
    "这边",
    "工地",
    "项目",
    "工程",
    "请问",
    "我想问",
    "问一下",
    "查一下",
    "查询",
    "一下",
    "哪个",
    "哪家",
    "完工",
    "竣工",
    "施工单位",
    "进度",
    "在建",
    "是谁",
    "谁",
    "什么",
    "的",
    "吗",
    "呢",
    "啊",
    "呀",
    "？",
    "?",
    "，",
    ",",
    "。",
    "！",
    "!",
    " ",
)
_PLACE_SUFFIXES = ("大道", "街道", "路", "街", "镇", "桥")
MORE_RE = re.compile(r"^(?:那)?(?:附近|周边|周围)?(?:还有|更多|下一页|再来|再看|其他的|别的)")
UNSURE = 0.75  # below this the NLU's pick is a guess: a named place is the better reading
SURE_ELSEWHERE = frozenset({"report_nuisance", "report_emergency", "human_agent", "bind_site"})


def aspect_of(text: str) -> str:
    return next((aspect for aspect, words in ASPECT_WORDS.items() if any(word in text for word in words)), "")


def search_term(text: str) -> str:
    term = text
    for word in _FILLER:
        term = term.replace(word, "")
    return term[:32] if len(term) >= 2 else ""


def term_variants(term: str) -> list[str]:
    """The term, then looser forms: "万昌路" also finds "万昌中路" and "万昌东路"."""
    variants = [term]
    for suffix in _PLACE_SUFFIXES:
        if term.endswith(suffix) and len(term) - len(suffix) >= 2:
            variants.append(term.removesuffix(suffix))
            break
    if len(term) > 2:
        variants.append(term[:2])
    return list(dict.fromkeys(variants))


def rank_matches(items: list[dict[str, Any]], *, term: str, wants_construction: bool) -> list[dict[str, Any]]:
    """Best first: the name holding the whole term beats a road or address match; ties by code."""

    def score(item: dict[str, Any]) -> tuple[int, str]:
        points = 0
        points += 4 if term in item["name"] else 0
        points += 2 if term in item["road"] else 0
        points += 1 if term in item["address"] else 0
        points += 1 if wants_construction and item["stage"] == "construction" else 0
        return (-points, item["code"])

    return sorted(items, key=score)


def _code_named(turn: Turn) -> str:
    entity = turn.parse.first("project_code")
    if entity is not None:
        return str(entity.value).upper()
    match = PROJECT_CODE_RE.search(turn.text)
    return match.group().upper() if match else ""


def extract_target(turn: Turn) -> dict[str, Any] | None:
    """What the user asks about: a code, a search term, "nearby", or a follow-up on the last project."""
    text = turn.text
    if turn.location_is_new and turn.location is not None:
        return {"near": list(turn.location)}
    aspect = aspect_of(text)
    code = _code_named(turn)
    if code:
        return {"code": code, "aspect": aspect}
    named = turn.parse.first("project") or turn.parse.first("location")
    # "我家在人民西路附近，附近有什么工地": the road named is where to look, not the phone's position.
    term = search_term(str(named.text or named.value)) if named is not None else ""
    if not term and any(word in text for word in NEARBY_WORDS):
        return {"near": list(turn.location) if turn.location else None}
    term = term or search_term(text)
    if term:
        return {"term": term, "aspect": aspect}
    last = turn.state.focus.project_code
    if last and (aspect or text):
        return {"code": last, "aspect": aspect or "summary"}
    return None


def _date(value: str | None) -> str:
    if not value:
        return messages.UNKNOWN_VALUE
    day = dt.date.fromisoformat(value)
    return f"{day.year}年{day.month}月{day.day}日"


def _company(details: dict[str, Any], role: str) -> str:
    enterprise = details["enterprises"].get(role)
    return str(enterprise["name"]) if enterprise else messages.UNKNOWN_VALUE


def render_summary(details: dict[str, Any]) -> str:
    return messages.PROJECT_SUMMARY.format(
        name=details["name"],
        code=details["code"],
        stage_label=details["stage_label"],
        progress_pct=details["progress_pct"],
        builder=_company(details, "contractor"),
        completion=_date(details["expected_completion"]),
        address=details["address"],
    )


def render_aspect(details: dict[str, Any], aspect: str) -> str:
    if aspect == "completion":
        template = (
            messages.PROJECT_COMPLETED if details["stage"] == "completed" else messages.PROJECT_COMPLETION
        )
        return template.format(
            name=details["name"],
            completion=_date(details["expected_completion"]),
            stage_label=details["stage_label"],
            progress_pct=details["progress_pct"],
        )
    if aspect == "builder":
        return messages.PROJECT_BUILDER.format(
            name=details["name"],
            builder=_company(details, "contractor"),
            developer=_company(details, "developer"),
            supervisor=_company(details, "supervisor"),
        )
    if aspect == "progress":
        return messages.PROJECT_PROGRESS.format(
            name=details["name"], stage_label=details["stage_label"], progress_pct=details["progress_pct"]
        )
    return render_summary(details)


def format_distance(meters: float) -> str:
    if meters < 1000:
        return messages.DISTANCE_M.format(meters=int(round(meters, -1)))
    return messages.DISTANCE_KM.format(km=meters / 1000)


async def _details(turn: Turn, code: str) -> dict[str, Any]:
    """Public project details, cached briefly: citizens ask about the same few sites again and again."""
    key = f"project:{code.upper()}"
    cached = turn.deps.reads.get(key)
    if cached is not None:
        return dict(json.loads(cached))
    details = await project_details(code)
    turn.deps.reads.put(key, json.dumps(details, ensure_ascii=False))
    return details


def _frame(turn: Turn) -> ProjectQueryFrame:
    return turn.state.frame(ProjectQueryFrame) or ProjectQueryFrame()


def _show(turn: Turn, frame: ProjectQueryFrame, *, focus_code: str) -> None:
    turn.state.put(frame)
    turn.state.focus = replace(turn.state.focus, project_code=focus_code)


async def _details_reply(turn: Turn, code: str, aspect: str = "") -> Reply:
    details = await _details(turn, code)
    frame = _frame(turn)
    # A follow-up about the project just shown keeps its numbered alternatives valid.
    offered = frame.offered if turn.state.focus.project_code == details["code"] else ()
    _show(turn, replace(frame, offered=offered), focus_code=details["code"])
    return Reply(
        render_aspect(details, aspect or "summary"), choices=tuple((INTENT, code) for code in offered)
    )


async def _candidates(turn: Turn, term: str) -> tuple[str, list[dict[str, Any]]]:
    """The first variant of ``term`` that matches and its matches (cached briefly, like details)."""
    key = f"search:{term}"
    cached = turn.deps.reads.get(key)
    if cached is not None:
        variant, items = json.loads(cached)
        return str(variant), list(items)
    found: tuple[str, list[dict[str, Any]]] = (term, [])
    for variant in term_variants(term):
        page = await search_projects(ProjectQuery(q=variant, page_size=CANDIDATES))
        if page.items:
            found = (variant, [{name: item[name] for name in SEARCH_FIELDS} for item in page.items])
            break
    turn.deps.reads.put(key, json.dumps(found, ensure_ascii=False))
    return found


async def _search_reply(turn: Turn, term: str, aspect: str) -> Reply:
    variant, items = await _candidates(turn, term)
    if not items:
        last = turn.state.focus.project_code
        if aspect and last:  # "那它什么时候完工" is about the project just shown
            return await _details_reply(turn, str(last), aspect)
        return Reply(messages.PROJECT_NOT_FOUND.format(term=term))
    ranked = rank_matches(items, term=variant, wants_construction="在建" in turn.text)
    best, alternatives = ranked[0], ranked[1 : 1 + ALTERNATIVES]
    details = await _details(turn, best["code"])
    text = render_aspect(details, aspect) if aspect and aspect != "summary" else render_summary(details)
    if alternatives:
        text += messages.PROJECT_ALTERNATIVES_HEADER
        for number, item in enumerate(alternatives, start=1):
            text += messages.PROJECT_ALTERNATIVE_LINE.format(number=number, **item)
        text += messages.PROJECT_ALTERNATIVES_FOOTER
    listing = ProjectQueryFrame(
        offered=tuple(item["code"] for item in alternatives),
        page=1,
        term=term,
        construction="在建" in turn.text,
    )
    _show(turn, listing, focus_code=details["code"])
    return Reply(text, choices=tuple((INTENT, item["code"]) for item in alternatives))


async def _nearby_reply(turn: Turn, near: tuple[float, float], *, page: int = 1) -> Reply:
    radii = [r for r in NEARBY_RADII_M if r >= _frame(turn).radius_m]
    for radius in radii if page > 1 else NEARBY_RADII_M:
        query = ProjectQuery(near=near, radius_m=radius, page=page, page_size=NEARBY_COUNT)
        found = await search_projects(query)
        if found.items:
            break
    else:
        if page > 1:
            return Reply(messages.PROJECT_NO_MORE)
        return Reply(messages.PROJECT_NONE_NEARBY.format(radius_km=NEARBY_RADII_M[-1] // 1000))
    first = (page - 1) * NEARBY_COUNT + 1
    text = messages.PROJECT_NEARBY_HEADER if page == 1 else messages.PROJECT_MORE_HEADER
    for number, item in enumerate(found.items, start=first):
        text += messages.PROJECT_NEARBY_LINE.format(
            number=number,
            name=item["name"],
            stage_label=item["stage_label"],
            distance=format_distance(item["distance_m"]),
        )
    more = found.total > first - 1 + len(found.items)
    text += messages.PROJECT_MORE_FOOTER if more else messages.PROJECT_ALTERNATIVES_FOOTER
    shown = (_frame(turn).offered if page > 1 else ()) + tuple(item["code"] for item in found.items)
    focus_code = found.items[0]["code"] if page == 1 else turn.state.focus.project_code
    listing = ProjectQueryFrame(offered=shown, page=page, near=near, radius_m=radius)
    _show(turn, listing, focus_code=focus_code)
    return Reply(text, choices=tuple((INTENT, code) for code in shown))


async def _more_matches(turn: Turn, listing: ProjectQueryFrame) -> Reply:
    """The next five of a text search ("还有吗" after "万昌路的工地")."""
    variant, items = await _candidates(turn, listing.term)
    ranked = rank_matches(items, term=variant, wants_construction=listing.construction)
    start = 1 + ALTERNATIVES + (listing.page - 1) * NEARBY_COUNT
    batch = ranked[start : start + NEARBY_COUNT]
    if not batch:
        return Reply(messages.PROJECT_NO_MORE)
    shown = (*listing.offered, *(item["code"] for item in batch))
    text = messages.PROJECT_MORE_HEADER
    for number, item in enumerate(batch, start=len(shown) - len(batch) + 1):
        text += messages.PROJECT_ALTERNATIVE_LINE.format(number=number, **item)
    text += messages.PROJECT_ALTERNATIVES_FOOTER
    turn.state.put(replace(listing, offered=shown, page=listing.page + 1))
    return Reply(text, choices=tuple((INTENT, code) for code in shown))


def is_more_request(text: str) -> bool:
    return len(text) <= 12 and MORE_RE.search(text) is not None


async def more_in_context(turn: Turn) -> Reply | None:
    """ "附近还有吗" / "还有吗" right after a list: its next page (the list is the frame in focus)."""
    listing = turn.state.frame(ProjectQueryFrame)
    if listing is None or listing.page < 1 or not is_more_request(turn.text):
        return None
    if listing.near is not None:
        return await _nearby_reply(turn, listing.near, page=listing.page + 1)
    return await _more_matches(turn, listing)


async def place_named(turn: Turn) -> Reply | None:
    """When the NLU is unsure ("查一下金海苑"), a message that names a project, road or town is a
    project query: search the registry before asking what the user meant."""
    parse, state = turn.parse, turn.state
    if not turn.text or state.intent or parse.intent in SURE_ELSEWHERE or parse.confidence >= UNSURE:
        return None
    term = search_term(turn.text)
    if len(term) < 2 or len(term) > 12:
        return None
    _variant, items = await _candidates(turn, term)
    if not items:
        return None
    state.end_dialogue()
    return await _search_reply(turn, term, aspect_of(turn.text))


async def query_project(turn: Turn) -> Reply:
    if turn.choice:
        return await _details_reply(turn, turn.choice)
    target: dict[str, Any] = turn.slots["target"]
    if "near" in target:
        if target["near"] is None:
            # Keep the dialogue open: the location message that follows answers it.
            return Reply(messages.PROJECT_ASK_LOCATION, keep_open=True)
        lat, lng = target["near"]
        return await _nearby_reply(turn, (float(lat), float(lng)))
    if "code" in target:
        return await _details_reply(turn, target["code"], target.get("aspect", ""))
    return await _search_reply(turn, target["term"], target.get("aspect", ""))


INTERCEPTORS = (more_in_context, place_named)
DIALOGUES = (
    IntentSpec(
        intent=INTENT,
        handler=query_project,
        slots=(SlotSpec("target", prompt=messages.PROJECT_ASK_WHICH, extract=extract_target, kind=dict),),
    ),
)
