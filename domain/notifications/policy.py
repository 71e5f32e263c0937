"""The per-recipient alarm notice policy, applied where alarm notices are enqueued.

At most one message per recipient, site and rule per window (``rules.decide_notice``); what is held
back is counted, reported in the next message, and flushed as one digest per recipient and site once
the window has passed (``flush_digests``, run by the outbox dispatcher), so nothing is dropped silently.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from domain.accounts.rules import mask_openid
from domain.notifications import services
from domain.notifications.models import NoticeThrottle
from domain.notifications.rules import (
    THROTTLE_WINDOW,
    TemplateContent,
    ThrottleState,
    decide_notice,
    digest_due,
    digest_summary,
)

log = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")
DIGEST_CATEGORY = "alarm_digest"
DIGEST_TEMPLATE = "alarm_digest"
CARRIED_NOTE = "（另有 {count} 条同类告警未单独推送）"


async def _row(recipient_openid: str, site_code: str, rule: str) -> NoticeThrottle:
    site_code, rule = site_code[:24], rule[:48]
    found = NoticeThrottle.get_or_none(recipient_openid=recipient_openid, site_code=site_code, rule=rule)
    row = await found
    if row is not None:
        return row
    try:
        async with in_transaction():
            return await NoticeThrottle.create(
                recipient_openid=recipient_openid, site_code=site_code, rule=rule
            )
    except IntegrityError:
        return await NoticeThrottle.get(recipient_openid=recipient_openid, site_code=site_code, rule=rule)


async def enqueue_alarm_notice(
    *,
    recipient_openid: str,
    site_code: str,
    rule: str,
    major: bool,
    text: str,
    template: TemplateContent,
    idempotency_key: str,
    now: dt.datetime,
    window: dt.timedelta = THROTTLE_WINDOW,
) -> int | None:
    """Enqueue one alarm notice if the policy lets it go now; None means it was held back (counted)."""
    row = await _row(recipient_openid, site_code, rule)
    state = ThrottleState(row.last_sent_at, row.last_major, row.suppressed)
    decision = decide_notice(state, major=major, now=now, window=window)
    seen = NoticeThrottle.filter(id=row.id, suppressed=row.suppressed)
    seen = (
        seen.filter(last_sent_at=row.last_sent_at)
        if row.last_sent_at
        else seen.filter(last_sent_at__isnull=True)
    )
    if decision.send and await seen.update(last_sent_at=now, last_major=major, suppressed=0):
        if decision.carried:
            text += CARRIED_NOTE.format(count=decision.carried)
        return await services.enqueue(
            recipient_openid=recipient_openid,
            text=text,
            template=template,
            category="alarm",
            idempotency_key=idempotency_key,
            now=now,
        )
    # Held back, or another notice for the same key won the race: count it for the next message.
    await NoticeThrottle.filter(id=row.id).update(suppressed=F("suppressed") + 1)
    log.info("alarm notice %s to %s held back (throttle)", rule, mask_openid(recipient_openid))
    return None


async def flush_digests(
    *, now: dt.datetime, labels: Mapping[str, str], window: dt.timedelta = THROTTLE_WINDOW
) -> int:
    """One digest per recipient and site for the notices held back past the window; returns how many."""
    rows = await NoticeThrottle.filter(suppressed__gt=0, last_sent_at__lte=now - window).limit(500)
    groups: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for row in rows:
        state = ThrottleState(row.last_sent_at, row.last_major, row.suppressed)
        if not digest_due(state, now=now, window=window):
            continue
        # Claim exactly the count we saw: a notice held back meanwhile stays for the next digest.
        claimed = await NoticeThrottle.filter(id=row.id, suppressed=row.suppressed).update(
            suppressed=F("suppressed") - row.suppressed, last_sent_at=now
        )
        if claimed:
            groups[(row.recipient_openid, row.site_code)][row.rule] = row.suppressed
    for (openid, site_code), counts in groups.items():
        summary = digest_summary(counts, labels=labels)
        local = now.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
        await services.enqueue(
            recipient_openid=openid,
            text=f"【告警汇总】{site_code}：{summary}，未单独推送，请在小程序中查看。",
            template=TemplateContent(DIGEST_TEMPLATE, {"site": site_code, "summary": summary, "time": local}),
            category=DIGEST_CATEGORY,
            idempotency_key=f"alarm-digest:{openid}:{site_code}:{now.isoformat()}"[:200],
            now=now,
        )
    return len(groups)
