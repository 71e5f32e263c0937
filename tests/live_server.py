"""Start the real server (``python -m config run``) as a subprocess on a free port, for tests and
benchmarks that must go through real HTTP."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def running(
    args: list[str], *, env: dict[str, str], log_path: Path, ready_url: str, timeout_s: float = 60
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``args`` until ``ready_url`` answers 200; stop that process (by its PID) afterwards."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        # A session of its own: a failing Sanic manager SIGKILLs its whole process group, which must
        # not be the test runner's.
        process = subprocess.Popen(
            args, cwd=REPO_ROOT, env={**os.environ, **env}, stdout=log, stderr=log, start_new_session=True
        )
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{log_path.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(ready_url, timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def live_server(
    data_dir: Path, *, command: str = "run", startup_timeout_s: float = 60, env: dict[str, str] | None = None
) -> Iterator[str]:
    """Yields the base URL once /healthz answers; stops the process (by its PID) afterwards."""
    port = free_port()
    environment = {
        "DATA_DIR": str(data_dir),
        "PORT": str(port),
        "RUN_EMBEDDED_WORKERS": "false",
        "LOG_LEVEL": "WARNING",
        # Its own SQLite and in-process ports unless the caller says otherwise: the services named in
        # CI's environment are shared with tests that truncate them.
        "DATABASE_URL": "",
        "REDIS_URL": "",
        "MQTT_URL": "",
        "MEDIA_S3_ENDPOINT": "",
        **(env or {}),
    }
    base_url = f"http://127.0.0.1:{port}"
    with running(
        [sys.executable, "-m", "config", command],
        env=environment,
        log_path=data_dir / f"server-{port}.log",
        ready_url=f"{base_url}/healthz",
        timeout_s=startup_timeout_s,
    ):
        yield base_url
