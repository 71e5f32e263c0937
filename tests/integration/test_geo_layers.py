"""The map's camera and emergency-resource layers: cameras at their site's point, resources with what
they can do and never a contact (the layers are read by GIS clients and the console map)."""

from __future__ import annotations

import pytest

from domain.emergency.models import EmergencyResource
from domain.exchange import geo
from domain.projects.models import Camera, Site
from tests.integration.test_complaints_api import seed_sites

pytestmark = pytest.mark.usefixtures("database")


async def test_cameras_sit_at_their_site_and_resources_carry_no_contact() -> None:
    await seed_sites()
    site = await Site.get(code="WL-2026-0031-S1")
    await Camera.create(code="WLCAM003101", site=site, name="东侧塔吊", enabled=False)
    await EmergencyResource.create(
        code="FIRE-1", name="太平消防站", kind="fire_station", department="fire",
        capabilities=["fire", "rescue"], lat=28.37, lng=121.38,
        contact_name="张队长", contact_phone="0576-86000000", contact_openid="o-fire-contact",
    )  # fmt: skip

    cameras = await geo.layer("cameras")
    (camera,) = cameras["features"]
    assert camera["geometry"]["coordinates"] == [site.lng, site.lat]
    assert camera["properties"] == {
        "code": "WLCAM003101",
        "name": "东侧塔吊",
        "enabled": False,
        "site_code": site.code,
    }

    resources = await geo.layer("emergency_resources")
    (resource,) = resources["features"]
    assert resource["geometry"]["coordinates"] == [121.38, 28.37]
    assert resource["properties"]["capabilities"] == ["fire", "rescue"]
    flat = str(resources)
    assert "0576" not in flat and "张队长" not in flat and "o-fire-contact" not in flat
