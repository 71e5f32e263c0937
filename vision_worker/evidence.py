"""Evidence snapshots: the frame with the offending boxes marked, the other detections as context, plus
camera name and time (Asia/Shanghai).

The camera name is Chinese, which OpenCV's Hershey fonts cannot draw, so a CJK font found through
fontconfig is used when installed (``fonts-noto-cjk``); without one the overlay falls back to the
ASCII camera code rather than drawing question marks. Fonts are never fetched at run time.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import shutil
import subprocess
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

from domain.vision.rules import HEAD, Detection

log = logging.getLogger(__name__)
SHANGHAI = ZoneInfo("Asia/Shanghai")
Colour = tuple[int, int, int]
COLOURS: dict[str, Colour] = {HEAD: (0, 0, 255), "helmet": (0, 200, 0)}  # BGR: bare head red, helmet green
OTHER_COLOUR: Colour = (255, 160, 0)
OFFENDER_COLOUR: Colour = (0, 0, 255)  # the boxes that triggered the alarm: thick red


@functools.cache
def cjk_font_path() -> str | None:
    """The first installed font that covers Chinese, per ``fc-list :lang=zh``; None when there is none."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    result = subprocess.run(  # noqa: S603 - fixed arguments, no shell
        [fc_list, ":lang=zh", "file"], capture_output=True, text=True, timeout=10, check=False
    )
    for line in result.stdout.splitlines():
        path = line.split(":", 1)[0].strip()
        if path:
            return path
    return None


def _header_text(*, camera_code: str, camera_name: str, at: dt.datetime, cjk: bool) -> str:
    local = at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
    name = f"{camera_name} ({camera_code})" if cjk and camera_name else camera_code
    return f"{name}  {local} CST"


def _box(
    canvas: npt.NDArray[np.uint8], detection: Detection, colour: Colour, thickness: int, caption: str
) -> None:
    x1, y1, x2, y2 = (round(value) for value in detection.box)
    cv2.rectangle(canvas, (x1, y1), (x2, y2), colour, thickness)
    cv2.putText(canvas, caption, (x1, max(34, y1 - 5)), cv2.FONT_HERSHEY_SIMPLEX, 0.5, colour, 1, cv2.LINE_AA)


def render_evidence(
    image: npt.NDArray[np.uint8],
    detections: Sequence[Detection],
    *,
    camera_code: str,
    camera_name: str,
    at: dt.datetime,
    offenders: Sequence[Detection] = (),
    offender_caption: str = "NO HARDHAT",
    quality: int = 85,
) -> bytes:
    """A JPEG of ``image`` with a header line, the boxes that triggered the alarm (``offenders``) marked
    thick with "NO HARDHAT" and their confidence, and the frame's other detections thin, as context.
    Blocking."""
    canvas = image.copy()
    for detection in detections:
        if detection not in offenders:
            colour = COLOURS.get(detection.label, OTHER_COLOUR)
            _box(canvas, detection, colour, 2, f"{detection.label} {detection.score:.2f}")
    for detection in offenders:
        _box(canvas, detection, OFFENDER_COLOUR, 6, f"{offender_caption} {detection.score:.0%}")
    font_path = cjk_font_path()
    header = _header_text(camera_code=camera_code, camera_name=camera_name, at=at, cjk=font_path is not None)
    cv2.rectangle(canvas, (0, 0), (canvas.shape[1], 22), (0, 0, 0), -1)
    if font_path is None:
        cv2.putText(canvas, header, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    else:
        canvas = _draw_unicode(canvas, header, font_path)
    ok, encoded = cv2.imencode(".jpg", canvas, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding of the evidence failed")
    return bytes(encoded.tobytes())


def _draw_unicode(canvas: npt.NDArray[np.uint8], text: str, font_path: str) -> npt.NDArray[np.uint8]:
    picture = Image.fromarray(cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB))
    ImageDraw.Draw(picture).text((4, 2), text, font=ImageFont.truetype(font_path, 16), fill=(255, 255, 255))
    return np.asarray(cv2.cvtColor(np.asarray(picture), cv2.COLOR_RGB2BGR), dtype=np.uint8)
