"""Embedded mode's SMS: nothing leaves the machine; what would have been sent is kept and logged."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


@dataclass(frozen=True, slots=True)
class RecordedSms:
    phone: str
    template_code: str
    params: dict[str, str]
    out_id: str


@dataclass
class RecordingSms:
    sent: list[RecordedSms] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def send(self, phone: str, *, template_code: str, params: Mapping[str, str], out_id: str) -> str:
        self.sent.append(RecordedSms(phone, template_code, dict(params), out_id))
        log.info("SMS %s to %s recorded (no provider configured)", template_code, mask_phone(phone))
        return f"recorded-{next(self._ids)}"
