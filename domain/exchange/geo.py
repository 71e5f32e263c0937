"""GeoJSON layers (RFC 7946, WGS-84 lon/lat) for GIS: projects, sites, active alarms, open complaints,
cameras and emergency resources.

Read-only queries of other contexts' tables, like the reports; no personal data in any property.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from domain.alerts.models import Alarm
from domain.complaints.models import Complaint
from domain.emergency.models import EmergencyResource
from domain.errors import NotFound
from domain.projects.models import Camera, Project, Site

ACTIVE_ALARM_STATES = ("raised", "acknowledged")
CLOSED_COMPLAINT_STATES = ("closed", "merged", "not_accepted")
MAX_FEATURES = 20_000


def _feature(lng: float, lat: float, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lng, lat]},
        "properties": properties,
    }


def _collection(name: str, features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "name": name, "features": features}


async def _site_points() -> dict[str, tuple[float, float, str]]:
    projects = dict(await Project.all().values_list("id", "code"))
    return {
        code: (lng, lat, projects.get(project_id, ""))
        for code, lat, lng, project_id in await Site.all().values_list("code", "lat", "lng", "project_id")
    }


async def _project_features() -> list[dict[str, Any]]:
    rows = (
        await Project.all()
        .limit(MAX_FEATURES)
        .values_list("code", "name", "kind", "stage", "town", "lat", "lng", "progress_pct")
    )
    return [
        _feature(
            lng,
            lat,
            {
                "code": code,
                "name": title,
                "kind": kind,
                "stage": stage,
                "town": town,
                "progress_pct": progress,
            },
        )
        for code, title, kind, stage, town, lat, lng, progress in rows
    ]


async def _site_features() -> list[dict[str, Any]]:
    rows = await Site.filter(active=True).limit(MAX_FEATURES).values_list("code", "name", "lat", "lng")
    return [_feature(lng, lat, {"code": code, "name": title}) for code, title, lat, lng in rows]


async def _active_alarm_features() -> list[dict[str, Any]]:
    points = await _site_points()
    alarms = (
        await Alarm.filter(state__in=ACTIVE_ALARM_STATES)
        .limit(MAX_FEATURES)
        .values_list("id", "site_code", "alarm_type", "severity", "state", "raised_at")
    )
    return [
        _feature(
            points[site][0],
            points[site][1],
            {
                "alarm_id": alarm_id,
                "site_code": site,
                "project_code": points[site][2],
                "alarm_type": kind,
                "severity": severity,
                "state": state,
                "raised_at": at.isoformat(),
            },
        )
        for alarm_id, site, kind, severity, state, at in alarms
        if site in points
    ]


async def _open_complaint_features() -> list[dict[str, Any]]:
    rows = (
        await Complaint.exclude(state__in=CLOSED_COMPLAINT_STATES)
        .filter(lat__isnull=False, lng__isnull=False)
        .limit(MAX_FEATURES)
        .values_list("ticket_no", "nuisance_type", "state", "town", "lat", "lng", "created_at")
    )
    # Coordinates are rounded to ~100 m: the layer shows where nuisances are, not where people live.
    return [
        _feature(
            round(lng, 3),
            round(lat, 3),
            {
                "ticket_no": ticket,
                "nuisance_type": kind,
                "state": state,
                "town": town,
                "created_at": at.isoformat(),
            },
        )
        for ticket, kind, state, town, lat, lng, at in rows
    ]


async def _camera_features() -> list[dict[str, Any]]:
    """Cameras at their site (a camera has no position of its own in the register)."""
    points = await _site_points()
    rows = await Camera.all().limit(MAX_FEATURES).values_list("code", "name", "enabled", "site__code")
    return [
        _feature(
            points[site][0],
            points[site][1],
            {"code": code, "name": title, "enabled": enabled, "site_code": site},
        )
        for code, title, enabled, site in rows
        if site in points
    ]


async def _emergency_resource_features() -> list[dict[str, Any]]:
    """Fire stations, hospitals, warehouses: what they can do, never who to call (contacts stay in the
    emergency board)."""
    rows = (
        await EmergencyResource.all()
        .limit(MAX_FEATURES)
        .values_list("code", "name", "kind", "department", "capabilities", "lat", "lng")
    )
    return [
        _feature(
            lng,
            lat,
            {
                "code": code,
                "name": title,
                "kind": kind,
                "department": department,
                "capabilities": list(capabilities or []),
            },
        )
        for code, title, kind, department, capabilities, lat, lng in rows
    ]


_LAYER_FEATURES: dict[str, Callable[[], Awaitable[list[dict[str, Any]]]]] = {
    "projects": _project_features,
    "sites": _site_features,
    "active_alarms": _active_alarm_features,
    "open_complaints": _open_complaint_features,
    "cameras": _camera_features,
    "emergency_resources": _emergency_resource_features,
}
LAYERS = tuple(_LAYER_FEATURES)


async def layer(name: str) -> dict[str, Any]:
    features = _LAYER_FEATURES.get(name)
    if features is None:
        raise NotFound(f"no layer {name[:40]}; layers: {', '.join(LAYERS)}", code="layer_not_found")
    return _collection(name, await features())
