"""Which HJ 212 packets are stored: a registered MN, the device's PW (when one is set), a sane
DataTime and at least one value. Anything else is quarantined (counted by reason, the frame kept for
staff) and gets no 9014, so the device keeps it and sends it again once the cause is fixed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from domain.alerts.readings import DeviceInfo
from domain.iot.rules import FrameStatus
from domain.projects.services import verify_device_password
from iot_bridge.hj212 import Hj212Packet
from iot_bridge.normalise import DecodeError, decode_hj212
from iot_bridge.pipeline import Pipeline


class Hj212Intake:
    def __init__(
        self,
        pipeline: Pipeline,
        *,
        devices: Callable[[], dict[str, DeviceInfo]],
        passwords: Callable[[], dict[str, str]],
    ) -> None:
        self._pipeline = pipeline
        self._devices = devices
        self._passwords = passwords

    async def accept(self, packet: Hj212Packet, *, source: str = "tcp") -> bool:
        """True when the packet was taken (its reading submitted, or it carries none)."""
        now = dt.datetime.now(dt.UTC)
        device = self._devices().get(packet.mn)
        reason = self._refusal(packet, device)
        if reason is None and device is not None:
            try:
                reading = decode_hj212(packet, device=device, received_at=now)
            except DecodeError as error:
                reason = error.reason
            else:
                if reading is not None:
                    await self._pipeline.submit(reading)
                self._pipeline.record_frame(packet, status=FrameStatus.STORED, source=source, at=now)
                return True
        self._pipeline.record_frame(
            packet, status=FrameStatus.QUARANTINED, reason=reason or "unknown_device", source=source, at=now
        )
        return False

    def _refusal(self, packet: Hj212Packet, device: DeviceInfo | None) -> str | None:
        if device is None:
            return "unknown_device"
        sealed = self._passwords().get(packet.mn)
        if sealed is None:
            # No password on record yet (the registry predates them): taken, and counted, so staff
            # can see which devices still need one.
            self._pipeline.stats["hj212_password_unset"] += 1
            return None
        return None if verify_device_password(sealed, packet.pw) else "bad_password"
