"""The garbage collector of a long-running process, settled once it has started.

CPython's default (a young-generation pass every 700 net allocations) makes a service that holds a
large, stable heap rescan it again and again: the IoT bridge keeps the rule windows of a city's
devices, and in the city-day benchmark full collections took about a fifth of its CPU (41 passes,
5.4 s of 30 s). What was built at start (modules, settings, policies, caches) is frozen out of the
collector's reach, and passes come 70 times less often. Reference counting still frees almost
everything at once; only reference cycles wait for a pass."""

from __future__ import annotations

import gc

YOUNG_PASS_EVERY = 50_000  # net allocations between young-generation passes (CPython: 700)
MIDDLE_PASS_EVERY = 20  # young passes per middle pass (CPython: 10)
FULL_PASS_EVERY = 20  # middle passes per full pass, itself still gated by CPython's 25 % growth rule


def settle_heap() -> None:
    """Call once the process has started and before it serves: collect, freeze what survives, and
    space the passes out."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_PASS_EVERY, MIDDLE_PASS_EVERY, FULL_PASS_EVERY)


async def settle_after_start(_app: object) -> None:
    """The same, as a Sanic ``after_server_start`` listener of a server process."""
    settle_heap()
