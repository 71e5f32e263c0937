"""Frame sources feeding a camera pipeline.

- ``stream_source``: RTSP, HTTP (MJPEG) or a video file through OpenCV, read in a thread, reconnecting
  with exponential backoff. Frames are grabbed continuously (so the decoder never lags behind live)
  but only decoded (``retrieve``) at the camera's sampling rate.
- ``upload_source``: frames uploaded through the API, from the camera's Redis stream with a consumer
  group. On start it first claims what a dead owner read and never acknowledged (XAUTOCLAIM).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
import threading
import time
from collections.abc import Callable

import cv2
import numpy as np

from domain.errors import ValidationFailed
from domain.ports import BusMessage, EventBus
from domain.vision.events import FRAME_GROUP, UploadedFrame, frame_stream
from vision_worker.pipeline import CameraPipeline, Done, Frame

log = logging.getLogger(__name__)
IDLE_POLL_MAX_S = 1.0
STREAM_STOP_TIMEOUT_S = 3.0


def backoff_delays(initial_s: float, maximum_s: float) -> Callable[[], float]:
    """Exponential backoff with full jitter; call ``reset`` by making a new one after a success."""
    attempt = 0

    def next_delay() -> float:
        nonlocal attempt
        attempt += 1
        return random.uniform(0, min(maximum_s, initial_s * 2 ** (attempt - 1)))

    return next_delay


def _is_file(url: str) -> bool:
    return "://" not in url


def _tell(loop: asyncio.AbstractEventLoop, callback: Callable[..., object], *args: object) -> bool:
    """Hand ``callback`` to the worker's event loop; False once that loop is closed. The worker waits
    for this thread only for a bounded time (a grab or an open on a dead RTSP link can block longer),
    so the thread may outlive the loop: it then has no one to tell and ends."""
    if loop.is_closed():
        return False
    try:
        loop.call_soon_threadsafe(callback, *args)
    except RuntimeError:  # closed between the check and the call
        return False
    return True


def _read_stream(
    url: str,
    *,
    pipeline: CameraPipeline,
    loop: asyncio.AbstractEventLoop,
    stop: threading.Event,
    backoff: tuple[float, float],
) -> None:
    """Blocking reader loop (runs in its own thread until ``stop``)."""
    cv2.setNumThreads(1)
    delays = backoff_delays(*backoff)
    interval = 1 / pipeline.camera.sample_fps if pipeline.camera.sample_fps > 0 else 0.0
    while not stop.is_set():
        capture = cv2.VideoCapture(url)
        if not capture.isOpened():
            capture.release()
            if not _tell(loop, pipeline.set_source_state, "reconnecting"):
                return
            stop.wait(delays())
            continue
        if not _tell(loop, pipeline.set_source_state, "streaming"):
            capture.release()
            return
        delays = backoff_delays(*backoff)
        file_pace = 1 / (capture.get(cv2.CAP_PROP_FPS) or 25.0) if _is_file(url) else 0.0
        last_sample = 0.0
        try:
            while not stop.is_set():
                if not capture.grab():
                    break  # stream dropped (or the file ended): reconnect / replay
                now = time.monotonic()
                if now - last_sample >= interval:
                    ok, image = capture.retrieve()
                    if ok:
                        last_sample = now
                        frame = Frame(at=dt.datetime.now(dt.UTC), image=np.asarray(image, dtype=np.uint8))
                        if not _tell(loop, _offer, pipeline, frame):
                            return
                if file_pace:
                    stop.wait(file_pace)
        finally:
            capture.release()
        if not _tell(loop, pipeline.set_source_state, "reconnecting"):
            return
        stop.wait(delays())


def _offer(pipeline: CameraPipeline, frame: Frame) -> None:
    """On the loop: hand a frame read by the thread to its pipeline (``offer`` decides what to keep)."""
    task = asyncio.get_running_loop().create_task(pipeline.offer(frame))
    _OFFERS.add(task)
    task.add_done_callback(_OFFERS.discard)


_OFFERS: set[asyncio.Task[None]] = set()  # referenced until done: the loop holds tasks weakly


async def stream_source(url: str, pipeline: CameraPipeline, *, backoff: tuple[float, float]) -> None:
    """Runs the blocking reader in its own thread (not the default executor, which it would hold
    for ever and starve every ``asyncio.to_thread`` caller) until cancelled."""
    stop = threading.Event()
    loop = asyncio.get_running_loop()
    finished: asyncio.Future[None] = loop.create_future()

    def mark_finished() -> None:
        if not finished.done():
            finished.set_result(None)

    def target() -> None:
        try:
            _read_stream(url, pipeline=pipeline, loop=loop, stop=stop, backoff=backoff)
        finally:
            if not loop.is_closed():
                loop.call_soon_threadsafe(mark_finished)

    thread = threading.Thread(target=target, name=f"vision-stream-{pipeline.camera.code}", daemon=True)
    thread.start()
    try:
        await finished
    finally:
        stop.set()  # the thread notices within one grab or one backoff wait
        # Wait (bounded: a grab on a dead RTSP link can block) so it does not outlive the loop.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(STREAM_STOP_TIMEOUT_S):
                await asyncio.shield(finished)


def _frame_of(message: BusMessage, ack: Done) -> Frame | None:
    try:
        uploaded = UploadedFrame.from_fields(message.fields)
    except ValidationFailed:
        log.warning("dropping malformed frame message %s on %s", message.message_id, message.stream)
        return None
    return Frame(at=uploaded.captured_at, data=uploaded.data, done=ack)


async def upload_source(
    bus: EventBus, pipeline: CameraPipeline, *, consumer: str, claim_idle_s: float
) -> None:
    """Feed uploaded frames to ``pipeline`` until cancelled; each is acknowledged once processed."""
    stream = frame_stream(pipeline.camera.code)
    await bus.ensure_group(stream, FRAME_GROUP)
    if not pipeline.camera.stream_url:
        pipeline.set_source_state("uploads")

    def acker(message_id: str) -> Done:
        async def ack() -> None:
            await bus.ack(stream, FRAME_GROUP, [message_id])

        return ack

    idle_s = 0.05
    next_claim = 0.0
    while True:
        messages: list[BusMessage] = []
        if time.monotonic() >= next_claim:
            messages = await bus.claim_stale(stream, FRAME_GROUP, consumer, min_idle_s=claim_idle_s, count=4)
            next_claim = time.monotonic() + claim_idle_s / 2
        # Uploads wait in the (trimmed) stream rather than being read only to be dropped here.
        room = pipeline.room() - len(messages)
        if room > 0:
            messages += await bus.read(stream, FRAME_GROUP, consumer, count=room)
        if not messages:
            await asyncio.sleep(idle_s if room > 0 else 0.02)
            idle_s = min(IDLE_POLL_MAX_S, idle_s * 2) if room > 0 else idle_s
            continue
        idle_s = 0.05
        for message in sorted(messages, key=lambda m: _stream_order(m.message_id)):
            frame = _frame_of(message, acker(message.message_id))
            if frame is None:
                await bus.ack(stream, FRAME_GROUP, [message.message_id])
                continue
            await pipeline.offer(frame)


def _stream_order(message_id: str) -> tuple[int, int]:
    millis, _, sequence = message_id.partition("-")
    return int(millis), int(sequence or 0)
