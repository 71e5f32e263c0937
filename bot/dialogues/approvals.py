"""Approval dialogues: "SP2026-0412 办到哪了" (query_approval) and "办理施工许可需要准备哪些材料"
(ask_procedure), answered from the applications and from the catalogue in ``config/approvals.yml``."""

from __future__ import annotations

import datetime as dt
import re

from bot.dialogue.frames import ApprovalFrame
from bot.dialogue.types import BotDeps, IntentSpec, Reply, Turn
from domain.approvals import services, views
from domain.approvals.catalogue import Catalogue, Item, Stage
from domain.approvals.messages import department_name
from domain.approvals.models import Application

# --- message catalog (the texts this dialogue shows) ------------------------------------------------------
NO_APPLICATION = "没有查到办件 {code}，请核对编号（形如 SP2026-0412）。"
NO_OWN_APPLICATIONS = "没有查到您名下的审批办件。请发送办件编号查询，例如：SP2026-0412 办到哪了"
STATUS_HEAD = "办件 {code}（{stage}）：{status}"
STATUS_REVIEWING = "正在审查：{departments}"
STATUS_DUE = "办结时限：{due}"
STATUS_PAUSED = "计时暂停：{reason}"
STATUS_MISSING = "尚缺材料：{materials}"
STATUS_CORRECTION = "请按一次性补正告知补正：{summary}"
STATUS_REJECTED = "不予许可原因：{reason}"
OWN_HEAD = "您的审批办件："
PROCEDURE_STAGE = "【{stage}】牵头部门：{lead}，法定办理时限 {days} 个工作日。\n包含事项：\n{items}"
PROCEDURE_ITEM = (
    "【{item}】（{stage}）\n办理部门：{department}，时限 {days} 个工作日。\n所需材料：\n{materials}"
)
PROCEDURE_MATERIAL = "{index}. {name}（{types}）{flags}"
PROCEDURE_CHOOSE = "工程建设项目审批分四个阶段，请回复序号查看所需材料和时限：\n{stages}"
REQUIRED, OPTIONAL, CONDITIONAL = "必交", "选交", "（{condition}时必交）"

PROCEDURE_WORDS = ("材料", "流程", "怎么办", "如何办", "需要准备", "时限", "要多久", "几个工作日")
CODE_RE = re.compile(r"SP\d{4}-\d{4,}", re.IGNORECASE)


def _env(deps: BotDeps) -> services.ApprovalsEnv:
    if deps.approvals is None:
        raise RuntimeError("the bot was built without the runtime's approvals environment")
    return deps.approvals


def _code_in(turn: Turn) -> str:
    entity = turn.parse.first("application_id")
    if entity is not None and CODE_RE.fullmatch(str(entity.value)):
        return str(entity.value).upper()
    match = CODE_RE.search(turn.text)
    return match.group().upper() if match else ""


async def render_status(env: services.ApprovalsEnv, application: Application, *, now: dt.datetime) -> str:
    detail = await views.detail_view(env, application, now=now)
    lines = [
        STATUS_HEAD.format(code=detail["code"], stage=detail["stage_name"], status=detail["status_label"])
    ]
    reviewing = [t for t in detail["tasks"] if t["status"] == "in_review"]
    if reviewing and detail["status"] == "under_review":
        parts = [f"{t['department_name']}（截止 {t['due_at'][:10]}）" for t in reviewing]
        lines.append(STATUS_REVIEWING.format(departments="、".join(parts)))
    if detail["due_at"] and detail["status"] == "under_review":
        lines.append(STATUS_DUE.format(due=detail["due_at"][:10]))
    if detail["paused"]:
        lines.append(STATUS_PAUSED.format(reason=detail["pause_reason"]))
    if detail["status"] == "correction_required" and detail["correction_notices"]:
        notice = detail["correction_notices"][-1]
        summary = "；".join(
            f"{department_name(d['department'])}：{d['comment']}" for d in notice["departments"]
        )
        lines.append(STATUS_CORRECTION.format(summary=summary))
    if detail["status"] == "rejected":
        lines.append(STATUS_REJECTED.format(reason=detail["rejection_reason"]))
    missing = [line["name"] for line in detail["checklist"]["lines"] if line["missing"]]
    if missing and detail["status"] in ("draft", "correction_required"):
        lines.append(STATUS_MISSING.format(materials="、".join(missing)))
    return "\n".join(lines)


