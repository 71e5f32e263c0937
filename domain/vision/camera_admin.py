"""Staff management of cameras: register one on a site, change its settings.

The camera row belongs to the projects context (a site's equipment); the settings are the vision
pipeline's, so their rules live here. A change needs no restart: the owning worker re-reads the
cameras every rescan and restarts a camera whose settings differ (its lease kept).
"""

from __future__ import annotations

import re

from tortoise.exceptions import IntegrityError

from domain.errors import Conflict, NotFound, ValidationFailed
from domain.projects.models import Camera, Site
from domain.vision.camera_rules import CameraSettings
from domain.vision.services import CameraInfo, camera_info

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")


def _apply(camera: Camera, settings: CameraSettings) -> None:
    if settings.name is not None:
        camera.name = settings.name
    if settings.stream_url is not None:
        camera.stream_url = settings.stream_url
    if settings.sample_fps is not None:
        camera.sample_fps = settings.sample_fps
    if settings.enabled is not None:
        camera.enabled = settings.enabled
    if settings.score_threshold is not None or settings.clear_score_threshold:
        camera.score_threshold = settings.score_threshold
    if settings.work_zone is not None:
        camera.work_zone = [list(point) for point in settings.work_zone]
    elif settings.clear_work_zone:
        camera.work_zone = None


async def create_camera(code: str, *, site_code: str, settings: CameraSettings) -> CameraInfo:
    if not CODE_PATTERN.match(code):
        raise ValidationFailed("code must be 1-40 letters, digits, '-' or '_'", code="invalid_camera_code")
    if settings.name is None:
        raise ValidationFailed("name is required", code="invalid_camera_settings")
    site = await Site.get_or_none(code=site_code)
    if site is None:
        raise NotFound("no such site", code="site_not_found")
    if await Camera.exists(code=code):
        raise Conflict("a camera with this code exists", code="camera_exists")
    camera = Camera(code=code, site=site, name=settings.name)
    _apply(camera, settings)
    try:
        await camera.save()
    except IntegrityError as error:  # created concurrently by another request
        raise Conflict("a camera with this code exists", code="camera_exists") from error
    return await camera_info(code)


async def update_camera(code: str, settings: CameraSettings) -> CameraInfo:
    camera = await Camera.get_or_none(code=code)
    if camera is None:
        raise NotFound("no such camera", code="camera_not_found")
    _apply(camera, settings)
    await camera.save()
    return await camera_info(code)
