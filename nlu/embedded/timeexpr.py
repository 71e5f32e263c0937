"""Chinese time expressions in complaints (半夜12点, 凌晨, 昨晚, 每天晚上十点以后) -> a time range.

Citizens describe what already happened, so an expression without an explicit day resolves to its
most recent occurrence at or before the reference time. Ranges are returned as ISO-8601 strings in
Asia/Shanghai (the edge timezone); the reference time may be given in any timezone.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

_DAY = (
    r"今天|今日|今晚|今早|今夜|昨天|昨日|昨晚|昨夜|前天|前晚|每天|天天|每晚|每天晚上|每天夜里|每个晚上|"
    r"周末|星期[一二三四五六日天]|周[一二三四五六日]|last night|tonight|every night"
)
_PERIOD = r"凌晨|半夜|深夜|午夜|夜里|夜间|夜晚|晚上|傍晚|早上|早晨|清早|一大早|上午|中午|下午|白天|midnight"
_NUM = r"\d{1,2}|[零一二两三四五六七八九十]{1,3}"
_CLOCK = rf"(?:{_NUM})(?:点钟|点|:\d{{2}})(?:半|\d{{1,2}}分|一刻)?(?:多)?(?:以后|之后|后|左右)?"
_PATTERN = re.compile(rf"(?P<day>{_DAY})?(?P<period>{_PERIOD})?(?P<clock>{_CLOCK})?")
_CN_DIGITS = {
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}

# (start hour, end hour) relative to the day the expression names; > 24 runs into the next day.
_PERIOD_HOURS: dict[str, tuple[int, int]] = {
    "凌晨": (0, 6),
    "半夜": (23, 27),
    "深夜": (23, 27),
    "午夜": (23, 25),
    "midnight": (23, 25),
    "夜里": (20, 30),
    "夜间": (20, 30),
    "夜晚": (20, 30),
    "晚上": (18, 24),
    "傍晚": (17, 19),
    "早上": (5, 9),
    "早晨": (5, 9),
    "清早": (5, 8),
    "一大早": (5, 8),
    "上午": (8, 12),
    "中午": (11, 14),
    "下午": (12, 18),
    "白天": (6, 20),
}
_EVENING_DAYS = {
    "今晚",
    "今夜",
    "昨晚",
    "昨夜",
    "前晚",
    "每晚",
    "每天晚上",
    "每天夜里",
    "每个晚上",
    "last night",
    "tonight",
    "every night",
}
_DAY_OFFSETS = {
    "今天": 0,
    "今日": 0,
    "今晚": 0,
    "今早": 0,
    "今夜": 0,
    "tonight": 0,
    "昨天": -1,
    "昨日": -1,
    "昨晚": -1,
    "昨夜": -1,
    "last night": -1,
    "前天": -2,
    "前晚": -2,
}
_MORNING_DAYS = {"今早"}
_RECURRING = {"每天", "天天", "每晚", "每天晚上", "每天夜里", "每个晚上", "every night"}
_AFTERNOON_PERIODS = {"下午", "傍晚", "晚上", "夜里", "夜间", "夜晚"}
_MIDNIGHT_PERIODS = {"半夜", "深夜", "午夜", "夜里", "夜间", "夜晚", "晚上"}


@dataclass(frozen=True, slots=True)
class TimeMention:
    start: int
    end: int
    text: str
    value: dict[str, object]


def _number(token: str) -> list[int]:
    """'12' -> [12]; '十一' -> [11]; '一两' -> [1, 2] (a span of hours)."""
    if token.isdigit():
        return [int(token)]
    if token in ("十",):
        return [10]
    if token.startswith("十"):
        return [10 + _CN_DIGITS.get(token[1], 0)]
    if len(token) >= 2 and token[1] == "十":
        return [_CN_DIGITS.get(token[0], 0) * 10 + (_CN_DIGITS.get(token[2], 0) if len(token) == 3 else 0)]
    return [_CN_DIGITS[c] for c in token if c in _CN_DIGITS]


_LATE_NIGHT = ("半夜", "深夜", "午夜")
_AFTER_MIDNIGHT = (*_LATE_NIGHT, "夜里", "夜间", "夜晚")


def _shift(hour: int, period: str | None, *, evening: bool) -> int:
    """The hour on a 0-30 scale of the named day: 晚上11点 -> 23, 半夜两点 -> 26 (the next morning)."""
    if period is None and evening:
        period = "深夜" if hour <= 5 else "晚上"
    if period == "凌晨" and hour == 12:
        return 0
    if period in _MIDNIGHT_PERIODS and hour == 12:
        return 24
    if period in _AFTER_MIDNIGHT and hour <= 5:
        return hour + 24
    afternoon = period in _AFTERNOON_PERIODS or period in _LATE_NIGHT
    return hour + 12 if afternoon and hour < 12 and not (period in _MIDNIGHT_PERIODS and hour <= 5) else hour


def _clock_hours(
    clock: str, period: str | None, *, evening: bool = False
) -> tuple[float, float, bool] | None:
    """``evening``: the day word already says night (昨晚11点 is 23:00, 昨晚2点 is 02:00 after it)."""
    match = re.match(rf"({_NUM})", clock)
    if match is None:
        return None
    hours = _number(match.group(1))
    if not hours or any(h > 24 for h in hours):
        return None
    first, last = hours[0], hours[-1]
    minutes = 0.5 if "半" in clock else (0.25 if "一刻" in clock else 0.0)
    minute_match = re.search(r"(?::(\d{2}))|(\d{1,2})分", clock)
    if minute_match:
        minutes = int(minute_match.group(1) or minute_match.group(2)) / 60

    def shift(hour: int) -> int:
        return _shift(hour, period, evening=evening)

    open_ended = any(word in clock for word in ("以后", "之后", "后"))
    return shift(first) + minutes, shift(last) + minutes + 1.0, open_ended


def _hours(period: str | None, clock: str | None, day: str | None) -> tuple[float, float] | None:
    if clock:
        parsed = _clock_hours(clock, period, evening=day in _EVENING_DAYS)
        if parsed is None:
            return None
        start, end, open_ended = parsed
        if open_ended:
            end = max(end, 30.0 if start >= 18 else start + 3)
        return start, end
    if day in _MORNING_DAYS and not period:
        period = "早上"
    if period:
        low, high = _PERIOD_HOURS[period]
        return float(low), float(high)
    if day in _EVENING_DAYS:
        return 18.0, 30.0
    return 0.0, 24.0


def _resolve(
    day: str | None, period: str | None, clock: str | None, ref: dt.datetime
) -> dict[str, object] | None:
    local = ref.astimezone(SHANGHAI)
    if day and (day.startswith("周末") or day.startswith("星期") or day.startswith("周")):
        return _weekday_range(day, local)
    hours = _hours(period, clock, day)
    if hours is None:
        return None
    base = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if day in _DAY_OFFSETS:
        base += dt.timedelta(days=_DAY_OFFSETS[day])
    start = base + dt.timedelta(hours=hours[0])
    if day not in _DAY_OFFSETS and start > local:
        base -= dt.timedelta(days=1)  # the most recent occurrence
        start = base + dt.timedelta(hours=hours[0])
    end = base + dt.timedelta(hours=hours[1])
    value: dict[str, object] = {"from": start.isoformat(), "to": end.isoformat()}
    if day in _RECURRING:
        value["recurring"] = True
    return value


def _weekday_range(day: str, local: dt.datetime) -> dict[str, object]:
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if day == "周末":
        target, length = 5, 2
    else:
        names = "一二三四五六日"
        target, length = names.index(day[-1]) if day[-1] in names else 6, 1
    days_back = (local.weekday() - target) % 7
    start = midnight - dt.timedelta(days=days_back)
    return {"from": start.isoformat(), "to": (start + dt.timedelta(days=length)).isoformat()}


_STANDALONE_DAYS = {
    "今晚",
    "今早",
    "今夜",
    "昨晚",
    "昨夜",
    "前晚",
    "昨天",
    "前天",
    "今天",
    "昨日",
    "今日",
    "每晚",
    "周末",
    "last night",
    "tonight",
    "every night",
}


def _not_a_time(text: str, match: re.Match[str], day: str | None, period: str | None) -> bool:
    """Words that look like times but are not: 晚上好 (a greeting), 天天 (always), 夜间标准 (an adjective)."""
    if period and not day and text[match.end() : match.end() + 1] == "好":
        return True
    if day and not period and day not in _STANDALONE_DAYS and not day.startswith(("周", "星期")):
        return True
    return bool(period == "夜间" and not day)


def find_times(text: str, *, reference: dt.datetime) -> list[TimeMention]:
    """Every time expression in ``text`` (already normalised: lowercase, half-width)."""
    mentions = []
    for match in _PATTERN.finditer(text):
        if match.end() == match.start():
            continue  # the pattern's parts are all optional: most positions match nothing
        day, period, clock = match.group("day"), match.group("period"), match.group("clock")
        if not (day or period or clock):
            continue
        if clock and not (day or period) and not re.match(r"\d", clock) and "钟" not in clock:
            continue  # a bare 一点 is usually "a little", not one o'clock
        if not clock and _not_a_time(text, match, day, period):
            continue
        value = _resolve(day, period, clock, reference)
        if value is not None:
            mentions.append(TimeMention(match.start(), match.end(), match.group(0), value))
    return mentions


# GB 12523: night is 22:00-06:00 local time.
NIGHT_START_H, NIGHT_END_H = 22, 6
NOW_WORDS = ("刚才", "刚刚", "现在", "正在", "此刻", "这会儿")
NOW_SPAN = dt.timedelta(minutes=15)


def night_share(start: dt.datetime, end: dt.datetime) -> float:
    """The fraction of [start, end) that falls in the GB 12523 night (22:00-06:00 Asia/Shanghai)."""
    start, end = start.astimezone(SHANGHAI), end.astimezone(SHANGHAI)
    if end <= start:
        return 1.0 if is_night_moment(start) else 0.0
    night, cursor = dt.timedelta(0), start
    while cursor < end:
        step = min(end, cursor.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1))
        if is_night_moment(cursor):
            night += step - cursor
        cursor = step
    return night / (end - start)


def is_night_moment(moment: dt.datetime) -> bool:
    hour = moment.astimezone(SHANGHAI).hour
    return hour >= NIGHT_START_H or hour < NIGHT_END_H


def is_night(value: dict[str, object]) -> bool:
    """A time range is at night when most of it is: 昨晚11点 and 夜里 are; 晚上 (18-24) and 早上 are not."""
    start, end = dt.datetime.fromisoformat(str(value["from"])), dt.datetime.fromisoformat(str(value["to"]))
    return night_share(start, end) > 0.5


def normalise_time(text: str, *, reference: dt.datetime) -> dict[str, object] | None:
    """The first time the citizen names, or "just now" for 刚才/现在; None when there is none."""
    mentions = find_times(text, reference=reference)
    if mentions:
        return mentions[0].value
    if any(word in text for word in NOW_WORDS):
        local = reference.astimezone(SHANGHAI)
        return {"from": (local - NOW_SPAN).isoformat(), "to": local.isoformat()}
    return None
