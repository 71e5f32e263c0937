"""Background workers that run inside the API process in embedded mode (and alone in production).

Each entry is ``start(runtime) -> awaitable``: a long-running coroutine that returns only when
cancelled. The app starts every worker after the server starts and cancels them on stop; production
runs the same coroutines in their own processes (``python -m <package>``).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from config.container import Runtime

Worker = Callable[[Runtime], Coroutine[Any, Any, None]]


def embedded_workers() -> list[tuple[str, Worker]]:
    """The workers ``make run`` starts in-process, by name."""
    return []