async def query_approval(turn: Turn) -> Reply:
    env = _env(turn.deps)
    code = _code_in(turn)
    if not code and any(word in turn.text for word in PROCEDURE_WORDS):
        # "办理施工许可需要准备哪些材料" names a permit but asks about the procedure, not an application.
        return await ask_procedure(turn)
    if code:
        application = await services.find_by_code(code)
        if application is None:
            return Reply(NO_APPLICATION.format(code=code))
        turn.state.put(ApprovalFrame(application_code=application.code))
        return Reply(await render_status(env, application, now=turn.now))
    own = await services.find_by_openid(turn.openid)
    if not own:
        last = turn.state.frame(ApprovalFrame)
        application = await services.find_by_code(last.application_code) if last else None
        if application is None:
            return Reply(NO_OWN_APPLICATIONS)
        own = [application]
    texts = [await render_status(env, application, now=turn.now) for application in own]
    return Reply("\n\n".join([OWN_HEAD, *texts]) if len(texts) > 1 else texts[0])


def _material_lines(item_list: tuple[Item, ...]) -> str:
    seen: dict[str, str] = {}
    for item in item_list:
        for spec in item.materials:
            if spec.key in seen:
                continue
            flags = (
                (CONDITIONAL.format(condition=spec.when.describe()) if spec.when else REQUIRED)
                if spec.required
                else OPTIONAL
            )
            seen[spec.key] = PROCEDURE_MATERIAL.format(
                index=len(seen) + 1, name=spec.name, types="/".join(spec.types).upper(), flags=flags
            )
    return "\n".join(seen.values())


def render_stage(stage: Stage) -> str:
    items = "\n".join(
        f"- {item.name}：{department_name(item.department)}，{item.time_limit_days} 个工作日"
        + (f"（{item.when.describe()}时办理）" if item.when else "")
        for item in stage.items
    )
    text = PROCEDURE_STAGE.format(
        stage=stage.name, lead=department_name(stage.lead), days=stage.time_limit_days, items=items
    )
    return f"{text}\n所需材料：\n{_material_lines(stage.items)}"


def render_item(stage: Stage, item: Item) -> str:
    return PROCEDURE_ITEM.format(
        item=item.name,
        stage=stage.name,
        department=department_name(item.department),
        days=item.time_limit_days,
        materials=_material_lines((item,)),
    )


def _find(catalogue: Catalogue, text: str) -> str:
    # A named item ("施工图审查") is more specific than its stage ("施工许可").
    found_item = catalogue.find_item(text)
    stage_hit = next((s for s in catalogue.stages if s.name in text or s.key == text), None)
    if found_item is not None and (
        stage_hit is None or found_item[1].name in text or found_item[1].key == text
    ):
        return render_item(*found_item)
    if stage_hit is not None:
        return render_stage(stage_hit)
    keywords = {
        "施工许可证": "construction_permit",
        "施工许可": "construction_permit",
        "竣工": "completion_acceptance",
        "验收": "completion_acceptance",
        "规划许可": "construction_planning",
        "立项": "land_use_planning",
        "用地": "land_use_planning",
    }
    for word, key in keywords.items():
        stage = catalogue.stage(key)
        if word in text and stage is not None:
            return render_stage(stage)
    return ""


async def ask_procedure(turn: Turn) -> Reply:
    env = _env(turn.deps)
    text = turn.choice or turn.text
    answer = _find(env.catalogue, text)
    if answer:
        return Reply(answer)
    stages = "\n".join(
        f"{index}. {stage.name}（{stage.time_limit_days} 个工作日）"
        for index, stage in enumerate(env.catalogue.stages, 1)
    )
    return Reply(
        PROCEDURE_CHOOSE.format(stages=stages),
        choices=tuple(("ask_procedure", stage.key) for stage in env.catalogue.stages),
    )


DIALOGUES = (
    IntentSpec(intent="query_approval", handler=query_approval),
    IntentSpec(intent="ask_procedure", handler=ask_procedure),
)
