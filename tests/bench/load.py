"""Load generation shared by the HTTP benchmarks: an open-loop fixed-rate client for latency, and
wrk for throughput (installed with apt when missing)."""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import httpx

from tests.live_server import REPO_ROOT, free_port


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


async def fixed_rate(
    base_url: str, make_path: Callable[[random.Random], str], *, rate: float, seconds: float, seed: int = 7
) -> dict[str, float]:
    """Send ``rate`` requests per second on schedule (open loop) and record each latency in ms."""
    rng = random.Random(seed)
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=base_url, timeout=10, limits=limits) as client:

        async def one(path: str) -> None:
            nonlocal errors
            started = time.perf_counter()
            response = await client.get(path)
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                errors += 1

        tasks = []
        start = time.perf_counter()
        total = int(rate * seconds)
        for n in range(total):
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(make_path(rng))))
        await asyncio.gather(*tasks)
    return {
        "requests": float(total),
        "errors": float(errors),
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
    }


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, capture_output=True)
    return shutil.which("wrk") or "wrk"


def wrk_throughput(url: str, *, seconds: int = 8, connections: int = 32) -> float:
    """Requests per second that wrk sustains against one URL (2 threads, keep-alive)."""
    output = subprocess.run(
        [ensure_wrk(), "-t2", f"-c{connections}", f"-d{seconds}s", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if not match:
        raise RuntimeError(f"wrk printed no rate:\n{output}")
    return float(match.group(1))


@contextlib.contextmanager
def bare_sanic(workers: int = 1) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.bench.bare_sanic", str(port), str(workers)],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
