"""Start app servers (``python -m tests.wechat_inbound``) and a bare Sanic endpoint as subprocesses."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

from tests.live_server import free_port, running

__all__ = ["app_server", "free_port", "running"]


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
