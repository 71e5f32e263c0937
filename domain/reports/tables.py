"""A report as tables and chart series: what the XLSX, PNG and HTML renderers draw, pure.

Labels are the Chinese the leadership reads; keys stay English in the JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.projects.rules import PROJECT_KIND_LABELS, PROJECT_STAGE_LABELS

SEVERITY_LABELS = {"info": "提示", "warning": "警告", "major": "严重", "critical": "紧急"}


@dataclass(frozen=True, slots=True)
class Table:
    sheet: str  # the XLSX sheet name (≤ 31 characters)
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True, slots=True)
class Chart:
    name: str  # file-name safe
    title: str
    kind: str  # bar or pie
    categories: tuple[str, ...]
    values: tuple[float, ...]


def _label(value: str, labels: Mapping[Any, str]) -> str:
    return labels.get(value, value)


def _pairs(
    mapping: Mapping[str, Any], labels: Mapping[Any, str] | None = None
) -> tuple[tuple[Any, ...], ...]:
    return tuple((_label(k, labels or {}), v) for k, v in mapping.items())


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


# Enum-keyed labels re-keyed by value: the report's JSON carries the plain strings.
STAGE_LABELS = {m.value: label for m, label in PROJECT_STAGE_LABELS.items()}
KIND_LABELS = {m.value: label for m, label in PROJECT_KIND_LABELS.items()}
GROUP_HEADERS = ("分组", "类别", "数量")
LIMIT_HEADERS = ("项目", "办结数", "平均工作日", "最长工作日", "法定时限（工作日）", "按时办结", "按时率")
SECTION_KEYS = ("projects", "approvals", "complaints", "alarms", "credit", "emergencies", "transparency")


def _grouped(
    group: str, mapping: Mapping[str, Any], labels: Mapping[Any, str] | None = None
) -> tuple[tuple[Any, ...], ...]:
    return tuple((group, k, v) for k, v in _pairs(mapping, labels))


def _limit_rows(rows: list[dict[str, Any]], name: str) -> tuple[tuple[Any, ...], ...]:
    return tuple(
        (
            r.get(name, r["key"]),
            r["decided"],
            r["mean_working_days"],
            r["max_working_days"],
            r["legal_limit_days"],
            r["on_time"],
            _pct(r["on_time_rate"]),
        )
        for r in rows
    )


def _comparison_table(comparison: list[dict[str, Any]]) -> Table:
    return Table(
        "对比",
        "与上期对比",
        ("指标", "本期", "上期", "变化", "变化率", "趋势"),
        tuple(
            (r["label"], r["current"], r["previous"], r["delta"], _pct(r["change"]), r["trend"] or "—")
            for r in comparison
        ),
    )


def _projects_table(p: Mapping[str, Any]) -> Table:
    return Table(
        "项目",
        "项目（按阶段、类型、镇街）",
        GROUP_HEADERS,
        _grouped("阶段", p["by_stage"], STAGE_LABELS)
        + _grouped("类型", p["by_kind"], KIND_LABELS)
        + _grouped("镇街", p["by_town"])
        + (
            ("合计", "项目总数", p["total"]),
            ("本期", "开工", p["starts"]),
            ("本期", "竣工", p["completions"]),
        ),
    )


def _approval_tables(a: Mapping[str, Any]) -> list[Table]:
    return [
        Table(
            "审批-部门",
            "审批：各部门办理工作日与法定时限",
            LIMIT_HEADERS,
            _limit_rows(a["by_department"], "key"),
        ),
        Table(
            "审批-阶段", "审批：各阶段办理工作日与法定时限", LIMIT_HEADERS, _limit_rows(a["by_stage"], "name")
        ),
    ]


def _complaint_tables(c: Mapping[str, Any], nuisance_labels: Mapping[Any, str]) -> list[Table]:
    return [
        Table(
            "投诉",
            "投诉（按类型、镇街）",
            GROUP_HEADERS,
            _grouped("类型", c["by_type"], nuisance_labels)
            + _grouped("镇街", c["by_town"])
            + (("合计", "投诉总数", c["total"]),),
        ),
        Table(
            "投诉-时效",
            "投诉：响应时长、按时率、满意率、重办率",
            ("指标", "数值"),
            (
                ("已答复", c["answered"]),
                ("平均响应（小时）", c["response_hours"]["mean"]),
                ("响应中位数（小时）", c["response_hours"]["median"]),
                ("按时答复率", _pct(c["on_time_rate"])),
                ("已评价", c["rated"]),
                ("满意率", _pct(c["satisfaction_rate"])),
                ("重办数", c["reopened"]),
                ("重办率", _pct(c["reopen_rate"])),
            ),
        ),
    ]


def _alarm_tables(al: Mapping[str, Any]) -> list[Table]:
    return [
        Table(
            "告警",
            "告警（按类型、级别、工地）",
            GROUP_HEADERS,
            _grouped("类型", al["by_type"])
            + _grouped("级别", al["by_severity"], SEVERITY_LABELS)
            + _grouped("工地", al["by_site"])
            + (
                ("合计", "告警总数", al["total"]),
                ("时效", "确认中位数（分钟）", al["ack_minutes"]["median"]),
            ),
        ),
        Table(
            "告警-屡犯",
            "屡次告警工地",
            ("工地", "告警数"),
            tuple((r["site_code"], r["alarms"]) for r in al["repeat_offenders"]),
        ),
    ]


def _credit_table(cr: Mapping[str, Any]) -> Table:
    return Table(
        "信用",
        "企业信用等级分布与变动",
        ("等级", "本期末", "上期末"),
        (
            *((g, n, cr["previous_grades"].get(g, 0)) for g, n in cr["grades"].items()),
            ("升级", cr["upgrades"], ""),
            ("降级", cr["downgrades"], ""),
        ),
    )


def _emergency_table(e: Mapping[str, Any], incident_labels: Mapping[Any, str]) -> Table:
    return Table(
        "应急",
        "安全事故",
        GROUP_HEADERS,
        _grouped("类型", e["by_type"], incident_labels)
        + _grouped("等级", e["by_grade"])
        + (
            ("合计", "事故数", e["total"]),
            ("合计", "死亡", e["deaths"]),
            ("合计", "重伤", e["serious_injuries"]),
            ("合计", "直接经济损失（元）", e["direct_loss_yuan"]),
            ("时效", "1小时内上报", e["reported_within_1h"]),
        ),
    )


def _transparency_table(t: Mapping[str, Any]) -> Table:
    return Table(
        "公开数据",
        "各镇街扬尘达标率与投诉响应率",
        ("镇街", "达标小时", "有效小时", "扬尘达标率", "投诉数", "已答复", "投诉响应率"),
        tuple(
            (
                r["town"],
                r["dust_compliant_hours"],
                r["dust_hours"],
                _pct(r["dust_compliance_rate"]),
                r["complaints"],
                r["complaints_answered"],
                _pct(r["complaint_response_rate"]),
            )
            for r in t["towns"]
        ),
    )


def tables(report: Mapping[str, Any]) -> list[Table]:
    p, a, c, al, cr, e, t = (report["sections"][k] for k in SECTION_KEYS)
    labels = report.get("labels", {})
    return [
        _comparison_table(report["comparison"]),
        _projects_table(p),
        *_approval_tables(a),
        *_complaint_tables(c, labels.get("nuisance_type", {})),
        *_alarm_tables(al),
        _credit_table(cr),
        _emergency_table(e, labels.get("incident_type", {})),
        _transparency_table(t),
    ]


def _chart(
    name: str, title: str, kind: str, mapping: Mapping[str, Any], labels: Mapping[Any, str] | None = None
) -> Chart:
    return Chart(
        name,
        title,
        kind,
        tuple(_label(k, labels or {}) for k in mapping),
        tuple(float(v) for v in mapping.values()),
    )


def charts(report: Mapping[str, Any]) -> list[Chart]:
    s = report["sections"]
    towns = s["transparency"]["towns"]
    return [
        _chart("projects_by_stage", "项目阶段分布", "pie", s["projects"]["by_stage"], STAGE_LABELS),
        _chart("projects_by_kind", "项目类型分布", "bar", s["projects"]["by_kind"], KIND_LABELS),
        _chart(
            "complaints_by_type",
            "投诉类型分布",
            "bar",
            s["complaints"]["by_type"],
            report.get("labels", {}).get("nuisance_type", {}),
        ),
        _chart("complaints_by_town", "各镇街投诉数", "bar", s["complaints"]["by_town"]),
        _chart("alarms_by_severity", "告警级别分布", "pie", s["alarms"]["by_severity"], SEVERITY_LABELS),
        _chart("credit_grades", "企业信用等级分布", "bar", s["credit"]["grades"]),
        _chart(
            "dust_compliance",
            "各镇街扬尘达标率（%）",
            "bar",
            {r["town"]: round((r["dust_compliance_rate"] or 0) * 100, 1) for r in towns},
        ),
    ]
