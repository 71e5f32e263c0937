"""Benchmark: an encrypted text message through NLU to a passive encrypted reply (project query path),
against a bare Sanic JSON endpoint measured in the same run.

    .venv/bin/python -m tests.bench.bench_wechat [--rate 200] [--seconds 8] [--workers 1,2]

Both servers run as subprocesses on free ports, seeded demo data on BENCH_DATABASE_URL (PostgreSQL)
or SQLite; each worker count listed
is a run of its own (default 1 and 2). With 1 the app is one embedded worker; with N it is
``python -m config serve`` through Sanic's AppLoader with N API processes and, when REDIS_URL is set,
the real Redis for dialogue state and message dedup (its own key prefix); the bare baseline runs N
workers too.
A raw-socket asyncio load generator (keep-alive connections) first offers a fixed rate
(open loop, default 200 msg/s) and records latency, then runs closed-loop for maximum throughput.
Requests are signed and encrypted beforehand with wechatpy's real crypto, so the generator's own CPU
does not count. Prints one JSON line; the whole run stays under about 60 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

QUESTIONS = (
    "万昌路那个工地在建什么",
    "九龙大道的工地是什么项目",
    "横湖中路在建什么",
    "泽国大道那个工程什么时候完工",
    "锦屏路的工地",
    "东辉北路在建什么",
    "北山路那个项目",
    "三星大道的工地施工单位是谁",
)
CONNECTIONS = 32


class Connection:
    """One keep-alive HTTP/1.1 connection: send a request, read one response (Content-Length bodies)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        body = await self.reader.readexactly(length)
        return status, body

    def close(self) -> None:
        self.writer.close()


def _raw(method: str, target: str, body: bytes = b"", content_type: str = "text/xml") -> bytes:
    head = f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
    if body:
        head += f"Content-Type: {content_type}\r\n"
    return (head + "\r\n").encode() + body


def build_wechat_requests(count: int, aes_key: str, *, tag: str) -> list[bytes]:
    from tests.wechat_inbound import WeChatSender  # noqa: PLC0415

    senders = [WeChatSender(aes_key=aes_key) for _ in range(64)]
    requests = []
    for index in range(count):
        sender = senders[index % len(senders)]
        params, body = sender.request(sender.text(QUESTIONS[index % len(QUESTIONS)]), nonce=f"{tag}{index}")
        requests.append(_raw("POST", "/wechat/callback?" + urlencode(params), body))
    return requests


async def _open_loop(port: int, requests: list[bytes], rate: float) -> tuple[list[float], int, list[bytes]]:
    """Offer ``rate`` requests/s regardless of answers; latency counts from the scheduled send time."""
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(CONNECTIONS):
        pool.put_nowait(await Connection.open(port))
    latencies: list[float] = []
    errors = 0
    samples: list[bytes] = []

    async def one(raw: bytes, scheduled: float) -> None:
        nonlocal errors
        connection = await pool.get()
        try:
            status, body = await connection.request(raw)
        finally:
            pool.put_nowait(connection)
        latencies.append(time.perf_counter() - scheduled)
        if status != 200:
            errors += 1
        elif len(samples) < 5:
            samples.append(body)

    start = time.perf_counter()
    tasks = []
    for index, raw in enumerate(requests):
        scheduled = start + index / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(raw, scheduled)))
    await asyncio.gather(*tasks)
    while not pool.empty():
        pool.get_nowait().close()
    return latencies, errors, samples


async def _closed_loop(port: int, requests: list[bytes], seconds: float) -> tuple[float, int]:
    """Maximum throughput (only 200 answers count) and the number of non-200 answers: CONNECTIONS
    clients send back to back for ``seconds``."""
    done = 0
    failed = 0
    deadline = time.perf_counter() + seconds
    cursor = iter(range(10**9))

    async def client() -> None:
        nonlocal done, failed
        connection = await Connection.open(port)
        try:
            while time.perf_counter() < deadline:
                raw = requests[next(cursor) % len(requests)]
                status, _body = await connection.request(raw)
                if status == 200:
                    done += 1
                else:
                    failed += 1
        finally:
            connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CONNECTIONS)))
    return done / (time.perf_counter() - started), failed


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


# The baseline (GET /healthz, POST /json) on as many workers as the app; its app is module-level, as
# Sanic needs to find it again in each worker process.
BARE_SERVER = "tests.bench.bare_sanic"


@contextlib.contextmanager
def _app_under_test(data_dir: Path, workers: int, env: dict[str, str]) -> Iterator[str]:
    """One embedded worker (the probe-less test server), or ``config serve`` with ``workers`` API
    processes, as production runs it."""
    from tests.live_server import free_port, running  # noqa: PLC0415
    from tests.wechat_servers import app_server  # noqa: PLC0415

    if workers == 1:
        with app_server(data_dir, **env) as base_url:
            yield base_url
        return
    port = free_port()
    redis_url = os.environ.get("REDIS_URL", "")
    environment = {
        **env,
        "DATA_DIR": str(data_dir),
        "PORT": str(port),
        "WORKERS": str(workers),
        "SEED_DEMO_DATA": "false",
        "RUN_EMBEDDED_WORKERS": "false",
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": f"bench:{secrets.token_hex(4)}:",
        "MQTT_URL": "",
        "MEDIA_S3_ENDPOINT": "",
    }
    with running(
        [sys.executable, "-m", "config", "serve"],
        env=environment,
        log_path=data_dir / f"serve-{port}.log",
        ready_url=f"http://127.0.0.1:{port}/healthz",
        timeout_s=120,
    ):
        yield f"http://127.0.0.1:{port}"


