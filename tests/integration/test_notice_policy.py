"""Issue 16: a site manager gets at most one message per site and rule per 10 minutes, the next one
counts what was held back, majors go at once, and held-back warnings arrive as one digest per site."""

from __future__ import annotations

import datetime as dt

from domain.notifications import policy
from domain.notifications.models import OutboxMessage
from domain.notifications.rules import TemplateContent

MANAGER = "oMANAGER000000000000000001"
T0 = dt.datetime(2026, 5, 1, 8, 0, tzinfo=dt.UTC)
TEMPLATE = TemplateContent(
    "alarm",
    {"site": "S1", "alarm_type": "扬尘", "value": "1", "limit": "1", "time": "t", "severity": "预警"},
)


async def _notice(
    n: int, *, at: dt.datetime, rule: str = "dust_pm10_1h", major: bool = False, site: str = "S1"
) -> int | None:
    return await policy.enqueue_alarm_notice(
        recipient_openid=MANAGER,
        site_code=site,
        rule=rule,
        major=major,
        text=f"告警 {n}",
        template=TEMPLATE,
        idempotency_key=f"notice:{n}",
        now=at,
    )


async def test_a_storm_of_warnings_becomes_one_message_and_one_digest(database: str) -> None:
    minute = dt.timedelta(minutes=1)
    assert await _notice(0, at=T0) is not None
    for n in range(1, 6):  # five repeats at one site in five minutes
        assert await _notice(n, at=T0 + n * minute) is None
    assert await _notice(10, at=T0 + minute, rule="noise_day_leq") is not None, "another rule is its own"
    assert await _notice(11, at=T0 + minute, site="S2") is not None, "another site is its own"
    assert await _notice(12, at=T0 + 2 * minute, major=True) is not None, "a major goes at once"
    assert await _notice(13, at=T0 + 3 * minute, major=True) is None
    assert await OutboxMessage.filter(category="alarm").count() == 4
    majors = await OutboxMessage.get(idempotency_key="notice:12")
    assert "另有 5 条" in majors.text, "it reports what was held back"
    assert await policy.flush_digests(now=T0 + 5 * minute, labels={}) == 0, "window not over"
    assert await policy.flush_digests(now=T0 + 13 * minute, labels={"dust_pm10_1h": "扬尘超标"}) == 1
    digest = await OutboxMessage.get(category=policy.DIGEST_CATEGORY)
    assert digest.recipient_openid == MANAGER and "扬尘超标 1 条" in digest.text
    assert await policy.flush_digests(now=T0 + 30 * minute, labels={}) == 0, "flushed once"
