"""The Chinese time-expression normaliser against a table of what citizens write.

Reference: Friday 2026-12-04 15:30 in Wenling (and a few at 01:30 the next night). Each row: the
expression, the expected start (MM-DD HH:MM, Asia/Shanghai; "-" when it is no time at all) and whether
it is night per GB 12523 (22:00-06:00), which decides 夜间施工噪声 and its two-hour reply deadline.
"""

from __future__ import annotations

import datetime as dt

import pytest

from nlu.embedded.timeexpr import SHANGHAI, is_night, normalise_time

AFTERNOON = dt.datetime(2026, 12, 4, 15, 30, tzinfo=SHANGHAI)
SMALL_HOURS = dt.datetime(2026, 12, 5, 1, 30, tzinfo=SHANGHAI)

# expression | expected start | night (Y/N)
AFTERNOON_TABLE = """
昨晚11点|12-03 23:00|Y
昨晚十一点|12-03 23:00|Y
昨晚10点|12-03 22:00|Y
昨晚9点|12-03 21:00|N
昨晚8点半|12-03 20:30|N
昨晚12点|12-04 00:00|Y
昨晚1点|12-04 01:00|Y
昨晚两点|12-04 02:00|Y
昨晚3点多|12-04 03:00|Y
昨夜11点|12-03 23:00|Y
昨夜两点|12-04 02:00|Y
前晚11点|12-02 23:00|Y
前晚10点半|12-02 22:30|Y
今晚8点|12-04 20:00|N
昨天晚上11点|12-03 23:00|Y
昨天晚上十点|12-03 22:00|Y
昨天晚上9点|12-03 21:00|N
昨天夜里两点|12-04 02:00|Y
昨天夜里11点|12-03 23:00|Y
昨天半夜|12-03 23:00|Y
前天半夜|12-02 23:00|Y
前天晚上|12-02 18:00|N
昨晚|12-03 18:00|Y
今晚|12-04 18:00|Y
昨天凌晨|12-03 00:00|Y
今天凌晨|12-04 00:00|Y
凌晨|12-04 00:00|Y
凌晨两点多|12-04 02:00|Y
凌晨2点|12-04 02:00|Y
凌晨三点半|12-04 03:30|Y
凌晨4点|12-04 04:00|Y
凌晨5点|12-04 05:00|Y
凌晨12点|12-04 00:00|Y
凌晨1点|12-04 01:00|Y
半夜|12-03 23:00|Y
半夜12点|12-04 00:00|Y
半夜两点|12-04 02:00|Y
半夜一点|12-04 01:00|Y
深夜|12-03 23:00|Y
深夜11点|12-03 23:00|Y
深夜两点|12-04 02:00|Y
午夜|12-03 23:00|Y
午夜12点|12-04 00:00|Y
夜里|12-03 20:00|Y
夜里11点|12-03 23:00|Y
夜里两点|12-04 02:00|Y
晚上|12-03 18:00|N
晚上10点|12-03 22:00|Y
晚上十点|12-03 22:00|Y
晚上9点|12-03 21:00|N
晚上11点|12-03 23:00|Y
晚上8点半|12-03 20:30|N
晚上12点|12-04 00:00|Y
晚上十点以后|12-03 22:00|Y
晚上10点之后|12-03 22:00|Y
晚上九点多|12-03 21:00|N
傍晚|12-03 17:00|N
傍晚6点|12-03 18:00|N
今天下午三点|12-04 15:00|N
下午三点|12-04 15:00|N
下午3点半|12-04 15:30|N
下午4点|12-03 16:00|N
下午|12-04 12:00|N
今天下午|12-04 12:00|N
昨天下午|12-03 12:00|N
昨天下午两点|12-03 14:00|N
前天下午3点|12-02 15:00|N
上午|12-04 08:00|N
上午10点|12-04 10:00|N
今天上午9点|12-04 09:00|N
昨天上午|12-03 08:00|N
中午|12-04 11:00|N
中午12点|12-04 12:00|N
早上|12-04 05:00|N
早上6点|12-04 06:00|N
早上5点|12-04 05:00|Y
早上七点|12-04 07:00|N
清早|12-04 05:00|N
一大早|12-04 05:00|N
今早|12-04 05:00|N
今早6点|12-04 06:00|N
白天|12-04 06:00|N
昨天白天|12-03 06:00|N
今天|12-04 00:00|N
昨天|12-03 00:00|N
前天|12-02 00:00|N
昨日|12-03 00:00|N
今日|12-04 00:00|N
每天晚上十点以后|12-03 22:00|Y
每天晚上|12-03 18:00|N
每晚|12-03 18:00|Y
每天夜里|12-03 20:00|Y
每晚11点|12-03 23:00|Y
天天晚上|12-03 18:00|N
每天凌晨|12-04 00:00|Y
每天早上6点|12-04 06:00|N
每天半夜|12-03 23:00|Y
周六|11-28 00:00|N
周日|11-29 00:00|N
周五|12-04 00:00|N
星期三|12-02 00:00|N
周末|11-28 00:00|N
星期天|11-29 00:00|N
周一|11-30 00:00|N
3点|12-04 03:00|Y
5点钟|12-04 05:00|Y
16点|12-03 16:00|N
23点|12-03 23:00|Y
22点|12-03 22:00|Y
21点|12-03 21:00|N
晚上22点|12-03 22:00|Y
凌晨0点|12-04 00:00|Y
晚上10:30|12-03 22:30|Y
23:15|12-03 23:15|Y
晚上十点一刻|12-03 22:15|Y
晚上11点20分|12-03 23:20|Y
凌晨1点半|12-04 01:30|Y
今天凌晨三点|12-04 03:00|Y
昨天凌晨2点|12-03 02:00|Y
前天凌晨|12-02 00:00|Y
今晚十点|12-04 22:00|Y
今晚10点以后|12-04 22:00|Y
昨晚10点以后|12-03 22:00|Y
昨晚十点到十二点|12-03 22:00|Y
昨天晚上十一点多|12-03 23:00|Y
前天晚上11点|12-02 23:00|Y
前天夜里|12-02 20:00|Y
今天晚上|12-04 18:00|N
今天晚上11点|12-04 23:00|Y
昨天傍晚|12-03 17:00|N
昨天中午|12-03 11:00|N
昨天早上|12-03 05:00|N
昨天早上五点|12-03 05:00|Y
今天中午12点半|12-04 12:30|N
下午两点多|12-04 14:00|N
下午五点半|12-03 17:30|N
晚上七点|12-03 19:00|N
晚上6点|12-03 18:00|N
每天夜间|12-03 20:00|Y
last night|12-03 18:00|Y
tonight|12-04 18:00|Y
every night|12-03 18:00|Y
midnight|12-03 23:00|Y
十点钟|12-04 10:00|N
两点钟|12-04 02:00|Y
昨天晚上12点|12-04 00:00|Y
凌晨十二点半|12-04 00:30|Y
半夜三点|12-04 03:00|Y
深夜十二点|12-04 00:00|Y
昨晚十点半|12-03 22:30|Y
前天晚上十点以后|12-02 22:00|Y
每天早上|12-04 05:00|N
晚上11点左右|12-03 23:00|Y
夜里12点|12-04 00:00|Y
昨天夜里|12-03 20:00|Y
刚才|12-04 15:15|N
刚刚|12-04 15:15|N
现在|12-04 15:15|N
工地正在打桩|12-04 15:15|N
夜间|-|N
晚上好|-|N
天天|-|N
十点|-|N
一点|-|N
工地太吵了|-|N
"""

