"""Helpers shared by the IoT/alerts tests: a recorder standing in for the outbox's ``enqueue``."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from domain.projects.models import Device, Enterprise, Project, Site
from domain.projects.rules import DeviceType, ProjectKind, ProjectStage
from iot_bridge.bridge import Bridge


@dataclass
class EnqueueRecorder:
    calls: list[dict[str, Any]] = field(default_factory=list)
    keys: dict[str, int] = field(default_factory=dict)

    async def enqueue(self, **kwargs: Any) -> int:
        key = kwargs["idempotency_key"]
        if key not in self.keys:
            self.keys[key] = len(self.keys) + 1
            self.calls.append(kwargs)
        return self.keys[key]


async def make_site(code: str = "WL-2026-0031-S1", *, project_code: str = "WL-2026-0031") -> Site:
    enterprise = await Enterprise.create(
        name=f"建设公司{project_code}", uscc=f"9133108{project_code[-4:]}MA2AAAA"
    )
    project = await Project.create(
        code=project_code,
        name="测试项目",
        kind=ProjectKind.RESIDENTIAL,
        stage=ProjectStage.CONSTRUCTION,
        town="太平街道",
        address="测试路1号",
        lat=28.37,
        lng=121.37,
        contractor=enterprise,
    )
    site = await Site.create(code=code, project=project, name="一号工地", lat=28.37, lng=121.37)
    suffix = project_code[-4:]
    await Device.create(code=f"WLDUST{suffix}01", site=site, device_type=DeviceType.DUST, interval_s=60)
    await Device.create(code=f"WLNOISE{suffix}01", site=site, device_type=DeviceType.NOISE, interval_s=60)
    await Device.create(code=f"WLCRANE{suffix}01", site=site, device_type=DeviceType.CRANE, interval_s=10)
    return site


RULES = Path(__file__).resolve().parents[2] / "config" / "alert_rules.yml"
T0 = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)  # 10:00 in Wenling


def fast_rules(tmp_path: Path, site_code: str = "WL-2026-0031-S1") -> Path:
    """The shipped rules with one site tuned for tests: windows count from the first sample and the
    hold time is two reporting intervals (device time)."""
    raw = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    raw["sites"] = {
        site_code: {
            "defaults": {"hold_s": 120, "update_every_s": 60},
            "dust": {
                "min_samples_15m": 1,
                "min_samples_1h": 1,
                "pm10_15m": {"bands": {"warning": 150, "major": 300}},
            },
        }
    }
    path = tmp_path / "alert_rules.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


async def wait_for(
    predicate: Callable[[], Awaitable[bool]], *, timeout_s: float = 15.0, what: str = "condition"
) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def running(bridge: Bridge) -> AsyncIterator[Bridge]:
    """The bridge's task, once it is ready and (with MQTT) connected; cancelled on the way out."""
    task = asyncio.create_task(bridge.run())
    try:
        await asyncio.wait_for(bridge.ready.wait(), 10)
        if bridge.mqtt is not None:
            await asyncio.wait_for(bridge.mqtt.connected.wait(), 10)
        yield bridge
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
