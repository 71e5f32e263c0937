"""Fixtures shared by the IoT and alerts integration tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.infrastructure import Infrastructure
from config.container import build_infrastructure
from tests.conftest import make_settings
from tests.integration.iot_helpers import EnqueueRecorder


@pytest.fixture
def outbox(monkeypatch: pytest.MonkeyPatch) -> EnqueueRecorder:
    """Records what the alert notifications would put in the outbox, instead of writing it."""
    recorder = EnqueueRecorder()
    monkeypatch.setattr("domain.notifications.services.enqueue", recorder.enqueue)
    return recorder


@pytest.fixture
def infra(tmp_path: Path) -> Infrastructure:
    """In-process ports: ``make_settings`` does not inherit REDIS_URL from the environment."""
    return build_infrastructure(make_settings(tmp_path))[0]
