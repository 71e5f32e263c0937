"""Use cases of the projects context: search, nearby, public details.

The list and nearby queries are the hottest read paths of the public API, so they use ``.values()``
(no model instantiation) and fetch exact rows only for the page being returned.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import Q

from domain.errors import NotFound, ValidationFailed
from domain.geo import bounding_box, haversine_m
from domain.projects.models import Milestone, Project, Site
from domain.projects.rules import (
    PROJECT_KIND_LABELS,
    PROJECT_STAGE_LABELS,
    ProjectKind,
    ProjectStage,
    normalise_project_code,
)

MAX_RADIUS_M = 50_000
MAX_PAGE_SIZE = 100
SUMMARY_FIELDS = (
    "code",
    "name",
    "kind",
    "stage",
    "progress_pct",
    "town",
    "street",
    "road",
    "address",
    "lat",
    "lng",
)


@dataclass(frozen=True, slots=True)
class ProjectQuery:
    q: str = ""
    near: tuple[float, float] | None = None
    radius_m: float = 5_000
    town: str = ""
    stage: ProjectStage | None = None
    kind: ProjectKind | None = None
    page: int = 1
    page_size: int = 20

    def __post_init__(self) -> None:
        problems = []
        if self.near is not None:
            lat, lng = self.near
            if not (-90 <= lat <= 90 and -180 <= lng <= 180):
                problems.append("near must be a WGS-84 latitude,longitude pair")
        if not (0 < self.radius_m <= MAX_RADIUS_M):
            problems.append(f"radius_m must be between 1 and {MAX_RADIUS_M}")
        if not (1 <= self.page_size <= MAX_PAGE_SIZE):
            problems.append(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        if not (1 <= self.page <= 100_000):
            problems.append("page must be between 1 and 100000")
        if len(self.q) > 64:
            problems.append("q is limited to 64 characters")
        if problems:
            raise ValidationFailed("; ".join(problems), problems=problems)


@dataclass(frozen=True, slots=True)
class ProjectPage:
    items: list[dict[str, Any]]
    total: int
    page: int
    page_size: int


def _filtered(query: ProjectQuery) -> Any:
    queryset = Project.all()
    for term in query.q.split():
        queryset = queryset.filter(
            Q(name__icontains=term) | Q(address__icontains=term) | Q(road__icontains=term)
        )
    if query.town:
        queryset = queryset.filter(town=query.town)
    if query.stage is not None:
        queryset = queryset.filter(stage=query.stage)
    if query.kind is not None:
        queryset = queryset.filter(kind=query.kind)
    return queryset


def _summary(row: dict[str, Any]) -> dict[str, Any]:
    kind = ProjectKind(row["kind"])
    stage = ProjectStage(row["stage"])
    return {**row, "kind_label": PROJECT_KIND_LABELS[kind], "stage_label": PROJECT_STAGE_LABELS[stage]}


async def search_projects(query: ProjectQuery) -> ProjectPage:
    if query.near is None:
        return await _search_by_text(query)
    return await _search_nearby(query)


async def _search_by_text(query: ProjectQuery) -> ProjectPage:
    queryset = _filtered(query)
    total = await queryset.count()
    offset = (query.page - 1) * query.page_size
    rows = await queryset.order_by("code").offset(offset).limit(query.page_size).values(*SUMMARY_FIELDS)
    return ProjectPage([_summary(row) for row in rows], total, query.page, query.page_size)


async def _search_nearby(query: ProjectQuery) -> ProjectPage:
    assert query.near is not None
    lat, lng = query.near
    min_lat, max_lat, min_lng, max_lng = bounding_box(lat, lng, query.radius_m)
    candidates = (
        await _filtered(query)
        .filter(lat__gte=min_lat, lat__lte=max_lat, lng__gte=min_lng, lng__lte=max_lng)
        .values_list("code", "lat", "lng")
    )
    ranked = sorted(
        (distance, code)
        for code, p_lat, p_lng in candidates
        if (distance := haversine_m(lat, lng, p_lat, p_lng)) <= query.radius_m
    )
    offset = (query.page - 1) * query.page_size
    page = ranked[offset : offset + query.page_size]
    distance_by_code = {code: distance for distance, code in page}
    rows = await Project.filter(code__in=list(distance_by_code)).values(*SUMMARY_FIELDS)
    items = sorted(
        ({**_summary(row), "distance_m": round(distance_by_code[row["code"]], 1)} for row in rows),
        key=lambda item: item["distance_m"],
    )
    return ProjectPage(items, len(ranked), query.page, query.page_size)


def _enterprise(enterprise: Any) -> dict[str, str] | None:
    if enterprise is None:
        return None
    return {"name": enterprise.name, "uscc": enterprise.uscc}


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


async def project_details(code: str) -> dict[str, Any]:
    """Public details: no phone numbers or ID numbers of anyone, ever."""
    normalised = normalise_project_code(code)
    project = (
        await Project.filter(code=normalised)
        .select_related("developer", "contractor", "supervisor", "project_manager", "safety_officer")
        .first()
    )
    if project is None:
        raise NotFound(f"no project with code {normalised}", code="project_not_found")
    milestones = await Milestone.filter(project_id=project.id).order_by("seq")
    sites = await Site.filter(project_id=project.id).values("code", "name", "lat", "lng", "active")
    return {
        **_summary({name: getattr(project, name) for name in SUMMARY_FIELDS}),
        "status": project.status.value,
        "area_m2": project.area_m2,
        "investment_wan": project.investment_wan,
        "planned_start": _iso(project.planned_start),
        "planned_end": _iso(project.planned_end),
        "expected_completion": _iso(project.actual_end or project.planned_end),
        "actual_start": _iso(project.actual_start),
        "actual_end": _iso(project.actual_end),
        "description": project.description,
        "enterprises": {
            "developer": _enterprise(project.developer),
            "contractor": _enterprise(project.contractor),
            "supervisor": _enterprise(project.supervisor),
        },
        "people": {
            "project_manager": project.project_manager.name if project.project_manager else None,
            "safety_officer": project.safety_officer.name if project.safety_officer else None,
        },
        "milestones": [
            {
                "seq": m.seq,
                "name": m.name,
                "planned_date": _iso(m.planned_date),
                "actual_date": _iso(m.actual_date),
            }
            for m in milestones
        ],
        "sites": sites,
    }
