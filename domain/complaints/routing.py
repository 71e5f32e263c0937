"""Auto-dispatch: which site, project, town and department a complaint belongs to.

The nearest active site within the policy radius wins; otherwise the town (from the nearest project
within ``town_radius_m``, or a town named in the address) and the nuisance type's no-site department.
Reads the projects context by code, never writes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.complaints.rules import SiteCandidate, nearest_site, town_in_text
from domain.complaints.sla import Policy
from domain.geo import bounding_box, haversine_m
from domain.projects.models import Project, Site
from domain.projects.rules import ProjectStatus


@dataclass(frozen=True, slots=True)
class Routing:
    department: str
    site_code: str = ""
    project_code: str = ""
    contractor_uscc: str = ""
    town: str = ""
    distance_m: float | None = None

    @property
    def explanation(self) -> str:
        if self.site_code:
            return (
                f"自动派单：距工地 {self.site_code} 约 {round(self.distance_m or 0)} 米 → {self.department}"
            )
        if self.town:
            return f"自动派单：按属地 {self.town} → {self.department}"
        return f"自动派单 → {self.department}"


async def _site_candidates(lat: float, lng: float, radius_m: float) -> list[SiteCandidate]:
    min_lat, max_lat, min_lng, max_lng = bounding_box(lat, lng, radius_m)
    sites = await Site.filter(
        active=True,
        lat__gte=min_lat,
        lat__lte=max_lat,
        lng__gte=min_lng,
        lng__lte=max_lng,
        project__status=ProjectStatus.ACTIVE,
    ).select_related("project")
    return [
        SiteCandidate(site.code, site.project.code, site.project.town, site.lat, site.lng) for site in sites
    ]


async def _nearest_town(lat: float, lng: float, radius_m: float) -> str:
    min_lat, max_lat, min_lng, max_lng = bounding_box(lat, lng, radius_m)
    rows = await Project.filter(
        lat__gte=min_lat, lat__lte=max_lat, lng__gte=min_lng, lng__lte=max_lng
    ).values_list("town", "lat", "lng")
    ranked = sorted((haversine_m(lat, lng, p_lat, p_lng), town) for town, p_lat, p_lng in rows)
    return ranked[0][1] if ranked and ranked[0][0] <= radius_m else ""


async def route(
    nuisance_type: str, *, lat: float | None, lng: float | None, address: str, policy: Policy
) -> Routing:
    nuisance = policy.nuisance(nuisance_type)
    if lat is not None and lng is not None:
        found = nearest_site(
            lat,
            lng,
            await _site_candidates(lat, lng, policy.dispatch_radius_m),
            radius_m=policy.dispatch_radius_m,
        )
        if found is not None:
            candidate, distance = found
            project = await Project.get(code=candidate.project_code).select_related("contractor")
            return Routing(
                department=nuisance.department,
                site_code=candidate.site_code,
                project_code=candidate.project_code,
                contractor_uscc=project.contractor.uscc if project.contractor else "",
                town=candidate.town,
                distance_m=distance,
            )
        town = await _nearest_town(lat, lng, policy.town_radius_m)
        if town:
            return Routing(department=nuisance.no_site_department, town=town)
    towns = list(await Project.all().distinct().values_list("town", flat=True))
    return Routing(
        department=nuisance.no_site_department, town=town_in_text(address, [str(t) for t in towns])
    )
