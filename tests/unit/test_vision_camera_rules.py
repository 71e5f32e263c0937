"""Camera settings validation (pure)."""

from __future__ import annotations

import pytest

from domain.errors import ValidationFailed
from domain.vision.camera_rules import camera_settings, polygon_area


def test_a_full_valid_body_is_read_and_nulls_clear_optional_settings() -> None:
    settings = camera_settings(
        {
            "name": " 大门 ",
            "stream_url": "rtsps://cam.example:322/live",
            "sample_fps": 1,
            "score_threshold": 0.4,
            "work_zone": [[0, 0], [1, 0], [1, 1]],
            "enabled": False,
        }
    )
    assert (settings.name, settings.sample_fps, settings.score_threshold, settings.enabled) == (
        "大门",
        1.0,
        0.4,
        False,
    )
    assert settings.work_zone == ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0))
    cleared = camera_settings({"score_threshold": None, "work_zone": None})
    assert cleared.clear_score_threshold and cleared.clear_work_zone
    untouched = camera_settings({})
    assert not untouched.clear_score_threshold and untouched.sample_fps is None


@pytest.mark.parametrize(
    "body",
    [
        {"name": "bad\ud800name"},
        {"name": "tab\there"},
        {"stream_url": "rtsp://host/\ud800"},
        {"stream_url": "rtsp://host/a b"},
        {"sample_fps": float("nan")},
        {"score_threshold": float("inf")},
        {"work_zone": [[0.1, float("nan")], [0.5, 0.5], [0.9, 0.1]]},
        {"work_zone": "everywhere"},
    ],
)
def test_unsafe_or_meaningless_values_are_refused(body: dict[str, object]) -> None:
    with pytest.raises(ValidationFailed) as refused:
        camera_settings(body)
    assert refused.value.code == "invalid_camera_settings"


def test_polygon_area_is_the_shoelace_area() -> None:
    assert polygon_area(((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))) == 1.0
    assert polygon_area(((0.0, 0.0), (0.5, 0.5), (1.0, 1.0))) == 0.0
