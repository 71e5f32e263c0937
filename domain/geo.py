"""Distances on WGS-84 coordinates, and the datum conversion at the doors (pure).

The registry stores WGS-84. WeChat location messages come from Tencent Maps in GCJ-02: a door converts
them once, with ``prcoords`` (maintained, and inverts GCJ-02 precisely rather than by one offset step).
"""

from __future__ import annotations

import math

from prcoords import gcj_wgs_bored, wgs_gcj

EARTH_RADIUS_M = 6_372_797.560856  # the radius Redis GEO uses, so both geo indexes agree


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lng2 - lng1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lat: float, lng: float, radius_m: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lng, max_lng) enclosing the circle; used to prefilter by index."""
    d_lat = math.degrees(radius_m / EARTH_RADIUS_M)
    cos_lat = max(math.cos(math.radians(lat)), 1e-6)
    d_lng = math.degrees(radius_m / (EARTH_RADIUS_M * cos_lat))
    return lat - d_lat, lat + d_lat, lng - d_lng, lng + d_lng


def gcj02_to_wgs84(lat: float, lng: float) -> tuple[float, float]:
    """A Tencent-map point (WeChat location messages) in WGS-84, to well under a metre."""
    point = gcj_wgs_bored((lat, lng))
    return point.lat, point.lon


def wgs84_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    point = wgs_gcj((lat, lng))
    return point.lat, point.lon
