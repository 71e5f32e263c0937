"""Pure emergency rules: incident types, grading, reporting deadlines and status transitions.

Grading follows 《生产安全事故报告和调查处理条例》 art. 3: "以上" includes the boundary, "以下" excludes
it, and the highest band triggered by deaths, serious injuries or direct loss wins.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from domain.errors import Conflict


class IncidentType(StrEnum):
    CRANE_COLLAPSE = "crane_collapse"
    EXCAVATION_COLLAPSE = "excavation_collapse"
    SCAFFOLD_COLLAPSE = "scaffold_collapse"
    FALL_FROM_HEIGHT = "fall_from_height"
    ELECTRIC_SHOCK = "electric_shock"
    FIRE = "fire"
    POISONING = "poisoning"
    OBJECT_STRIKE = "object_strike"
    OTHER = "other"


INCIDENT_TYPE_LABELS: dict[IncidentType, str] = {
    IncidentType.CRANE_COLLAPSE: "塔吊倒塌",
    IncidentType.EXCAVATION_COLLAPSE: "基坑坍塌",
    IncidentType.SCAFFOLD_COLLAPSE: "脚手架坍塌",
    IncidentType.FALL_FROM_HEIGHT: "高处坠落",
    IncidentType.ELECTRIC_SHOCK: "触电",
    IncidentType.FIRE: "火灾",
    IncidentType.POISONING: "中毒窒息",
    IncidentType.OBJECT_STRIKE: "物体打击",
    IncidentType.OTHER: "其他",
}


class IncidentGrade(IntEnum):
    """Ordered so that ``max()`` picks the most serious band."""

    GENERAL = 1  # 一般事故
    LARGER = 2  # 较大事故
    MAJOR = 3  # 重大事故
    ESPECIALLY_MAJOR = 4  # 特别重大事故


GRADE_LABELS: dict[IncidentGrade, str] = {
    IncidentGrade.GENERAL: "一般事故",
    IncidentGrade.LARGER: "较大事故",
    IncidentGrade.MAJOR: "重大事故",
    IncidentGrade.ESPECIALLY_MAJOR: "特别重大事故",
}

YUAN_PER_WAN = 10_000
# (grade, minimum deaths, minimum serious injuries, minimum direct loss in yuan): the lower bounds
# ("以上" includes them); each band's upper bound is the next band's lower bound ("以下" excludes it).
GRADE_THRESHOLDS: tuple[tuple[IncidentGrade, int, int, int], ...] = (
    (IncidentGrade.ESPECIALLY_MAJOR, 30, 100, 10_000 * YUAN_PER_WAN),
    (IncidentGrade.MAJOR, 10, 50, 5_000 * YUAN_PER_WAN),
    (IncidentGrade.LARGER, 3, 10, 1_000 * YUAN_PER_WAN),
)


def grade_incident(*, deaths: int, serious_injuries: int, direct_loss_yuan: int) -> IncidentGrade:
    """The highest band any of the three measures reaches; below all of them it is 一般."""
    for grade, min_deaths, min_injuries, min_loss in GRADE_THRESHOLDS:
        if deaths >= min_deaths or serious_injuries >= min_injuries or direct_loss_yuan >= min_loss:
            return grade
    return IncidentGrade.GENERAL


class ReportLevel(StrEnum):
    COUNTY = "county"  # 县级安全生产监督管理部门和负有安全生产监督管理职责的有关部门
    CITY = "city"  # 设区的市级
    PROVINCE = "province"  # 省级
    STATE = "state"  # 国务院


REPORT_LEVEL_LABELS = {
    ReportLevel.COUNTY: "县级应急管理部门（1小时内）",
    ReportLevel.CITY: "设区的市级部门",
    ReportLevel.PROVINCE: "省级部门",
    ReportLevel.STATE: "国务院安全生产监督管理部门",
}
# Art. 9: the unit reports to the county within 1 hour; art. 11: each level passes it up within 2 hours.
FIRST_REPORT = dt.timedelta(hours=1)
EACH_LEVEL_UP = dt.timedelta(hours=2)
SUPPLEMENTARY_WINDOW = dt.timedelta(days=30)  # art. 13: changes within 30 days are reported
# Art. 10: how far up each grade must go.
HIGHEST_LEVEL = {
    IncidentGrade.GENERAL: ReportLevel.CITY,
    IncidentGrade.LARGER: ReportLevel.PROVINCE,
    IncidentGrade.MAJOR: ReportLevel.STATE,
    IncidentGrade.ESPECIALLY_MAJOR: ReportLevel.STATE,
}


@dataclass(frozen=True, slots=True)
class ReportingDeadline:
    level: ReportLevel
    due_at: dt.datetime


def reporting_deadlines(grade: IncidentGrade, *, occurred_at: dt.datetime) -> list[ReportingDeadline]:
    """Deadlines to report to each level this grade must reach, then the supplementary window."""
    levels = list(ReportLevel)
    last = levels.index(HIGHEST_LEVEL[grade])
    return [
        ReportingDeadline(level, occurred_at + FIRST_REPORT + EACH_LEVEL_UP * index)
        for index, level in enumerate(levels[: last + 1])
    ]


def supplementary_due(occurred_at: dt.datetime) -> dt.datetime:
    return occurred_at + SUPPLEMENTARY_WINDOW


def reminders_due(
    deadlines: list[ReportingDeadline], *, reported: set[str], now: dt.datetime, lead: dt.timedelta
) -> list[ReportingDeadline]:
    """Unreported levels whose deadline is within ``lead`` (or already past)."""
    return [d for d in deadlines if d.level.value not in reported and d.due_at - lead <= now]


class IncidentStatus(StrEnum):
    REPORTED = "reported"
    DISPATCHED = "dispatched"
    ON_SCENE = "on_scene"
    CLOSED = "closed"


INCIDENT_TRANSITIONS: dict[IncidentStatus, frozenset[IncidentStatus]] = {
    IncidentStatus.REPORTED: frozenset(
        {IncidentStatus.DISPATCHED, IncidentStatus.ON_SCENE, IncidentStatus.CLOSED}
    ),
    IncidentStatus.DISPATCHED: frozenset({IncidentStatus.ON_SCENE, IncidentStatus.CLOSED}),
    IncidentStatus.ON_SCENE: frozenset({IncidentStatus.CLOSED}),
    IncidentStatus.CLOSED: frozenset(),
}


def next_status(current: IncidentStatus, target: IncidentStatus) -> IncidentStatus:
    if current == target:
        return current
    if target not in INCIDENT_TRANSITIONS[current]:
        raise Conflict(f"an incident cannot go from {current} to {target}", code="invalid_transition")
    return target


# Keywords citizens use for each type; the bot and the alarm bridge map free text to a type with these.
TYPE_KEYWORDS: dict[IncidentType, tuple[str, ...]] = {
    IncidentType.CRANE_COLLAPSE: ("塔吊", "塔机", "起重机", "吊车"),
    IncidentType.EXCAVATION_COLLAPSE: ("基坑", "土方", "塌方"),
    IncidentType.SCAFFOLD_COLLAPSE: ("脚手架", "支模", "模板支撑"),
    IncidentType.FALL_FROM_HEIGHT: ("坠落", "摔下", "掉下来", "跌落"),
    IncidentType.ELECTRIC_SHOCK: ("触电", "电到", "漏电"),
    IncidentType.FIRE: ("火灾", "着火", "起火", "失火", "冒烟"),
    IncidentType.POISONING: ("中毒", "窒息", "有毒气体"),
    IncidentType.OBJECT_STRIKE: ("砸", "物体打击", "掉落物"),
}


def classify_incident_text(text: str) -> IncidentType:
    for incident_type, keywords in TYPE_KEYWORDS.items():
        if any(keyword in text for keyword in keywords):
            return incident_type
    return IncidentType.OTHER


# Critical alarms that open an incident automatically, and the plan each one needs.
ALARM_INCIDENT_TYPES: dict[str, IncidentType] = {
    "crane_moment": IncidentType.CRANE_COLLAPSE,
    "crane_load": IncidentType.CRANE_COLLAPSE,
    "crane_tilt": IncidentType.CRANE_COLLAPSE,
    "tilt": IncidentType.CRANE_COLLAPSE,
    "crane_collapse": IncidentType.CRANE_COLLAPSE,
    "excavation_collapse": IncidentType.EXCAVATION_COLLAPSE,
    "pit_displacement": IncidentType.EXCAVATION_COLLAPSE,
    "scaffold_collapse": IncidentType.SCAFFOLD_COLLAPSE,
}


def incident_type_for_alarm(alarm_type: str, severity: str) -> IncidentType | None:
    """Only critical alarms of a collapse-type hazard become incidents; the rest stay alarms."""
    if severity != "critical":
        return None
    return ALARM_INCIDENT_TYPES.get(alarm_type)


@dataclass(frozen=True, slots=True)
class IncidentReport:
    """What is known when an incident is first reported, by staff, a citizen in the bot or an alarm.
    ``source_ref`` (a request id, a WeChat message, an alarm) makes reporting it again harmless."""

    source: str
    source_ref: str | None
    incident_type: IncidentType
    title: str
    occurred_at: dt.datetime
    description: str = ""
    site_code: str = ""
    project_code: str = ""
    address: str = ""
    lat: float | None = None
    lng: float | None = None
    deaths: int = 0
    serious_injuries: int = 0
    minor_injuries: int = 0
    trapped: int = 0
    direct_loss_yuan: int = 0
    reporter_openid: str = ""

    @property
    def grade(self) -> IncidentGrade:
        return grade_incident(
            deaths=self.deaths, serious_injuries=self.serious_injuries, direct_loss_yuan=self.direct_loss_yuan
        )
