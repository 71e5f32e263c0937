"""The processes of a production deployment, run as a supervisor would run them, for the fault soak.

Each role is its own process group (``python -m config serve`` with two API workers, or ``python -m
config worker NAME``). Like systemd's ``Restart=always``, a role whose process died is started again
after ``RESTART_DELAY_S``. Redis is a private server with an append-only file fsynced on every write
(what docs/deployment.md asks of production), so it can be restarted without touching anybody else's.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.live_server import REPO_ROOT, free_port

RESTART_DELAY_S = 1.0
STOP_TIMEOUT_S = 20.0


@dataclass
class Role:
    name: str
    args: list[str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    kills: int = 0


@dataclass
class Fleet:
    env: dict[str, str]
    directory: Path
    roles: dict[str, Role] = field(default_factory=dict)
    _supervising: bool = True

    def add(self, name: str, args: list[str]) -> None:
        self.roles[name] = Role(name, args, self.directory / f"{name}.log")

    def start(self, name: str) -> None:
        role = self.roles[name]
        with role.log_path.open("ab") as log:
            role.process = subprocess.Popen(
                [sys.executable, *role.args],
                cwd=REPO_ROOT,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=log,
                start_new_session=True,  # a process group of its own: SIGKILL takes its children too
            )
        role.starts += 1

    def kill(self, name: str) -> None:
        """SIGKILL the whole role (the supervisor brings it back)."""
        role = self.roles[name]
        assert role.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(role.process.pid, signal.SIGKILL)
        role.kills += 1

    async def supervise(self) -> None:
        """Restart=always: any role that exited comes back after a second."""
        while self._supervising:
            for name, role in self.roles.items():
                if role.process is not None and role.process.poll() is not None and self._supervising:
                    await asyncio.sleep(RESTART_DELAY_S)
                    if self._supervising:
                        self.start(name)
            await asyncio.sleep(0.2)

    async def stop(self) -> None:
        self._supervising = False
        for role in self.roles.values():
            if role.process is not None and role.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(role.process.pid, signal.SIGTERM)
        for role in self.roles.values():
            if role.process is None:
                continue
            try:
                await asyncio.wait_for(asyncio.to_thread(role.process.wait), STOP_TIMEOUT_S)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(role.process.pid, signal.SIGKILL)
                await asyncio.to_thread(role.process.wait)

    def log_tail(self, name: str, chars: int = 3000) -> str:
        return self.roles[name].log_path.read_text(errors="replace")[-chars:]


class PrivateRedis:
    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        args = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.directory)]
        args += ["--appendonly", "yes", "--appendfsync", "always", "--save", ""]
        with (self.directory / "redis.log").open("ab") as log:
            self.process = await asyncio.to_thread(subprocess.Popen, args, stdout=log, stderr=log)
        for _ in range(100):
            with contextlib.suppress(OSError):
                _reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return
            await asyncio.sleep(0.1)
        raise RuntimeError("private redis did not start")

    async def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            await asyncio.wait_for(asyncio.to_thread(self.process.wait), STOP_TIMEOUT_S)

    async def restart(self, *, down_s: float = 1.0) -> None:
        await self.stop()
        await asyncio.sleep(down_s)
        await self.start()
        self.restarts += 1


async def api_worker_pid(base_url: str) -> int:
    async with httpx.AsyncClient(timeout=5) as client:
        return int((await client.get(f"{base_url}/healthz")).json()["pid"])


async def wait_until_up(base_url: str, *, timeout_s: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    async with httpx.AsyncClient(timeout=2) as client:
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"{base_url}/healthz")).status_code == 200:
                    return
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError("the API did not start")
            await asyncio.sleep(0.5)
