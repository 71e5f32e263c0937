"""Pure rules of night-work permits: the nightly window and which night a moment belongs to."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from domain.errors import ValidationFailed

SHANGHAI = ZoneInfo("Asia/Shanghai")
HHMM_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
CERTIFICATE_RE = re.compile(r"^[0-9A-Za-z\-\u4e00-\u9fff（）()〔〕\[\]]{4,40}$")
MAX_PERMIT_NIGHTS = 90


def parse_hhmm(text: str) -> dt.time:
    match = HHMM_RE.match(text.strip())
    if not match:
        raise ValidationFailed(f"{text!r} is not a time like 22:00", code="invalid_time")
    return dt.time(int(match.group(1)), int(match.group(2)))


@dataclass(frozen=True, slots=True)
class PermitWindow:
    """Nights from ``valid_from`` to ``valid_to`` (inclusive), each from ``start`` to ``end`` local time.

    When ``end <= start`` the window crosses midnight: 02:00 on the 6th belongs to the night of the 5th.
    """

    valid_from: dt.date
    valid_to: dt.date
    start: dt.time
    end: dt.time

    def __post_init__(self) -> None:
        if self.valid_to < self.valid_from:
            raise ValidationFailed("valid_to is before valid_from", code="invalid_permit_window")
        if (self.valid_to - self.valid_from).days >= MAX_PERMIT_NIGHTS:
            raise ValidationFailed(
                f"a permit covers at most {MAX_PERMIT_NIGHTS} nights", code="invalid_permit_window"
            )
        if self.start == self.end:
            raise ValidationFailed("the nightly window is empty", code="invalid_permit_window")

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start

    def night_start(self, at: dt.datetime) -> dt.datetime:
        """When the nightly window that covers ``at`` began (aware, UTC); ``at`` must be covered."""
        local = at.astimezone(SHANGHAI)
        day = local.date()
        if self.crosses_midnight and local.time() < self.end:
            day -= dt.timedelta(days=1)
        return dt.datetime.combine(day, self.start, tzinfo=SHANGHAI).astimezone(dt.UTC)

    def night_end(self, at: dt.datetime) -> dt.datetime:
        """When the nightly window that covers ``at`` ends (aware, UTC); ``at`` must be covered."""
        local = at.astimezone(SHANGHAI)
        day = local.date()
        if self.crosses_midnight and local.time() >= self.start:
            day += dt.timedelta(days=1)
        return dt.datetime.combine(day, self.end, tzinfo=SHANGHAI).astimezone(dt.UTC)

    def nights_between(self, since: dt.datetime, until: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
        """The permitted stretches (aware, UTC, half-open) that overlap ``[since, until)``: one per
        valid night whose window meets it."""
        stretches = []
        first = since.astimezone(SHANGHAI).date() - dt.timedelta(days=1)  # a night may begin the day before
        last = until.astimezone(SHANGHAI).date()
        day = max(first, self.valid_from)
        while day <= min(last, self.valid_to):
            begins = dt.datetime.combine(day, self.start, tzinfo=SHANGHAI)
            ends_on = day + dt.timedelta(days=1) if self.crosses_midnight else day
            ends = dt.datetime.combine(ends_on, self.end, tzinfo=SHANGHAI)
            if begins < until and since < ends:
                stretches.append((begins.astimezone(dt.UTC), ends.astimezone(dt.UTC)))
            day += dt.timedelta(days=1)
        return stretches

    def covers(self, at: dt.datetime) -> bool:
        if at.tzinfo is None:
            raise ValueError("covers needs a timezone-aware moment")
        local = at.astimezone(SHANGHAI)
        clock = local.time()
        if not self.crosses_midnight:
            return self.start <= clock < self.end and self.valid_from <= local.date() <= self.valid_to
        if clock >= self.start:
            night = local.date()
        elif clock < self.end:
            night = local.date() - dt.timedelta(days=1)
        else:
            return False
        return self.valid_from <= night <= self.valid_to
