"""Start app servers (``python -m tests.wechat_inbound``) and a bare Sanic endpoint as subprocesses."""

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
        process = subprocess.Popen(args, cwd=REPO_ROOT, env={**os.environ, **env}, stdout=log, stderr=log)
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
def app_server(data_dir: Path, **env: str) -> Iterator[str]:
    """The whole app on a free port (settings from ``env``); yields its base URL."""
    port = free_port()
    environment = {
        "DATA_DIR": str(data_dir),
        "PORT": str(port),
        "SEED_DEMO_DATA": "false",
        "RUN_EMBEDDED_WORKERS": "false",
        "LOG_LEVEL": "WARNING",
        **env,
    }
    base_url = f"http://127.0.0.1:{port}"
    with running(
        [sys.executable, "-m", "tests.wechat_inbound"],
        env=environment,
        log_path=data_dir / f"server-{port}.log",
        ready_url=f"{base_url}/healthz",
    ):
        yield base_url
