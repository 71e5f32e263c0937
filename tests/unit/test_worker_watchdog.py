"""The API worker watchdog: a dead worker is restarted through the manager's own channel, never while
Sanic is stopping, and a worker that keeps dying is retried at a bounded rate."""

from __future__ import annotations

from dataclasses import dataclass, field

from sanic.worker.constants import ProcessState

from config.worker_watchdog import WorkerWatchdog


@dataclass
class FakeProcess:
    name: str
    state: ProcessState
    alive: bool

    def is_alive(self) -> bool:
        return self.alive


@dataclass
class FakePipe:
    sent: list[str] = field(default_factory=list)

    def send(self, message: str) -> None:
        self.sent.append(message)


@dataclass
class FakeManager:
    transient_processes: list[FakeProcess]
    monitor_publisher: FakePipe = field(default_factory=FakePipe)
    _shutting_down: bool = False


def test_a_killed_worker_is_restarted_and_a_live_one_is_left_alone() -> None:
    manager = FakeManager(
        [
            FakeProcess("Sanic-Server-0-0", ProcessState.FAILED, alive=False),
            FakeProcess("Sanic-Server-1-0", ProcessState.ACKED, alive=True),
        ]
    )
    assert WorkerWatchdog(manager).check(now=100.0) == ["Sanic-Server-0-0"]
    assert manager.monitor_publisher.sent == ["Sanic-Server-0-0"]


def test_a_worker_still_starting_is_not_restarted() -> None:
    manager = FakeManager([FakeProcess("Sanic-Server-0-0", ProcessState.STARTING, alive=False)])
    assert WorkerWatchdog(manager).check(now=100.0) == []


def test_nothing_is_restarted_while_the_server_stops() -> None:
    manager = FakeManager(
        [FakeProcess("Sanic-Server-0-0", ProcessState.FAILED, alive=False)], _shutting_down=True
    )
    assert WorkerWatchdog(manager).check(now=100.0) == []


def test_a_worker_that_keeps_dying_is_retried_at_a_bounded_rate() -> None:
    manager = FakeManager([FakeProcess("Sanic-Server-0-0", ProcessState.FAILED, alive=False)])
    watchdog = WorkerWatchdog(manager, min_interval_s=10.0)
    asked = [watchdog.check(now=t) for t in (0.0, 1.0, 5.0, 10.0, 11.0)]
    assert asked == [["Sanic-Server-0-0"], [], [], ["Sanic-Server-0-0"], []]
    assert watchdog.restarts == 2
