"""Use cases of the projects context: search, nearby, public details.

The list and nearby queries are the hottest read paths of the public API, so they use ``.values()``
(no model instantiation) and fetch exact rows only for the page being returned.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from domain.errors import NotFound, ValidationFailed
from domain.geo import haversine_m
from domain.projects import queries
from domain.projects.models import Device, Enterprise, Milestone, Project, Site
from domain.projects.progress_rules import expected_completion
from domain.projects.read_model import ProjectReadModel, ProjectReadModelCache
from domain.projects.rules import (
    PROJECT_KIND_LABELS,
    PROJECT_STAGE_LABELS,
    ProjectKind,
    ProjectStage,
    device_password_matches,
    normalise_project_code,
    seal_device_password,
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


def _summary(row: dict[str, Any]) -> dict[str, Any]:
    kind = ProjectKind(row["kind"])
    stage = ProjectStage(row["stage"])
    return {**row, "kind_label": PROJECT_KIND_LABELS[kind], "stage_label": PROJECT_STAGE_LABELS[stage]}


async def search_projects(query: ProjectQuery, *, read_model: ProjectReadModel | None = None) -> ProjectPage:
    """Answer from the in-memory read model when the caller has one, else from the database."""
    if read_model is not None:
        return _search_read_model(query, read_model)
    if query.near is None:
        return await _search_by_text(query)
    return await _search_nearby(query)


def _search_read_model(query: ProjectQuery, model: ProjectReadModel) -> ProjectPage:
    filters = _query_filters(query)
    if query.near is None:
        rows, total = model.text_page(**filters)
        return ProjectPage([_summary(row) for row in rows], total, query.page, query.page_size)
    lat, lng = query.near
    ranked, total = model.nearby_page(lat=lat, lng=lng, radius_m=query.radius_m, **filters)
    items = [{**_summary(row), "distance_m": round(distance, 1)} for row, distance in ranked]
    return ProjectPage(items, total, query.page, query.page_size)


async def load_public_summaries() -> list[dict[str, Any]]:
    """Every project's public summary: what the read model is built from."""
    rows = await Project.all().values(*SUMMARY_FIELDS)
    return [{**row, "kind": str(row["kind"]), "stage": str(row["stage"])} for row in rows]


def project_read_model_cache(*, ttl_s: float = 30.0) -> ProjectReadModelCache:
    return ProjectReadModelCache(load_public_summaries, ttl_s=ttl_s)


def _query_filters(query: ProjectQuery) -> dict[str, Any]:
    return {
        "terms": query.q.split(),
        "town": query.town,
        "stage": query.stage.value if query.stage else None,
        "kind": query.kind.value if query.kind else None,
        "offset": (query.page - 1) * query.page_size,
        "limit": query.page_size,
    }


async def _search_by_text(query: ProjectQuery) -> ProjectPage:
    rows, total = await queries.text_page(**_query_filters(query))
    return ProjectPage([_summary(_without_total(row)) for row in rows], total, query.page, query.page_size)


async def _search_nearby(query: ProjectQuery) -> ProjectPage:
    assert query.near is not None
    lat, lng = query.near
    rows, total = await queries.nearby_page(
        lat=lat, lng=lng, radius_m=query.radius_m, **_query_filters(query)
    )
    items = [
        {
            **_summary(_without_total(row)),
            "distance_m": round(haversine_m(lat, lng, row["lat"], row["lng"]), 1),
        }
        for row in rows
    ]
    # The database ranked by an equirectangular distance; order the page by the exact one.
    items.sort(key=lambda item: item["distance_m"])
    return ProjectPage(items, total, query.page, query.page_size)


def _without_total(row: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in row.items() if key != "total"}


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
        "expected_completion": _iso(
            expected_completion(project.stage, planned_end=project.planned_end, actual_end=project.actual_end)
        ),
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


async def site_location(site_code: str) -> dict[str, Any] | None:
    """Where a site is, for other contexts (emergency intake, complaint dispatch): code, project, place."""
    site = await Site.filter(code=site_code).select_related("project").first()
    if site is None:
        return None
    return {
        "site_code": site.code,
        "project_code": site.project.code,
        "name": site.name,
        "address": site.project.address,
        "lat": site.lat,
        "lng": site.lng,
    }


async def gazetteer_names() -> dict[str, Any]:
    """Names the NLU should recognise without retraining: projects (code, name), enterprises, places."""
    rows = await Project.all().values_list("code", "name", "road", "town")
    enterprises = await Enterprise.all().values_list("name", flat=True)
    return {
        "projects": [(code, name) for code, name, _road, _town in rows],
        "companies": [str(name) for name in enterprises],
        "locations": {place for _code, _name, road, town in rows for place in (road, town) if place},
    }


async def set_device_password(device_code: str, password: str) -> None:
    """Stores the HJ 212 PW of a device, sealed; an empty password clears it."""
    if len(password) > 32 or not password.isprintable() or any(c in password for c in ";,=&"):
        raise ValidationFailed("the HJ 212 password must be up to 32 printable characters without ;,=&")
    sealed = seal_device_password(password, salt=secrets.token_hex(8)) if password else ""
    updated = await Device.filter(code=device_code).update(hj212_password=sealed)
    if not updated:
        raise NotFound(f"device {device_code} not found")


async def device_passwords() -> dict[str, str]:
    """Sealed HJ 212 passwords by device code (devices without one are absent)."""
    rows = await Device.filter(enabled=True).exclude(hj212_password="").values_list("code", "hj212_password")
    return {str(code): str(sealed) for code, sealed in rows}


def verify_device_password(sealed: str, password: str) -> bool:
    return device_password_matches(sealed, password)
