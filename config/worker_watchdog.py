"""Brings a dead API worker process back (``WORKERS>1``).

Sanic's worker manager marks a server process that died (SIGKILL, the OOM killer, a segfault in a C
extension) as FAILED and carries on with one worker fewer: the API silently runs at half capacity
until someone restarts the whole service. The fault soak found this. The watchdog runs in the main
process and asks the manager, through its own monitor channel, to restart such a process; the
manager does the restart on its own thread, as it does for auto-reload.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from sanic import Sanic
from sanic.worker.constants import ProcessState

log = logging.getLogger(__name__)

CHECK_EVERY_S = 1.0
# A process that dies again right after its restart (a broken deploy, a port taken) is retried no
# more often than this, so the watchdog never spins; each attempt is logged as an error.
MIN_RESTART_INTERVAL_S = 10.0
# States in which a process is meant to be running; others are being started or stopped by Sanic.
RUNNING_STATES = frozenset(
    {ProcessState.ACKED, ProcessState.JOINED, ProcessState.FAILED, ProcessState.COMPLETED}
)


class WorkerWatchdog:
    def __init__(self, manager: Any, *, min_interval_s: float = MIN_RESTART_INTERVAL_S) -> None:
        self._manager = manager
        self._min_interval_s = min_interval_s
        self._last_restart: dict[str, float] = {}
        self._stop = threading.Event()
        self.restarts = 0

    def dead_workers(self) -> list[str]:
        return [
            process.name
            for process in self._manager.transient_processes
            if process.state in RUNNING_STATES and not process.is_alive()
        ]

    def check(self, *, now: float) -> list[str]:
        """Asks for a restart of each dead worker not restarted within the interval; returns their names."""
        if getattr(self._manager, "_shutting_down", False):
            return []
        asked = []
        for name in self.dead_workers():
            if now - self._last_restart.get(name, float("-inf")) < self._min_interval_s:
                continue
            log.error("API worker %s died; restarting it", name)
            self._last_restart[name] = now
            self._manager.monitor_publisher.send(name)  # the manager's own restart request
            self.restarts += 1
            asked.append(name)
        return asked

    def run(self) -> None:
        while not self._stop.wait(CHECK_EVERY_S):
            try:
                self.check(now=time.monotonic())
            except Exception:  # the watchdog must outlive a surprise in Sanic's internals
                log.exception("worker watchdog check failed")

    def stop(self) -> None:
        self._stop.set()


def install_worker_watchdog(app: Sanic[Any, Any]) -> None:
    @app.main_process_ready
    async def start_watchdog(app: Sanic[Any, Any], _: Any) -> None:
        watchdog = WorkerWatchdog(app.manager)
        threading.Thread(target=watchdog.run, name="worker-watchdog", daemon=True).start()
        app.ctx.worker_watchdog = watchdog

    @app.main_process_stop
    async def stop_watchdog(app: Sanic[Any, Any], _: Any) -> None:
        watchdog: WorkerWatchdog | None = getattr(app.ctx, "worker_watchdog", None)
        if watchdog is not None:
            watchdog.stop()
