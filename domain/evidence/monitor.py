"""The checkpoint monitor: remembers every checkpoint it has checked and proves each new one
consistent with the last good one. A fork (same size, other root; or no consistency proof) or a
rollback (a smaller tree) is logged as an error and sent to the admins.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from enum import StrEnum
from typing import Protocol

from domain.errors import DomainError, ValidationFailed
from domain.evidence import merkle, services
from domain.evidence.models import EvidenceSeen
from domain.evidence.notes import Checkpoint, Verifier, open_checkpoint
from domain.notifications import services as notifications

log = logging.getLogger(__name__)
Alert = Callable[[str], Awaitable[None]]


class Verdict(StrEnum):
    FIRST = "first"
    SAME = "same"
    GREW = "grew"
    FORK = "fork"
    ROLLBACK = "rollback"
    BAD_SIGNATURE = "bad_signature"


GOOD = frozenset({Verdict.FIRST, Verdict.SAME, Verdict.GREW})


def judge(previous: Checkpoint | None, new: Checkpoint, *, consistent: bool | None) -> Verdict:
    """``consistent`` is the checked consistency proof from ``previous`` to ``new`` (None if not asked)."""
    if previous is None:
        return Verdict.FIRST
    if new.size < previous.size:
        return Verdict.ROLLBACK
    if new.size == previous.size:
        return Verdict.SAME if new.root == previous.root else Verdict.FORK
    return Verdict.GREW if consistent else Verdict.FORK


class ProofSource(Protocol):
    async def consistency_proof(self, *, first: int, second: int) -> list[bytes]: ...


class LocalLog:
    """The proofs of the log in this database (a remote monitor would ask the HTTP endpoint)."""

    async def consistency_proof(self, *, first: int, second: int) -> list[bytes]:
        return await services.consistency_proof(first=first, second=second)


async def _consistent(previous: Checkpoint, new: Checkpoint, proofs: ProofSource) -> bool:
    try:
        proof = await proofs.consistency_proof(first=previous.size, second=new.size)
    except DomainError as error:
        log.warning("evidence monitor: no consistency proof %s -> %s: %s", previous.size, new.size, error)
        return False
    return merkle.verify_consistency(
        first=previous.size, second=new.size, first_root=previous.root, second_root=new.root, proof=proof
    )


async def _last_good(origin: str) -> Checkpoint | None:
    row = (
        await EvidenceSeen.filter(origin=origin, verdict__in=list(GOOD)).order_by("-tree_size", "-id").first()
    )
    return Checkpoint(row.origin, row.tree_size, bytes(row.root)) if row else None


async def observe(
    note: str, *, verifier: Verifier, origin: str, proofs: ProofSource, alert: Alert, now: dt.datetime
) -> Verdict:
    """Check one checkpoint note against what was seen before; alert on anything but growth."""
    try:
        checkpoint = open_checkpoint(note, verifier, origin=origin)
    except ValidationFailed as error:
        await alert(f"evidence log checkpoint rejected: {error.message}")
        return Verdict.BAD_SIGNATURE
    previous = await _last_good(origin)
    consistent = None
    if previous is not None and checkpoint.size > previous.size:
        consistent = await _consistent(previous, checkpoint, proofs)
    verdict = judge(previous, checkpoint, consistent=consistent)
    if verdict is not Verdict.SAME:
        await EvidenceSeen.create(
            origin=origin,
            tree_size=checkpoint.size,
            root=checkpoint.root,
            note=note,
            verdict=verdict.value,
            seen_at=now,
        )
    if verdict not in GOOD:
        before = f"{previous.size}" if previous else "-"
        await alert(f"evidence log {verdict.value}: checkpoint size {checkpoint.size} after size {before}")
    return verdict


def admin_alert(openids: Sequence[str], *, now: Callable[[], dt.datetime]) -> Alert:
    """Log an error and queue a message to each admin (once per message text and admin)."""

    async def alert(message: str) -> None:
        log.error("%s", message)
        for openid in openids:
            await notifications.enqueue(
                recipient_openid=openid,
                text=f"【存证日志告警】{message}",
                idempotency_key=f"evidence-monitor:{openid}:{message}"[:120],
                category="evidence_monitor",
                now=now(),
            )

    return alert


async def run_monitor(*, verifier: Verifier, origin: str, interval_s: float, alert: Alert) -> None:
    """Check the log's latest checkpoint every ``interval_s`` until cancelled."""
    proofs = LocalLog()
    while True:
        try:
            latest = await services.latest_checkpoint()
            await observe(
                latest.note,
                verifier=verifier,
                origin=origin,
                proofs=proofs,
                alert=alert,
                now=dt.datetime.now(dt.UTC),
            )
        except DomainError as error:
            log.info("evidence monitor: %s", error.message)
        except Exception:
            log.exception("evidence monitor pass failed")
        await asyncio.sleep(interval_s)
