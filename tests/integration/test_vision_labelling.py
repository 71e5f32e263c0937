"""Issue 20's labelling loop, as staff and an operator use it: camera alarms keep their raw frame,
staff confirm, reject or redraw them through the API, ``python -m vision_worker dataset export`` writes
a YOLO dataset split by camera-day, and ``evaluate`` scores the real model on it."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import cv2
import numpy as np
import pytest

from adapters.media_store import LocalMediaStore
from adapters.memory import MemoryDedupStore, MemoryEventBus
from config.app import create_app
from config.container import close_database, init_tortoise
from config.settings import REPO_ROOT, Settings
from domain.accounts.rules import Role
from domain.alerts import services as alerts
from domain.alerts.models import Alarm
from domain.projects.models import Camera, Project, Site
from domain.projects.rules import ProjectKind, ProjectStage
from domain.vision.models import AlarmFrame, VisionSample
from domain.vision.rules import Detection, Violation
from domain.vision.sample_rules import Split, split_of
from domain.vision.services import CameraInfo
from tests.conftest import make_settings
from tests.integration.test_vision_api import bearer
from vision_worker.dataset import camera_day
from vision_worker.outcome import AlarmOutcome

SHANGHAI = ZoneInfo("Asia/Shanghai")
MODEL = Settings().vision_model_path
SAMPLES = MODEL.parent / "samples"
needs_model = pytest.mark.skipif(not MODEL.exists(), reason=f"shared model absent at {MODEL}")
SITE = "WL-2026-0077-S1"
CAM_A, CAM_B = "CAM-0077-1", "CAM-0077-2"
VAL_FRACTION = 0.5
FIRST_DAY = dt.date(2026, 3, 2)


def day_on(camera: str, side: Split) -> dt.date:
    """The first day from FIRST_DAY whose camera-day the export puts on ``side``."""
    day = FIRST_DAY
    while split_of(camera, day, val_fraction=VAL_FRACTION) is not side:
        day += dt.timedelta(days=1)
    return day


def local(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=SHANGHAI).astimezone(dt.UTC)


def frame(name: str) -> tuple[np.ndarray, list[Detection]]:
    """A real site frame and its ground-truth boxes as the model's detections (pixels)."""
    image = cv2.imread(str(SAMPLES / f"{name}.jpg"), cv2.IMREAD_COLOR)
    assert image is not None
    height, width = image.shape[:2]
    detections = []
    for line in (SAMPLES / f"{name}.txt").read_text().splitlines():
        class_id, cx, cy, w, h = (float(value) for value in line.split())
        box = ((cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height)
        detections.append(Detection(("head", "helmet")[int(class_id)], 0.9, box))
    return np.asarray(image, dtype=np.uint8), detections


async def camera_alarm(
    media: LocalMediaStore, camera: str, name: str, *, at: dt.datetime, offenders: int = 2
) -> int:
    """A no_hardhat alarm raised the way the worker raises it: evidence, raw frame and detections."""
    image, detections = frame(name)
    heads = tuple(d for d in detections if d.label == "head")[:offenders]
    outcome = AlarmOutcome(
        bus=MemoryEventBus(),
        dedup=MemoryDedupStore(),
        media=media,
        camera_cooldown_s=120,
        score_threshold=0.5,
    )
    info = CameraInfo(camera, "大门摄像头", SITE, "", 1.0, None, True)
    violation = Violation(track_id=1, detection=heads[0], median_score=0.9, frames=3, offenders=heads)
    alarm_id = await outcome(camera=info, violation=violation, detections=detections, image=image, at=at)
    assert alarm_id is not None
    await alerts.clear_alarm(bus=MemoryEventBus(), source=f"camera:{camera}", alarm_type="no_hardhat", at=at)
    return alarm_id


async def seed(db_url: str, data_dir: Path) -> dict[str, int]:
    await init_tortoise(db_url)
    project = await Project.create(
        code="WL-2026-0077",
        name="标注测试项目",
        kind=ProjectKind.RESIDENTIAL,
        stage=ProjectStage.CONSTRUCTION,
        town="太平街道",
        address="测试路7号",
        lat=28.37,
        lng=121.37,
    )
    site = await Site.create(code=SITE, project=project, name="标注测试工地", lat=28.37, lng=121.37)
    for code in (CAM_A, CAM_B):
        await Camera.create(code=code, site=site, name="摄像头", sample_fps=1.0)
    media = LocalMediaStore(data_dir / "media")  # where the app and the export find media
    train_day, val_day = day_on(CAM_A, Split.TRAIN), day_on(CAM_B, Split.VAL)
    ids = {
        "confirmed": await camera_alarm(media, CAM_A, "hard_hat_workers101", at=local(train_day, 10)),
        "rejected": await camera_alarm(media, CAM_A, "hard_hat_workers101", at=local(train_day, 14)),
        "corrected": await camera_alarm(media, CAM_B, "hard_hat_workers295", at=local(val_day, 9)),
        "unlabelled": await camera_alarm(media, CAM_B, "hard_hat_workers295", at=local(val_day, 11)),
        "sensor": await alerts.raise_alarm(
            bus=MemoryEventBus(),
            source="DUST-0077-1",
            alarm_type="dust_pm10_1h",
            severity="warning",
            site_code=SITE,
            value=180.0,
            limit=150.0,
            message="",
            at=local(train_day, 10),
        ),
        "frameless": await alerts.raise_alarm(
            bus=MemoryEventBus(),
            source="camera:CAM-0077-9",
            alarm_type="no_hardhat",
            severity="major",
            site_code=SITE,
            value=0.9,
            limit=0.5,
            message="",
            at=local(train_day, 10),
            evidence_ref="0" * 64 + ".jpg",  # raised before frames were kept
        ),
    }
    await close_database()
    return ids


@pytest.fixture
async def world(db_url: str, tmp_path: Path) -> tuple[Any, dict[str, int], Path]:
    data_dir = tmp_path / "data"
    ids = await seed(db_url, data_dir)
    return create_app(make_settings(data_dir, database_url=db_url)), ids, data_dir


def cli(*args: str, db_url: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": db_url, "DATA_DIR": str(data_dir), "MEDIA_S3_ENDPOINT": ""}
    return subprocess.run(
        [sys.executable, "-m", "vision_worker", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


async def post_verdict(app: Any, alarm_id: int, body: object, role: Role = Role.STAFF) -> Any:
    _, response = await app.asgi_client.post(
        f"/api/v1/alerts/{alarm_id}/verdict", headers=bearer(app.ctx.settings, role), json=body
    )
    return response


def decoded(jpeg: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return np.asarray(image, dtype=np.uint8)


def difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def lines_of(path: Path) -> list[list[float]]:
    return [[float(value) for value in line.split()] for line in path.read_text().splitlines()]


@needs_model
async def test_verdicts_export_as_a_yolo_dataset_split_by_camera_day_and_evaluate(
    world: tuple[Any, dict[str, int], Path], db_url: str, tmp_path: Path
) -> None:
    app, ids, data_dir = world
    # The raw frame kept beside the evidence has no boxes drawn on it: it is the frame itself.
    assert (await post_verdict(app, ids["confirmed"], {"verdict": "confirmed"})).status == 200
    # Confirmed by mistake, then corrected to rejected: one sample, the last verdict.
    assert (await post_verdict(app, ids["rejected"], {"verdict": "confirmed"})).status == 200
    rejected = await post_verdict(app, ids["rejected"], {"verdict": "rejected", "note": "是反光背心"})
    assert rejected.status == 200, rejected.json
    assert rejected.json["verdict"] == "rejected" and rejected.json["labelled_by"] == "staff:1"
    assert [box["role"] for box in rejected.json["boxes"]].count("negative") == 2
    drawn = [{"class": "helmet", "box": [10, 20, 60, 80]}, {"class": "head", "box": [200, 100, 240, 150]}]
    corrected = await post_verdict(app, ids["corrected"], {"verdict": "confirmed", "boxes": drawn})
    assert corrected.status == 200 and corrected.json["corrected"] is True

    _, detail = await app.asgi_client.get(
        f"/api/v1/alerts/{ids['rejected']}", headers=bearer(app.ctx.settings, Role.STAFF)
    )
    kinds = [step["kind"] for step in detail.json["timeline"]]
    assert kinds.count("verdict_confirmed") == 1 and kinds.count("verdict_rejected") == 1
    await init_tortoise(db_url)
    try:
        assert await VisionSample.filter(alarm_id=ids["rejected"]).count() == 1
        assert await VisionSample.all().count() == 3
        kept = await AlarmFrame.get(evidence_ref=(await Alarm.get(id=ids["confirmed"])).evidence_ref)
    finally:
        await close_database()
    media = LocalMediaStore(data_dir / "media")
    original, detections = frame("hard_hat_workers101")
    raw, evidence = decoded(await media.get(kept.frame_ref)), decoded(await media.get(kept.evidence_ref))
    assert raw.shape == original.shape
    # Along the offender's left edge the evidence has its thick red line; the raw frame has none.
    x1, y1, _x2, y2 = (round(value) for value in detections[0].box)
    edge = np.s_[y1 + 2 : y2 - 2, max(0, x1 - 2) : x1 + 3]
    assert difference(raw[edge], original[edge]) < 15 < 60 < difference(evidence[edge], original[edge])

    out = tmp_path / "dataset"
    since = FIRST_DAY.isoformat()
    result = cli(
        "dataset", "export", "--since", since, "--out", str(out), "--val-fraction", str(VAL_FRACTION),
        db_url=db_url, data_dir=data_dir,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "2 image(s) from 1 camera-day(s)" in result.stdout  # train: CAM_A's day

    # Layout: data.yaml with the detector's classes, images and labels mirrored per split.
    assert (out / "data.yaml").read_text() == (
        'path: .\ntrain: images/train\nval: images/val\nnames:\n  0: "head"\n  1: "helmet"\n  2: "person"\n'
    )
    stems = {
        split: sorted(p.stem for p in (out / "images" / split).glob("*.jpg")) for split in ("train", "val")
    }
    for split, names in stems.items():
        assert sorted(p.stem for p in (out / "labels" / split).glob("*.txt")) == names
    assert [name.rsplit("_a", 1)[1] for name in stems["train"]] == [
        str(ids["confirmed"]),
        str(ids["rejected"]),
    ]
    assert [name.rsplit("_a", 1)[1] for name in stems["val"]] == [
        str(ids["corrected"])
    ]  # not the unlabelled one

    # The split: no camera-day on both sides.
    days = {split: {camera_day(name) for name in names} for split, names in stems.items()}
    assert None not in days["train"] | days["val"]
    assert not days["train"] & days["val"]
    assert days["train"] == {(CAM_A, day_on(CAM_A, Split.TRAIN))}

    # Label content: confirmed = every head of the frame; rejected = the two offenders left out.
    truth = lines_of(SAMPLES / "hard_hat_workers101.txt")
    confirmed = lines_of(out / "labels" / "train" / f"{stems['train'][0]}.txt")
    assert len(confirmed) == len(truth) == 5
    for got, expected in zip(confirmed, truth, strict=True):
        assert got[0] == expected[0] and got[1:] == pytest.approx(expected[1:], abs=2e-3)
    assert lines_of(out / "labels" / "train" / f"{stems['train'][1]}.txt") == confirmed[2:]
    redrawn = lines_of(out / "labels" / "val" / f"{stems['val'][0]}.txt")
    height, width = frame("hard_hat_workers295")[0].shape[:2]
    expected_lines = [
        [1, 35 / width, 50 / height, 50 / width, 60 / height],
        [0, 220 / width, 125 / height, 40 / width, 50 / height],
    ]
    assert len(redrawn) == 2
    for got, expected in zip(redrawn, expected_lines, strict=True):
        assert got == pytest.approx(expected, abs=1e-5)
    # Raw frames, byte for byte what the worker kept.
    exported = (out / "images" / "train" / f"{stems['train'][0]}.jpg").read_bytes()
    assert exported == await media.get(kept.frame_ref)

    # The real model scored on the exported folder.
    scored = cli("evaluate", str(out), "--json", "--model", str(MODEL), db_url=db_url, data_dir=data_dir)
    assert scored.returncode == 0, scored.stderr
    report = json.loads(scored.stdout)
    by_class = {row["class"]: row for row in report["classes"]}
    assert set(by_class) == {"head", "helmet"}
    assert by_class["head"]["labelled"] == 5 + 3 + 1 and by_class["helmet"]["labelled"] == 1
    assert by_class["head"]["detected"] > 0 and 0 < by_class["head"]["ap50"] <= 1
    assert 0 < by_class["head"]["recall"] <= 1 and 0 < by_class["head"]["precision"] <= 1

    # A second export into the same folder is refused: old frames would mix in.
    again = cli("dataset", "export", "--since", since, "--out", str(out), db_url=db_url, data_dir=data_dir)
    assert again.returncode == 2 and "not empty" in again.stderr


async def test_export_refuses_a_period_without_samples(
    world: tuple[Any, dict[str, int], Path], db_url: str, tmp_path: Path
) -> None:
    _app, _ids, data_dir = world
    out = tmp_path / "empty"
    result = cli(
        "dataset", "export", "--since", "2099-01-01", "--out", str(out), db_url=db_url, data_dir=data_dir
    )
    assert result.returncode == 2 and "no labelled samples" in result.stderr
    assert not out.exists() or not any(out.iterdir())


async def test_verdict_errors_answer_4xx_with_a_code(world: tuple[Any, dict[str, int], Path]) -> None:
    app, ids, _data_dir = world
    alarm = ids["confirmed"]
    for body, code in (
        ({"verdict": "maybe"}, "invalid_verdict"),
        ([1, 2], "invalid_json"),
        ({"verdict": "confirmed", "boxes": [{"class": "head", "box": [0, 0, 9999, 10]}]}, "invalid_box"),
        ({"verdict": "rejected", "boxes": [{"class": "cat", "box": [0, 0, 5, 5]}]}, "invalid_box"),
    ):
        response = await post_verdict(app, alarm, body)
        assert (response.status, response.json["code"]) == (400, code), body
    missing = await post_verdict(app, 987654, {"verdict": "confirmed"})
    assert (missing.status, missing.json["code"]) == (404, "alarm_not_found")
    sensor = await post_verdict(app, ids["sensor"], {"verdict": "confirmed"})
    assert (sensor.status, sensor.json["code"]) == (409, "not_a_camera_alarm")
    frameless = await post_verdict(app, ids["frameless"], {"verdict": "rejected"})
    assert (frameless.status, frameless.json["code"]) == (409, "no_frame_kept")
    # Labelling is the bureau's: a site manager (whose site was alarmed) may not reject its alarms.
    assert (await post_verdict(app, alarm, {"verdict": "rejected"}, Role.SITE_MANAGER)).status == 403
    _, anonymous = await app.asgi_client.post(
        f"/api/v1/alerts/{alarm}/verdict", json={"verdict": "confirmed"}
    )
    assert anonymous.status == 401
