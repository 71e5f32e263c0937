"""Server and worker processes settle their heap once started (config.heap): what start-up built is
frozen out of the collector's reach and the passes are spaced out. Measured in the city-day bench,
where full collections took about a fifth of the bridge's CPU."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from config import cli, heap
from tests.conftest import make_settings


@pytest.fixture
def restored_collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_settle_heap_freezes_what_start_up_built_and_spaces_the_passes(restored_collector: None) -> None:
    built_at_start = [{"window": list(range(10))} for _ in range(100)]
    heap.settle_heap()
    assert gc.get_freeze_count() >= len(built_at_start)
    assert gc.get_threshold() == (heap.YOUNG_PASS_EVERY, heap.MIDDLE_PASS_EVERY, heap.FULL_PASS_EVERY)
    assert gc.get_threshold()[0] > 700  # CPython's default young pass


def test_the_server_app_settles_its_heap_once_started(tmp_path: Path) -> None:
    app = cli.server_app(make_settings(tmp_path))
    started = [
        listener.listener for listener in app._future_listeners if listener.event == "after_server_start"
    ]
    assert heap.settle_after_start in started


def test_a_worker_process_settles_its_heap_after_opening_its_runtime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    order: list[str] = []

    class Runtime:
        async def close(self) -> None:
            order.append("close")

    async def open_runtime(_settings: Any) -> Runtime:
        order.append("open")
        return Runtime()

    async def worker(_runtime: Any) -> None:
        order.append("work")

    monkeypatch.setattr(cli, "open_runtime", open_runtime)
    monkeypatch.setattr(cli, "settle_heap", lambda: order.append("settle"))
    monkeypatch.setattr(cli, "embedded_workers", lambda: [("probe", worker)])
    monkeypatch.setattr(cli, "stop_on_sigterm", lambda: None)
    assert cli.run_worker(make_settings(tmp_path), "probe") == 0
    assert order == ["open", "settle", "work", "close"]
