"""Production shape: ``WORKERS=2 python -m config serve`` starts through Sanic's AppLoader, and both API
worker processes answer, on PostgreSQL and Redis with production settings (issue 14, item 1)."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from config.container import close_database, init_tortoise
from config.evidence_cli import new_signing_key
from tests.integration.iot_helpers import make_site
from tests.live_server import REPO_ROOT, free_port, running


def production_env(tmp_path: Path, *, database_url: str, redis_url: str, workers: int) -> dict[str, str]:
    return {
        "APP_MODE": "production",
        "WORKERS": str(workers),
        "RUN_EMBEDDED_WORKERS": "false",
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
        "DATA_DIR": str(tmp_path),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": f"test:{secrets.token_hex(5)}:",
        "MQTT_URL": os.environ.get("MQTT_URL", "mqtt://127.0.0.1:1883"),
        "SECRET_KEY": secrets.token_urlsafe(48),
        "WECHAT_TOKEN": secrets.token_urlsafe(16),
        "EVIDENCE_SIGNING_KEY": new_signing_key("evidence.test").private_key_text,
        "EVIDENCE_HASH_SALT": secrets.token_urlsafe(32),
        # One machine here: the local-disk media store is allowed explicitly (S3 is tested on its own).
        "MEDIA_ALLOW_LOCAL_IN_PRODUCTION": "true",
        "LOG_LEVEL": "WARNING",
        "WORKER_STARTUP_TIMEOUT_S": "280",
    }


def _pids_answering(base_url: str, *, attempts: int = 400) -> set[int]:
    """Fresh connections in parallel until two different worker processes have answered."""
    seen: set[int] = set()

    def ask(_: int) -> int:
        with httpx.Client(timeout=5) as client:  # a new connection each time: any worker may accept it
            response = client.get(f"{base_url}/healthz")
            assert response.status_code == 200
            return int(response.json()["pid"])

    with ThreadPoolExecutor(max_workers=16) as pool:
        for start in range(0, attempts, 16):
            seen.update(pool.map(ask, range(start, start + 16)))
            if len(seen) >= 2:
                break
    return seen


async def test_two_api_workers_start_and_both_answer(
    postgres_url: str | None, redis_url: str, tmp_path: Path
) -> None:
    if postgres_url is None:
        pytest.skip("DATABASE_URL is not set: the production-shaped server needs PostgreSQL")
    await init_tortoise(postgres_url)
    try:
        await make_site("WL-2026-0777-S1", project_code="WL-2026-0777")
    finally:
        await close_database()
    env = production_env(tmp_path, database_url=postgres_url, redis_url=redis_url, workers=2)
    await asyncio.to_thread(_serve_and_check, env, tmp_path)


def _serve_and_check(env: dict[str, str], tmp_path: Path) -> None:
    base_url = f"http://127.0.0.1:{env['PORT']}"
    with running(
        [sys.executable, "-m", "config", "serve"],
        env=env,
        log_path=tmp_path / "serve.log",
        ready_url=f"{base_url}/healthz",
        timeout_s=300,  # two processes import the app and warm NLU: slow on a loaded CI host
    ) as process:
        pids = _pids_answering(base_url)
        assert len(pids) == 2, f"only {pids} answered"
        assert process.pid not in pids  # the main process supervises; the workers serve
        with httpx.Client(timeout=10) as client:
            for _ in range(10):
                found = client.get(f"{base_url}/api/v1/projects/", params={"q": "测试项目"})
                assert found.status_code == 200
                assert [item["code"] for item in found.json()["items"]] == ["WL-2026-0777"]
            assert client.get(f"{base_url}/readyz").json()["checks"]["database"] == "ok"
        # A worker killed outright (the OOM killer, SIGKILL) is replaced: Sanic alone would go on
        # with one worker fewer for good (config/worker_watchdog.py).
        victim = min(pids)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 120
        while True:
            answering = _pids_answering(base_url)
            if len(answering) == 2 and victim not in answering:
                break
            assert time.monotonic() < deadline, f"after killing {victim}, only {answering} answered"
            time.sleep(1)
        assert process.poll() is None


def test_many_workers_with_embedded_workers_are_refused(tmp_path: Path) -> None:
    """Each API process would run its own bridge and dispatcher: refused with a clear reason."""
    env = {**os.environ, "WORKERS": "2", "RUN_EMBEDDED_WORKERS": "true", "DATA_DIR": str(tmp_path)}
    env |= {"DATABASE_URL": "", "REDIS_URL": "", "MQTT_URL": "", "PORT": str(free_port())}
    result = subprocess.run(
        [sys.executable, "-m", "config", "serve"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert b"RUN_EMBEDDED_WORKERS=false" in result.stderr
