"""What a confirmed violation (no hard hat; night work without a permit) becomes: an evidence JPEG
in the media store and an alarm through the alerts context, so the site's managers are notified
exactly as for a sensor alarm.

Beside the evidence, the raw frame (no boxes drawn: a model must never learn from our own overlay)
and every detection on it, in that frame's pixels with the triggering ones flagged, are kept in the
vision context (``domain.vision.samples.keep_alarm_frame``), so a staff verdict on the alarm can make
it a labelled training sample.

A per-camera cooldown is also kept in the dedup port, shared by all workers: when a camera moves to
another worker (rebalance or takeover) the new owner's fresh tracker cannot alarm again at once. It is
taken in two steps: a short claim while the alarm is being raised, then the full cooldown once it is.
A worker killed mid-raise (SIGKILL, or cancelled while stopping) leaves only the claim, so the
camera's next owner raises the alarm within ``RAISE_CLAIM_S`` instead of the whole cooldown later; if
the killed raise did land, the new one updates the same active alarm (no second alarm, no second
notice).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import cv2
import numpy as np
import numpy.typing as npt

from adapters.media_store import MediaStore
from domain.alerts import messages as alert_messages
from domain.alerts import readings
from domain.alerts import services as alerts
from domain.permits.cache import NightPermitCache
from domain.permits.services import permitted_stretches
from domain.ports import DedupStore, EventBus
from domain.vision import samples
from domain.vision.rules import ALARM_TYPE_NIGHT_WORK, ALARM_TYPE_NO_HARDHAT, Detection, NightWork, Violation
from domain.vision.services import CameraInfo
from vision_worker.evidence import render_evidence
from vision_worker.messages import NO_HARDHAT_MESSAGE

log = logging.getLogger(__name__)
SEVERITY = "major"
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOISE_WINDOW = dt.timedelta(minutes=20)
RAW_FRAME_QUALITY = 95  # training data: less loss than the evidence's 85
RAISE_CLAIM_S = 30.0  # longer than any raise takes; shorter than a camera's cooldown


async def store_evidence(
    media: MediaStore,
    camera: CameraInfo,
    detections: Sequence[Detection],
    *,
    offenders: Sequence[Detection],
    caption: str,
    image: npt.NDArray[np.uint8],
    at: dt.datetime,
) -> str:
    """The annotated frame as a JPEG in the media store (drawn off the event loop); returns its ref."""
    jpeg = await asyncio.to_thread(
        functools.partial(
            render_evidence,
            image,
            detections,
            camera_code=camera.code,
            camera_name=camera.name,
            at=at,
            offenders=offenders,
            offender_caption=caption,
        )
    )
    return await media.put(jpeg, content_type="image/jpeg")


def _raw_jpeg(image: npt.NDArray[np.uint8]) -> bytes:
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, RAW_FRAME_QUALITY])
    if not ok:
        raise ValueError("JPEG encoding of the raw frame failed")
    return bytes(encoded.tobytes())


async def keep_raw_frame(
    media: MediaStore,
    camera: CameraInfo,
    *,
    alarm_type: str,
    evidence_ref: str,
    detections: Sequence[Detection],
    offenders: Sequence[Detection],
    image: npt.NDArray[np.uint8],
    at: dt.datetime,
) -> None:
    """The unmarked frame and its detections, for a later verdict. Training data is worth less than
    the alarm: a failure here is logged and the alarm still goes out."""
    try:
        frame_ref = await media.put(await asyncio.to_thread(_raw_jpeg, image), content_type="image/jpeg")
        height, width = image.shape[:2]
        kept = samples.KeptFrame(
            evidence_ref=evidence_ref,
            frame_ref=frame_ref,
            camera_code=camera.code,
            alarm_type=alarm_type,
            captured_at=at,
            width=int(width),
            height=int(height),
        )
        await samples.keep_alarm_frame(kept, detections=detections, offenders=offenders)
    except Exception:
        log.exception("camera %s: the raw frame of evidence %s was not kept", camera.code, evidence_ref)


async def claim_raise(dedup: DedupStore, key: str, cooldown_s: float) -> bool:
    """True for the one caller that may raise now (no cooldown or claim on ``key``)."""
    return await dedup.first_seen(key, min(RAISE_CLAIM_S, cooldown_s))


async def start_cooldown(dedup: DedupStore, key: str, cooldown_s: float) -> None:
    """The alarm is raised: the claim becomes the full cooldown (only the camera's owner gets here)."""
    await dedup.forget(key)
    await dedup.first_seen(key, cooldown_s)


class AlarmOutcome:
    def __init__(
        self,
        *,
        bus: EventBus,
        dedup: DedupStore,
        media: MediaStore,
        camera_cooldown_s: float,
        score_threshold: float,
    ) -> None:
        self._bus = bus
        self._dedup = dedup
        self._media = media
        self._cooldown_s = camera_cooldown_s
        self._threshold = score_threshold

    async def __call__(
        self,
        *,
        camera: CameraInfo,
        violation: Violation,
        detections: Sequence[Detection],
        image: npt.NDArray[np.uint8],
        at: dt.datetime,
    ) -> int | None:
        key = f"vision:cooldown:{camera.code}:{ALARM_TYPE_NO_HARDHAT}"
        if not await claim_raise(self._dedup, key, self._cooldown_s):
            log.info("camera %s violation within the shared cooldown, not raised again", camera.code)
            return None
        offenders = violation.offenders or (violation.detection,)
        try:
            evidence_ref = await store_evidence(
                self._media,
                camera,
                detections,
                offenders=offenders,
                caption="NO HARDHAT",
                image=image,
                at=at,
            )
            alarm_id = await self._raise(camera, violation, evidence_ref=evidence_ref, at=at)
        except Exception:
            # The alarm failed: let the next confirmation try again instead of cooling down (at worst
            # it updates the same active alarm). A cancellation keeps the claim until it expires: the
            # worker is stopping mid-call and the alarm may well exist.
            await self._dedup.forget(key)
            raise
        await start_cooldown(self._dedup, key, self._cooldown_s)
        # After the alarm, never before it: training data must not delay the site manager's message.
        await keep_raw_frame(
            self._media,
            camera,
            alarm_type=ALARM_TYPE_NO_HARDHAT,
            evidence_ref=evidence_ref,
            detections=detections,
            offenders=offenders,
            image=image,
            at=at,
        )
        log.info(
            "camera %s no_hardhat alarm %s (track %s, evidence %s)",
            camera.code,
            alarm_id,
            violation.track_id,
            evidence_ref,
        )
        return alarm_id

    async def _raise(
        self, camera: CameraInfo, violation: Violation, *, evidence_ref: str, at: dt.datetime
    ) -> int:
        return await alerts.raise_alarm(
            bus=self._bus,
            source=f"camera:{camera.code}",
            alarm_type=ALARM_TYPE_NO_HARDHAT,
            severity=SEVERITY,
            site_code=camera.site_code,
            value=round(violation.median_score, 3),  # the confidence; the message says it in percent
            limit=self._threshold,
            message=NO_HARDHAT_MESSAGE.format(camera=camera.name or camera.code, people=violation.people),
            at=at,
            evidence_ref=evidence_ref,
            people=violation.people,
        )


class NightWorkOutcome:
    """Night work seen by a camera becomes a ``night_work`` alarm unless the site holds a night-work
    permit for this moment. The alarm names the people counted and the site's noise over the last
    20 minutes (the GB 12523 window), and its evidence marks the people. One alarm per camera per
    cooldown, shared by every worker as for ``no_hardhat``."""

    def __init__(
        self,
        *,
        bus: EventBus,
        dedup: DedupStore,
        media: MediaStore,
        cooldown_s: float,
        permits: NightPermitCache | None = None,
    ) -> None:
        self._bus, self._dedup, self._media, self._cooldown_s = bus, dedup, media, cooldown_s
        self._permits = permits or NightPermitCache(permitted_stretches)

    async def __call__(
        self,
        *,
        camera: CameraInfo,
        night: NightWork,
        detections: Sequence[Detection],
        image: npt.NDArray[np.uint8],
        at: dt.datetime,
    ) -> int | None:
        if await self._permits.permitted(camera.site_code, at):
            return None
        key = f"vision:cooldown:{camera.code}:{ALARM_TYPE_NIGHT_WORK}"
        if not await claim_raise(self._dedup, key, self._cooldown_s):
            return None
        try:
            noise = await readings.site_noise(camera.site_code, since=at - NOISE_WINDOW, until=at)
            evidence_ref = await store_evidence(
                self._media,
                camera,
                detections,
                offenders=night.people,
                caption="NIGHT WORK",
                image=image,
                at=at,
            )
            alarm_id = await alerts.raise_alarm(
                bus=self._bus,
                source=f"camera:{camera.code}",
                alarm_type=ALARM_TYPE_NIGHT_WORK,
                severity=SEVERITY,
                site_code=camera.site_code,
                value=float(len(night.people)),
                limit=None,
                message=alert_messages.night_work_detail(
                    local_time=at.astimezone(SHANGHAI).strftime("%H:%M"),
                    camera=camera.name or camera.code,
                    people=len(night.people),
                    leq=noise.leq_db,
                    lmax=noise.lmax_db,
                ),
                at=at,
                evidence_ref=evidence_ref,
                people=len(night.people),
            )
        except Exception:
            await self._dedup.forget(key)  # as for no_hardhat: the next sighting tries again
            raise
        await start_cooldown(self._dedup, key, self._cooldown_s)
        await keep_raw_frame(
            self._media,
            camera,
            alarm_type=ALARM_TYPE_NIGHT_WORK,
            evidence_ref=evidence_ref,
            detections=detections,
            offenders=night.people,
            image=image,
            at=at,
        )
        log.info("camera %s night_work alarm %s (%d people)", camera.code, alarm_id, len(night.people))
        return alarm_id
