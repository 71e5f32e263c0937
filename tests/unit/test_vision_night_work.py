"""Night work seen by camera (issue 16): the pure rule, the permit window's end, and the permit cache
that must not trust a permit past the end of its night."""

from __future__ import annotations

import datetime as dt
from typing import Any

from domain.permits.cache import NightPermitCache
from domain.permits.rules import PermitWindow
from domain.vision.rules import Detection, IouTracker, NightWorkConfig, NightWorkRule

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
W, H = 640, 480
NIGHT = dt.datetime(2026, 12, 4, 23, 10, tzinfo=SHANGHAI)
DAY = dt.datetime(2026, 12, 4, 14, 10, tzinfo=SHANGHAI)


def person(x: float, label: str = "helmet") -> Detection:
    return Detection(label, 0.8, (x, 200, x + 40, 240))


def watch(rule: NightWorkRule, start: dt.datetime, frames: list[list[Detection]], step_s: float) -> list[int]:
    """Frame index of each proposal; a proposal is taken as raised."""
    tracker, found = IouTracker(), []
    for index, detections in enumerate(frames):
        at = start + dt.timedelta(seconds=index * step_s)
        night = rule.observe(tracker.update(detections), width=W, height=H, at=at)
        if night is not None:
            rule.raised(at)
            found.append(index)
    return found


def test_people_working_for_a_minute_at_night_raise_once_per_cooldown() -> None:
    rule = NightWorkRule(NightWorkConfig(min_frames=5, min_seconds=60, cooldown_s=1800))
    frames = [[person(100), person(300, label="head")] for _ in range(60)]
    assert watch(rule, NIGHT, frames, step_s=10) == [6]  # the first frame 60 s after the first sighting


def test_the_people_on_the_proposal_are_those_present_long_enough() -> None:
    rule = NightWorkRule(NightWorkConfig(min_frames=3, min_seconds=20))
    tracker = IouTracker()
    night = None
    for index in range(5):
        detections = [person(100)] + ([person(400)] if index >= 4 else [])
        night = rule.observe(
            tracker.update(detections), width=W, height=H, at=NIGHT + dt.timedelta(seconds=10 * index)
        )
    assert night is not None and [d.box[0] for d in night.people] == [100]


def test_a_guard_walking_through_and_daytime_work_raise_nothing() -> None:
    rule = NightWorkRule(NightWorkConfig(min_frames=5, min_seconds=60))
    walking = [[person(100 + 60 * index)] for index in range(8)]  # a new track every frame
    assert watch(rule, NIGHT, walking, step_s=10) == []
    assert watch(rule, NIGHT, [[person(100)] for _ in range(4)], step_s=10) == []  # 30 s only
    assert watch(NightWorkRule(), DAY, [[person(100)] for _ in range(30)], step_s=10) == []


def test_the_night_wraps_midnight_and_ends_at_six() -> None:
    config = NightWorkConfig()
    assert config.is_night(dt.datetime(2026, 12, 5, 2, 0, tzinfo=SHANGHAI))
    assert config.is_night(dt.datetime(2026, 12, 4, 22, 0, tzinfo=SHANGHAI))
    assert not config.is_night(dt.datetime(2026, 12, 5, 6, 0, tzinfo=SHANGHAI))
    assert not config.is_night(dt.datetime(2026, 12, 4, 21, 59, tzinfo=SHANGHAI))


def test_a_permit_windows_night_ends_the_next_morning_when_it_crosses_midnight() -> None:
    window = PermitWindow(dt.date(2026, 12, 1), dt.date(2026, 12, 10), dt.time(22, 0), dt.time(2, 0))
    assert window.night_end(NIGHT) == dt.datetime(2026, 12, 5, 2, 0, tzinfo=SHANGHAI)
    early = dt.datetime(2026, 12, 5, 1, 0, tzinfo=SHANGHAI)
    assert window.night_end(early) == dt.datetime(2026, 12, 5, 2, 0, tzinfo=SHANGHAI)
    evening = PermitWindow(dt.date(2026, 12, 1), dt.date(2026, 12, 10), dt.time(22, 0), dt.time(23, 0))
    assert evening.night_end(dt.datetime(2026, 12, 4, 22, 30, tzinfo=SHANGHAI)) == dt.datetime(
        2026, 12, 4, 23, 0, tzinfo=SHANGHAI
    )


async def test_the_permit_cache_stops_trusting_a_permit_at_the_end_of_its_night() -> None:
    """The bridge used to cache "permit: yes" for 5 minutes flat, past the permit's 23:00 end."""
    calls: list[dt.datetime] = []
    ends = dt.datetime(2026, 12, 4, 23, 0, tzinfo=SHANGHAI)

    async def lookup(site: str, at: dt.datetime) -> dict[str, Any] | None:
        calls.append(at)
        return {"covers_until": ends.isoformat()} if at < ends else None

    clock = [0.0]
    cache = NightPermitCache(lookup, ttl_s=60, clock=lambda: clock[0])
    assert await cache.permitted("S1", ends - dt.timedelta(seconds=30))
    clock[0] = 10.0
    assert await cache.permitted("S1", ends - dt.timedelta(seconds=20)) and len(calls) == 1  # cached
    clock[0] = 40.0
    assert not await cache.permitted("S1", ends + dt.timedelta(seconds=10))  # past its end: asked again
    assert len(calls) == 2
    clock[0] = 50.0
    assert not await cache.permitted("S1", ends + dt.timedelta(seconds=20)) and len(calls) == 2
    clock[0] = 120.0
    await cache.permitted("S1", ends + dt.timedelta(seconds=90))
    assert len(calls) == 3  # a "no" is kept for the TTL only: a new permit counts within a minute


async def test_a_cached_answer_only_answers_for_the_moments_it_was_about() -> None:
    """A device catching up after an outage sends 05:59 and 22:30 in the same second: the cached "no"
    for 05:59 must not stand for 22:30, and the 22:00-23:00 "yes" must not cover 21:00."""
    window = PermitWindow(dt.date(2026, 12, 4), dt.date(2026, 12, 4), dt.time(22, 0), dt.time(23, 0))
    calls: list[dt.datetime] = []

    async def lookup(site: str, at: dt.datetime) -> dict[str, Any] | None:
        calls.append(at)
        if not window.covers(at):
            return None
        return {
            "covers_from": window.night_start(at).isoformat(),
            "covers_until": window.night_end(at).isoformat(),
        }

    cache = NightPermitCache(lookup, ttl_s=60, clock=lambda: 0.0)  # the wall clock stands still
    day = dt.datetime(2026, 12, 4, tzinfo=SHANGHAI)
    assert not await cache.permitted("S1", day.replace(hour=5, minute=59))
    assert await cache.permitted("S1", day.replace(hour=22, minute=30)) and len(calls) == 2
    assert not await cache.permitted("S1", day.replace(hour=21)) and len(calls) == 3
    assert await cache.permitted("S1", day.replace(hour=22, minute=45)) and len(calls) == 4
    assert await cache.permitted("S1", day.replace(hour=22)) and len(calls) == 4  # within the night: cached
    assert window.night_start(day.replace(hour=22, minute=30)) == day.replace(hour=22)
