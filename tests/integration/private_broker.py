"""A Mosquitto of the test's own, on a free port, that a test may stop and start again.

The machine's broker (MQTT_URL) is shared by the whole suite, so a test that restarts a broker gets
its own process. It is configured like ``config/mosquitto-production.conf`` where that matters for
delivery: persistence on (sessions and their queued QoS 1 messages survive a restart) and queues
large enough that nothing is dropped for a slow subscriber.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import shutil
import signal
import socket
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

# ``user``: run as root, Mosquitto would switch to the `mosquitto` user, which cannot write the
# persistence file into the test's private temporary directory.
CONFIG = """\
user {user}
listener {port} 127.0.0.1
allow_anonymous {anonymous}
persistence true
persistence_location {data}/
autosave_interval 1
persistent_client_expiration 1h
max_queued_messages 100000
max_inflight_messages 20
log_dest file {data}/mosquitto.log
log_type error
log_type warning
log_type notice
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PrivateBroker:
    def __init__(self, directory: Path, *, anonymous: bool = True, extra_config: str = "") -> None:
        self.port = free_port()
        directory.mkdir(parents=True, exist_ok=True)
        self._directory = directory
        self._config = directory / "mosquitto.conf"
        config = CONFIG.format(
            port=self.port, data=directory, user=getpass.getuser(), anonymous=str(anonymous).lower()
        )
        config += extra_config
        self._config.write_text(config, encoding="utf-8")
        self._process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._process = self._spawn()
        self.starts += 1
        await self._until_listening()

    def _spawn(self) -> subprocess.Popen[bytes]:
        binary = shutil.which("mosquitto")
        assert binary is not None, "mosquitto is not installed"
        return subprocess.Popen([binary, "-c", str(self._config)])

    async def stop(self) -> None:
        """SIGTERM, as a service manager restarting the broker does: Mosquitto saves its sessions."""
        if self._process is None:
            return
        self._process.send_signal(signal.SIGTERM)
        await asyncio.to_thread(self._process.wait, 10)
        self._process = None

    async def restart(self, *, down_s: float = 1.0) -> None:
        await self.stop()
        await asyncio.sleep(down_s)
        await self.start()

    def log(self) -> str:
        path = self._directory / "mosquitto.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    async def _until_listening(self) -> None:
        for _ in range(100):
            assert self._process is not None
            if self._process.poll() is not None:
                raise AssertionError(f"mosquitto exited with {self._process.returncode}: {self.log()}")
            with contextlib.suppress(OSError):
                _reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"mosquitto did not listen on {self.port}: {self.log()}")


@contextlib.asynccontextmanager
async def private_broker(directory: Path) -> AsyncIterator[PrivateBroker]:
    broker = PrivateBroker(directory)
    await broker.start()
    try:
        yield broker
    finally:
        await broker.stop()
