"""Content-addressed media stores, the two implementations of ``domain.ports.MediaStore``.

A reference is ``<sha256>.<ext>``: storing the same bytes twice yields the same reference and one
object, which is what "upload once" needs. ``LocalMediaStore`` writes to a temporary file first and
renames it into place; ``adapters.s3_media.S3MediaStore`` uses one PUT with a Content-MD5, which an S3
server applies whole or not at all. Either way a crash never leaves a half-written object under a
valid reference.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from pathlib import Path

from domain.errors import NotFound, ValidationFailed
from domain.ports import MediaStore

__all__ = ["LocalMediaStore", "MediaStore", "check_ref", "reference"]

_REF_RE = re.compile(r"^[0-9a-f]{64}\.[a-z0-9]{1,5}$")
_EXT_BY_TYPE = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "application/pdf": "pdf",
    "image/vnd.dwg": "dwg",
    "image/vnd.dxf": "dxf",
    "audio/amr": "amr",
    "audio/mpeg": "mp3",
    "video/mp4": "mp4",
    "application/octet-stream": "bin",
}


def reference(data: bytes, *, content_type: str) -> str:
    extension = _EXT_BY_TYPE.get(content_type.split(";", maxsplit=1)[0].strip().lower(), "bin")
    return f"{hashlib.sha256(data).hexdigest()}.{extension}"


def check_ref(ref: str) -> str:
    if not _REF_RE.match(ref):
        raise ValidationFailed("invalid media reference", code="invalid_media_ref")
    return ref


class LocalMediaStore:
    """Media under one directory of this machine's disk: the embedded mode's store."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def path(self, ref: str) -> Path:
        return self._root / check_ref(ref)[:2] / ref

    async def put(self, data: bytes, *, content_type: str) -> str:
        ref = reference(data, content_type=content_type)
        await asyncio.to_thread(self._write, ref, data)
        return ref

    def _write(self, ref: str, data: bytes) -> None:
        target = self.path(ref)
        if target.exists():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as handle:
            handle.write(data)
            temporary = Path(handle.name)
        os.replace(temporary, target)

    async def get(self, ref: str) -> bytes:
        target = self.path(ref)
        try:
            return await asyncio.to_thread(target.read_bytes)
        except FileNotFoundError as error:
            raise NotFound("no such media", code="media_not_found") from error

    async def exists(self, ref: str) -> bool:
        return await asyncio.to_thread(self.path(ref).exists)
