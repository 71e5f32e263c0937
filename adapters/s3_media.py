"""The S3-compatible media store (production): SeaweedFS, MinIO or a cloud OSS, through aiobotocore.

Objects are keyed ``<prefix><ref[:2]>/<ref>`` with the content-hash reference, so every API process and
vision worker on any host sees the same media. A put is one PUT with a Content-MD5: the server stores
the whole body or nothing, and rejects a body that arrived damaged. Media are at most
``MEDIA_MAX_BYTES`` (10 MB), below S3's single-PUT limit, so no multipart upload is ever left open.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import ClientError

from adapters.media_store import check_ref, reference
from domain.errors import NotFound

log = logging.getLogger(__name__)
_MISSING = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}


@dataclass(frozen=True, slots=True)
class S3Options:
    endpoint: str
    bucket: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"
    prefix: str = "media/"
    timeout_s: float = 10.0


def _missing(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code", "")) in _MISSING


class S3MediaStore:
    def __init__(self, client: Any, *, bucket: str, prefix: str = "media/") -> None:
        self._client, self._bucket, self._prefix = client, bucket, prefix

    def key(self, ref: str) -> str:
        return f"{self._prefix}{check_ref(ref)[:2]}/{ref}"

    async def put(self, data: bytes, *, content_type: str) -> str:
        ref = reference(data, content_type=content_type)
        if await self.exists(ref):
            return ref  # the same bytes are already there: upload once
        await self._client.put_object(
            Bucket=self._bucket,
            Key=self.key(ref),
            Body=data,
            ContentType=content_type.split(";", maxsplit=1)[0].strip() or "application/octet-stream",
            ContentMD5=base64.b64encode(hashlib.md5(data).digest()).decode(),  # noqa: S324 - integrity, not security
        )
        return ref

    async def get(self, ref: str) -> bytes:
        try:
            response = await self._client.get_object(Bucket=self._bucket, Key=self.key(ref))
        except ClientError as error:
            if _missing(error):
                raise NotFound("no such media", code="media_not_found") from error
            raise
        async with response["Body"] as body:
            data: bytes = await body.read()
        return data

    async def exists(self, ref: str) -> bool:
        try:
            await self._client.head_object(Bucket=self._bucket, Key=self.key(ref))
        except ClientError as error:
            if _missing(error):
                return False
            raise
        return True


async def open_s3_media(options: S3Options, stack: contextlib.AsyncExitStack) -> S3MediaStore:
    """A store whose client closes with ``stack``; the bucket is created if it is missing."""
    session = get_session()
    config = AioConfig(
        connect_timeout=options.timeout_s,
        read_timeout=options.timeout_s,
        retries={"max_attempts": 3, "mode": "standard"},
        s3={"addressing_style": "path"},  # SeaweedFS and MinIO serve buckets by path
    )
    client = await stack.enter_async_context(
        session.create_client(
            "s3",
            endpoint_url=options.endpoint,
            region_name=options.region,
            aws_access_key_id=options.access_key,
            aws_secret_access_key=options.secret_key,
            config=config,
        )
    )
    try:
        await client.head_bucket(Bucket=options.bucket)
    except ClientError as error:
        if not _missing(error):
            raise
        log.warning("media bucket %s is missing: creating it", options.bucket)
        await client.create_bucket(Bucket=options.bucket)
    return S3MediaStore(client, bucket=options.bucket, prefix=options.prefix)
