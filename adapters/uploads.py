"""Upload validation: type sniffed from content (never from the name or the declared type), size
limits, and image decoding under a pixel limit so a decompression bomb is refused before it is
decoded."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import filetype
from PIL import Image

from domain.errors import ValidationFailed

# filetype names kinds by extension; the callers speak of kinds. OOXML (xlsx, docx, pptx) is a ZIP
# container, and callers that accept spreadsheets check for "zip" and open it themselves.
_KIND_BY_EXTENSION = {"jpg": "jpeg", "xlsx": "zip", "docx": "zip", "pptx": "zip"}
CONTENT_TYPES = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "pdf": "application/pdf",
    "dwg": "image/vnd.dwg",
    "dxf": "image/vnd.dxf",
    "zip": "application/zip",
}
EXTENSIONS = {"jpeg": "jpg", "png": "png", "pdf": "pdf", "dwg": "dwg", "dxf": "dxf", "zip": "zip"}


@dataclass(frozen=True, slots=True)
class ImageInfo:
    kind: str
    width: int
    height: int
    content_type: str


def _looks_like_dxf(head: bytes) -> bool:
    # ASCII DXF starts with group code 0 and SECTION, possibly after a comment group (999).
    text = head[:256].decode("ascii", errors="ignore").replace("\r", "")
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    return "SECTION" in lines[:6] and (lines[:1] == ["0"] or lines[:1] == ["999"])


def sniff_type(data: bytes) -> str | None:
    """The file kind from its first bytes (``filetype``'s magic numbers, plus ASCII DXF, which has
    none): jpeg, png, pdf, dwg, dxf, zip, gif, exe, elf, ... or None."""
    guess = filetype.guess(data[:8192])
    if guess is not None:
        extension: str = guess.extension
        return _KIND_BY_EXTENSION.get(extension, extension)
    if _looks_like_dxf(data):
        return "dxf"
    return None


def check_size(data: bytes, *, max_bytes: int) -> None:
    if not data:
        raise ValidationFailed("the file is empty", code="empty_file")
    if len(data) > max_bytes:
        raise ValidationFailed(
            f"the file is larger than {max_bytes // (1024 * 1024)} MB", code="file_too_large"
        )


def validate_image(data: bytes, *, max_bytes: int, max_pixels: int) -> ImageInfo:
    """Accept only real JPEG or PNG that decode fully within ``max_pixels``."""
    check_size(data, max_bytes=max_bytes)
    kind = sniff_type(data)
    if kind not in ("jpeg", "png"):
        raise ValidationFailed("only JPEG and PNG images are accepted", code="unsupported_type")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            width, height = probe.size  # read from the header: nothing decoded yet
            if width * height > max_pixels:
                raise ValidationFailed(
                    f"the image is {width}x{height}, over the {max_pixels} pixel limit",
                    code="image_too_large",
                )
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                probe.load()
    except ValidationFailed:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ValidationFailed("the image has too many pixels", code="image_too_large") from error
    except (OSError, SyntaxError, ValueError) as error:
        raise ValidationFailed("the image is corrupt or truncated", code="corrupt_image") from error
    return ImageInfo(kind=kind, width=width, height=height, content_type=CONTENT_TYPES[kind])
