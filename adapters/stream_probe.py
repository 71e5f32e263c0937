"""拉流测试: open a camera's stream once, grab one frame and give it back as a JPEG, so staff can see
that the stream URL they entered works before a vision worker relies on it.

OpenCV (FFmpeg) is synchronous, so the grab runs in a thread, bounded by the open and read timeouts
FFmpeg honours and by an overall deadline here."""

from __future__ import annotations

import asyncio

import cv2

from domain.errors import DomainError


class StreamUnreachable(DomainError):
    """The camera did not give a frame: a wrong URL, a camera that is off, or a network in between."""

    code = "stream_unreachable"
    status = 422


def _grab(url: str, timeout_s: float) -> bytes:
    timeout_ms = int(timeout_s * 1000)
    params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, timeout_ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, timeout_ms]
    capture = cv2.VideoCapture(url, cv2.CAP_FFMPEG, params)
    try:
        if not capture.isOpened():
            raise StreamUnreachable("the stream could not be opened")
        ok, frame = capture.read()
        if not ok or frame is None:
            raise StreamUnreachable("the stream opened but sent no frame")
        encoded, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 85])
        if not encoded:
            raise StreamUnreachable("the frame could not be encoded")
        return bytes(jpeg.tobytes())
    finally:
        capture.release()


async def grab_frame(url: str, *, timeout_s: float = 8.0) -> bytes:
    if not url:
        raise StreamUnreachable("the camera has no stream URL")
    try:
        async with asyncio.timeout(timeout_s * 2 + 1):
            return await asyncio.to_thread(_grab, url, timeout_s)
    except TimeoutError as error:
        raise StreamUnreachable("the stream did not answer in time") from error
