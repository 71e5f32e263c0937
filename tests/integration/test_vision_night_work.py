"""Night work seen by camera, end to end on a real database: frames through the camera pipeline, the
permit check, the site's noise and the alarm with its evidence (issue 16)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from adapters.media_store import LocalMediaStore
from adapters.memory import MemoryCache, MemoryDedupStore, MemoryEventBus
from domain.alerts.models import Alarm, MinuteAggregate
from domain.permits.rules import PermitWindow
from domain.permits.services import permitted_stretches, permitted_stretches_by_site, register_permit
from domain.vision.rules import Detection, NightWorkConfig
from tests.integration.iot_helpers import make_site
from tests.unit.test_vision_pipeline import RecordingSink, ScriptedDetector, camera, noisy_frame
from vision_worker.config import PipelineConfig
from vision_worker.outcome import NightWorkOutcome
from vision_worker.pipeline import CameraPipeline, Frame, InferencePool

pytestmark = pytest.mark.usefixtures("database")
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
PEOPLE = [
    Detection("helmet", 0.85, (100.0, 100.0, 140.0, 140.0)),
    Detection("head", 0.7, (300, 120, 340, 160)),
]


def pipeline(tmp_path: Path) -> tuple[CameraPipeline, InferencePool, LocalMediaStore]:
    media = LocalMediaStore(tmp_path / "media")
    pool = InferencePool([ScriptedDetector(PEOPLE)])
    night = NightWorkOutcome(bus=MemoryEventBus(), dedup=MemoryDedupStore(), media=media, cooldown_s=1800)
    config = PipelineConfig(motion_threshold=0, night_work=NightWorkConfig(min_frames=5, min_seconds=60))
    # The no-hardhat rule runs too; its sink only records here.
    built = CameraPipeline(
        camera(),
        pool=pool,
        sink=RecordingSink(),
        night_sink=night,
        config=config,
        cache=MemoryCache(),
        owner="w",
    )
    return built, pool, media


async def play(camera_pipeline: CameraPipeline, start: dt.datetime, *, frames: int, step_s: int = 10) -> None:
    for index in range(frames):
        at = (start + dt.timedelta(seconds=index * step_s)).astimezone(dt.UTC)
        await camera_pipeline.process(Frame(at=at, image=noisy_frame(index)))


async def test_people_at_night_without_a_permit_raise_night_work_with_the_sites_noise(tmp_path: Path) -> None:
    await make_site()
    start = dt.datetime(2026, 12, 4, 23, 0, tzinfo=SHANGHAI)
    for minute in range(20):  # the site's noise monitor over the 20 minutes before
        at = (start - dt.timedelta(minutes=20 - minute)).astimezone(dt.UTC)
        await MinuteAggregate.create(
            site_code="WL-2026-0031-S1", device_code="N1", metric="leq_db", minute=at,
            count=2, total=124.0, minimum=61.0, maximum=63.0, valid_count=2, valid_total=124.0,
        )  # fmt: skip
    camera_pipeline, pool, media = pipeline(tmp_path)
    try:
        await play(camera_pipeline, start, frames=12)
    finally:
        pool.close()
    alarm = await Alarm.get(alarm_type="night_work")
    assert alarm.source == "camera:CAM-0031-1" and alarm.value == 2
    assert "23:01" in alarm.message and "2 人在场作业" in alarm.message, alarm.message
    assert "无有效夜间施工许可" in alarm.message and "62 dB(A)" in alarm.message, alarm.message
    assert alarm.evidence_ref and (await media.get(alarm.evidence_ref)).startswith(b"\xff\xd8")
    assert await Alarm.filter(alarm_type="night_work").count() == 1  # one per cooldown


async def test_a_permit_silences_night_work_only_until_its_window_ends(tmp_path: Path) -> None:
    await make_site()
    await register_permit(
        certificate_no="YJ-2026-0042",
        site_code="WL-2026-0031-S1",
        window=PermitWindow(dt.date(2026, 12, 1), dt.date(2026, 12, 10), dt.time(22, 0), dt.time(23, 0)),
        works="混凝土连续浇筑",
        issued_by="温岭市住建局",
        notice_posted=True,
        notice_ref="公告2026-42",
        created_by="staff:test",
    )
    camera_pipeline, pool, _media = pipeline(tmp_path)
    try:
        await play(camera_pipeline, dt.datetime(2026, 12, 4, 22, 50, tzinfo=SHANGHAI), frames=60)  # to 23:00
        assert await Alarm.filter(alarm_type="night_work").count() == 0  # within the permit
        await play(camera_pipeline, dt.datetime(2026, 12, 4, 23, 0, 10, tzinfo=SHANGHAI), frames=3)
    finally:
        pool.close()
    alarm = await Alarm.get(alarm_type="night_work")  # at 23:00:10, not five minutes of cache later
    assert alarm.raised_at == dt.datetime(2026, 12, 4, 15, 0, 10, tzinfo=dt.UTC)
    assert "无噪声监测数据" in alarm.message


async def test_the_stretches_of_many_sites_in_one_query_match_each_sites_own() -> None:
    """The bridge warms its permit cache for every noise site at once; each answer must be the one
    the single-site lookup gives, and a site without a permit must be in it with no stretch."""
    await make_site()
    await make_site("WL-2026-0032-S1", project_code="WL-2026-0032")
    await register_permit(
        certificate_no="YJ-2026-0043",
        site_code="WL-2026-0031-S1",
        window=PermitWindow(dt.date(2026, 12, 1), dt.date(2026, 12, 10), dt.time(22, 0), dt.time(23, 0)),
        works="混凝土连续浇筑",
        issued_by="温岭市住建局",
        notice_posted=True,
        notice_ref="公告2026-43",
        created_by="staff:test",
    )
    since = dt.datetime(2026, 12, 4, 12, 0, tzinfo=SHANGHAI)
    until = since + dt.timedelta(days=1)
    sites = ["WL-2026-0031-S1", "WL-2026-0032-S1", "WL-2099-0001-S1"]
    together = await permitted_stretches_by_site(sites, since, until)
    assert together == {code: await permitted_stretches(code, since, until) for code in sites}
    assert together["WL-2026-0031-S1"] == [
        (dt.datetime(2026, 12, 4, 22, 0, tzinfo=SHANGHAI), dt.datetime(2026, 12, 4, 23, 0, tzinfo=SHANGHAI))
    ]
    assert together["WL-2026-0032-S1"] == [] and together["WL-2099-0001-S1"] == []
    assert await permitted_stretches_by_site([], since, until) == {}
