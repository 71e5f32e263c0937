"""Upload validation refuses what is not a real, reasonably sized image, before decoding it."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from adapters.media_store import LocalMediaStore
from adapters.uploads import sniff_type, validate_image
from domain.errors import ValidationFailed

LIMITS = {"max_bytes": 10 * 1024 * 1024, "max_pixels": 40_000_000}


def jpeg(width: int = 64, height: int = 48) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(buffer, format="JPEG")
    return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims huge dimensions: the classic decompression bomb's header."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 1000))
        + chunk(b"IEND", b"")
    )


def test_real_jpeg_is_accepted() -> None:
    info = validate_image(jpeg(), **LIMITS)
    assert (info.kind, info.width, info.height, info.content_type) == ("jpeg", 64, 48, "image/jpeg")


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty_file"),
        (b"MZ\x90\x00" + b"\0" * 100, "unsupported_type"),
        (b"%PDF-1.7 not an image", "unsupported_type"),
        (jpeg()[:200], "corrupt_image"),
        (png_header_only(20_000, 20_000), "image_too_large"),
    ],
)
def test_bad_uploads_are_refused_with_a_code(data: bytes, code: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        validate_image(data, **LIMITS)
    assert caught.value.code == code


def test_oversized_file_is_refused() -> None:
    with pytest.raises(ValidationFailed) as caught:
        validate_image(jpeg(), max_bytes=100, max_pixels=10**7)
    assert caught.value.code == "file_too_large"


def test_sniffing_ignores_names_and_finds_cad_formats() -> None:
    assert sniff_type(b"AC1032\x00\x00") == "dwg"
    assert sniff_type(b"  0\r\nSECTION\r\n  2\r\nHEADER\r\n") == "dxf"
    assert sniff_type(b"hello") is None


async def test_media_store_is_content_addressed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = LocalMediaStore(tmp_path)
    first = await store.put(b"evidence", content_type="image/jpeg")
    second = await store.put(b"evidence", content_type="image/jpeg")
    assert first == second and first.endswith(".jpg")
    assert await store.get(first) == b"evidence"
    with pytest.raises(ValidationFailed):
        store.path("../../etc/passwd")


def test_spreadsheets_sniff_as_zip_and_other_images_by_their_own_kind() -> None:
    import io  # noqa: PLC0415

    from openpyxl import Workbook  # noqa: PLC0415
    from PIL import Image  # noqa: PLC0415

    workbook, buffer = Workbook(), io.BytesIO()
    workbook.save(buffer)
    assert sniff_type(buffer.getvalue()) == "zip"  # the feed import opens XLSX by this kind
    webp = io.BytesIO()
    Image.new("RGB", (8, 8)).save(webp, format="WEBP")
    assert sniff_type(webp.getvalue()) == "webp"
    with pytest.raises(ValidationFailed) as caught:
        validate_image(webp.getvalue(), **LIMITS)
    assert caught.value.code == "unsupported_type"
