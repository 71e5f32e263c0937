"""Looking inside an uploaded material: its size, its sniffed kind, and for PDFs encryption and pages.

The kind is sniffed by the caller from the content (``adapters.uploads.sniff_type``: this package may
not import adapters) and passed in. PDF parsing is CPU work in pure Python, so ``inspect_file`` runs it
in a thread: a 10 MB PDF must not stall the event loop for every other request.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from pypdf import PdfReader
from pypdf.errors import PyPdfError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FileFacts:
    size: int
    kind: str  # '' when the content matched no known signature
    pages: int | None = None
    encrypted: bool = False
    corrupt: bool = False


def _pdf_facts(data: bytes) -> tuple[int | None, bool, bool]:
    """(pages, encrypted, corrupt); never raises for malformed input."""
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            return None, True, False
        return len(reader.pages), False, False
    # pypdf reaches many code paths on hostile input; each of these means "not a readable PDF".
    except (
        PyPdfError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        IndexError,
        RecursionError,
        OSError,
    ) as error:
        log.info("unreadable PDF upload: %s", type(error).__name__)
        return None, False, True


async def inspect_file(data: bytes, *, sniffed_kind: str | None, max_bytes: int) -> FileFacts:
    kind = sniffed_kind or ""
    if not data or len(data) > max_bytes or kind != "pdf":
        return FileFacts(size=len(data), kind=kind)
    pages, encrypted, corrupt = await asyncio.to_thread(_pdf_facts, data)
    return FileFacts(size=len(data), kind=kind, pages=pages, encrypted=encrypted, corrupt=corrupt)


def upload_problems(facts: FileFacts, *, accepted: Sequence[str], max_bytes: int) -> list[str]:
    """The first thing wrong with one uploaded file, as a ``code: 中文说明`` line (or nothing).

    Checks run in order of cost and each needs the previous one to pass (no type check on 0 bytes).
    """
    checks = (
        (facts.size == 0, "empty_file: 文件为空（0 字节）"),
        (facts.size > max_bytes, f"file_too_large: 文件超过 {max_bytes // (1024 * 1024)} MB 上限"),
        (
            facts.kind not in accepted,
            f"unsupported_type: 按内容识别为 {facts.kind or '无法识别'}，本材料只接受 {'/'.join(accepted)}",
        ),
        (facts.encrypted, "encrypted_pdf: PDF 已加密，请上传未加密的文件"),
        (facts.corrupt, "corrupt_pdf: PDF 文件损坏，无法读取"),
        (facts.kind == "pdf" and not facts.pages, "empty_pdf: PDF 没有页面"),
    )
    return next(([message] for failed, message in checks if failed), [])