SMALL_HOURS_TABLE = """
半夜|12-04 23:00|Y
凌晨两点|12-04 02:00|Y
刚才|12-05 01:15|Y
昨晚11点|12-04 23:00|Y
晚上11点|12-04 23:00|Y
今天凌晨1点|12-05 01:00|Y
现在|12-05 01:15|Y
"""


def _rows(table: str, reference: dt.datetime) -> list[tuple[str, str, bool, dt.datetime]]:
    rows = []
    for line in table.strip().splitlines():
        text, start, night = line.split("|")
        rows.append((text, start, night == "Y", reference))
    return rows


ROWS = _rows(AFTERNOON_TABLE, AFTERNOON) + _rows(SMALL_HOURS_TABLE, SMALL_HOURS)


def test_the_table_has_at_least_150_expressions() -> None:
    assert len(ROWS) >= 150


@pytest.mark.parametrize(
    ("text", "start", "night", "reference"), ROWS, ids=[f"{r[3].hour}h:{r[0]}" for r in ROWS]
)
def test_expression(text: str, start: str, night: bool, reference: dt.datetime) -> None:
    value = normalise_time(text.lower(), reference=reference)
    if start == "-":
        assert value is None, value
        return
    assert value is not None, f"{text}: no time found"
    begins = dt.datetime.fromisoformat(str(value["from"])).astimezone(SHANGHAI)
    assert begins.strftime("%m-%d %H:%M") == start, value
    assert is_night(value) is night, value


def test_recurring_expressions_say_so() -> None:
    value = normalise_time("每天晚上十点以后", reference=AFTERNOON)
    assert value is not None and value.get("recurring") is True
    assert normalise_time("昨晚11点", reference=AFTERNOON) == {
        "from": "2026-12-03T23:00:00+08:00",
        "to": "2026-12-04T00:00:00+08:00",
    }