async def _prepare_database(data_dir: Path) -> str:
    """BENCH_DATABASE_URL (PostgreSQL, wiped) as production runs it, else a SQLite file: migrated
    and seeded. With SQLite, two API processes wait on each other's write locks (the user's
    interaction record), which shows in the p99 and not in production."""
    from config.container import close_database, install_policies  # noqa: PLC0415
    from config.seed import seed_demo_data  # noqa: PLC0415
    from tests.bench.bench_iot import open_bench_database  # noqa: PLC0415

    await install_policies()  # the seed reads the credit and alert policies, as the app does
    url = await open_bench_database(data_dir)
    await seed_demo_data(data_dir)
    await close_database()
    return url


def _check_samples(samples: list[bytes], aes_key: str) -> int:
    from tests.wechat_inbound import WeChatSender  # noqa: PLC0415

    reader = WeChatSender(aes_key=aes_key)
    return sum(1 for body in samples if "【" in reader.read_reply(body).get("Content", ""))


def run(rate: float, seconds: float, *, workers: int = 1) -> dict[str, object]:
    from tests.wechat_inbound import APPID, TOKEN, new_aes_key  # noqa: PLC0415
    from tests.wechat_servers import free_port, running  # noqa: PLC0415

    aes_key = new_aes_key()
    data_dir = Path(tempfile.mkdtemp(prefix="bench-wechat-"))
    database_url = asyncio.run(_prepare_database(data_dir))
    total = int(rate * seconds)
    wechat_requests = build_wechat_requests(total, aes_key, tag="open")
    # Each closed-loop request needs a fresh MsgId and nonce too (dedup would short-cut repeats).
    closed_requests = build_wechat_requests(12_000, aes_key, tag="closed")
    env = {
        "DATABASE_URL": database_url,
        "WECHAT_TOKEN": TOKEN,
        "WECHAT_APPID": APPID,
        "WECHAT_AES_KEY": aes_key,
        "LOG_LEVEL": "WARNING",
    }
    result: dict[str, object] = {
        "bench": "wechat_passive_reply",
        "rate_offered": rate,
        "seconds": seconds,
        "workers": workers,
        "redis": bool(workers > 1 and os.environ.get("REDIS_URL")),
        "database": database_url.split(":", 1)[0],
    }
    with _app_under_test(data_dir, workers, env) as base_url:
        port = int(base_url.rsplit(":", 1)[1])
        asyncio.run(_open_loop(port, wechat_requests[: int(rate)], rate))  # warm-up: NLU, caches, DB
        latencies, errors, samples = asyncio.run(_open_loop(port, wechat_requests[int(rate) :], rate))
        result |= {
            "wechat_p50_ms": round(_p(latencies, 0.50), 2),
            "wechat_p95_ms": round(_p(latencies, 0.95), 2),
            "wechat_p99_ms": round(_p(latencies, 0.99), 2),
            "wechat_errors": errors,
            "wechat_replies_checked": _check_samples(samples, aes_key),
        }
        max_rps, failed = asyncio.run(_closed_loop(port, closed_requests, 4.0))
        result |= {"wechat_max_rps": round(max_rps, 1), "wechat_max_errors": failed}
    bare_port = free_port()
    bare_requests = [_raw("POST", "/json", b'{"text": "hi"}', "application/json")] * total
    with running(
        [sys.executable, "-m", BARE_SERVER, str(bare_port), str(workers)],
        env={},
        log_path=data_dir / "bare.log",
        ready_url=f"http://127.0.0.1:{bare_port}/healthz",
    ):
        latencies, errors, _ = asyncio.run(_open_loop(bare_port, bare_requests[: int(rate * seconds)], rate))
        result |= {
            "bare_p50_ms": round(_p(latencies, 0.50), 2),
            "bare_p95_ms": round(_p(latencies, 0.95), 2),
            "bare_p99_ms": round(_p(latencies, 0.99), 2),
            "bare_errors": errors,
        }
        max_rps, failed = asyncio.run(_closed_loop(bare_port, bare_requests, 4.0))
        result |= {"bare_max_rps": round(max_rps, 1), "bare_max_errors": failed}
    result["ratio"] = round(float(result["wechat_max_rps"]) / float(result["bare_max_rps"]), 3)  # type: ignore[arg-type]
    result["cpu_count"] = os.cpu_count()
    result["load_avg_1m"] = round(os.getloadavg()[0], 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument(
        "--workers", default="1,2", help="API process counts to measure, comma-separated (default 1,2)"
    )
    args = parser.parse_args()
    counts = [int(count) for count in str(args.workers).split(",")]
    runs = [run(args.rate, args.seconds, workers=count) for count in counts]
    print(json.dumps(runs[0] if len(runs) == 1 else {"bench": "wechat_passive_reply", "runs": runs}))


if __name__ == "__main__":
    main()
