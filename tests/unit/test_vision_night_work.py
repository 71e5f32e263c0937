"""Night work seen by camera (issue 16): the pure rule, the permit window's end, and the permit cache
that must not trust a permit past the end of its night."""

from __future__ import annotations

import datetime as dt

from domain.permits.cache import NightPermitCache, Stretch
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
    calls: list[tuple[dt.datetime, dt.datetime]] = []
    window = PermitWindow(dt.date(2026, 12, 4), dt.date(2026, 12, 4), dt.time(22, 0), dt.time(23, 0))

    async def stretches(site: str, since: dt.datetime, until: dt.datetime) -> list[Stretch]:
        calls.append((since, until))
        return window.nights_between(since, until)

    clock = [0.0]
    cache = NightPermitCache(stretches, ttl_s=60, clock=lambda: clock[0])
    ends = dt.datetime(2026, 12, 4, 23, 0, tzinfo=SHANGHAI)
    assert await cache.permitted("S1", ends - dt.timedelta(seconds=30))
    clock[0] = 10.0
    assert await cache.permitted("S1", ends - dt.timedelta(seconds=20)) and len(calls) == 1  # cached
    assert not await cache.permitted("S1", ends)  # the permit's own end, from the same lookup
    assert not await cache.permitted("S1", ends + dt.timedelta(seconds=10)) and len(calls) == 1
    clock[0] = 120.0
    await cache.permitted("S1", ends + dt.timedelta(seconds=90))
    assert len(calls) == 2  # kept for the TTL only: a permit registered or revoked counts within a minute
    assert calls[0] == (  # one lookup answers the whole noon-to-noon day
        dt.datetime(2026, 12, 4, 12, 0, tzinfo=SHANGHAI),
        dt.datetime(2026, 12, 5, 12, 0, tzinfo=SHANGHAI),
    )


async def test_a_cached_day_answers_each_moment_by_its_own_time() -> None:
    """A device catching up after an outage sends 05:59 and 22:30 in the same second: each gets its own
    answer, and the 22:00-23:00 permit never covers 21:00."""
    window = PermitWindow(dt.date(2026, 12, 4), dt.date(2026, 12, 4), dt.time(22, 0), dt.time(23, 0))
    calls: list[dt.datetime] = []

    async def stretches(site: str, since: dt.datetime, until: dt.datetime) -> list[Stretch]:
        calls.append(since)
        return window.nights_between(since, until)

    cache = NightPermitCache(stretches, ttl_s=60, clock=lambda: 0.0)  # the wall clock stands still
    day = dt.datetime(2026, 12, 4, tzinfo=SHANGHAI)
    assert not await cache.permitted("S1", day.replace(hour=5, minute=59))  # the day before's night
    assert await cache.permitted("S1", day.replace(hour=22, minute=30)) and len(calls) == 2
    assert not await cache.permitted("S1", day.replace(hour=21)) and len(calls) == 2
    assert await cache.permitted("S1", day.replace(hour=22)) and len(calls) == 2
    assert not await cache.permitted("S1", day.replace(hour=23)) and len(calls) == 2


def test_permitted_stretches_of_a_window_over_a_span() -> None:
    crossing = PermitWindow(dt.date(2026, 12, 4), dt.date(2026, 12, 5), dt.time(22, 0), dt.time(6, 0))
    noon = dt.datetime(2026, 12, 4, 12, 0, tzinfo=SHANGHAI)
    assert crossing.nights_between(noon, noon + dt.timedelta(days=1)) == [
        (dt.datetime(2026, 12, 4, 22, 0, tzinfo=SHANGHAI), dt.datetime(2026, 12, 5, 6, 0, tzinfo=SHANGHAI))
    ]
    # The night of the 5th runs into the 6th, although the permit's last date is the 5th.
    assert crossing.nights_between(noon + dt.timedelta(days=1), noon + dt.timedelta(days=2)) == [
        (dt.datetime(2026, 12, 5, 22, 0, tzinfo=SHANGHAI), dt.datetime(2026, 12, 6, 6, 0, tzinfo=SHANGHAI))
    ]
    assert crossing.nights_between(noon + dt.timedelta(days=2), noon + dt.timedelta(days=3)) == []
    for stretch in crossing.nights_between(noon - dt.timedelta(days=3), noon + dt.timedelta(days=5)):
        middle = stretch[0] + (stretch[1] - stretch[0]) / 2
        assert crossing.covers(middle) and crossing.covers(stretch[0])
        assert not crossing.covers(stretch[1])
