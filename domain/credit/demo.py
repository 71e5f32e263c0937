"""Demo credit files for embedded mode: every demo enterprise gets a file, a few get records.

Idempotent: records are keyed by their document reference, so running the seed twice adds nothing.
"""

from __future__ import annotations

import datetime as dt
import random

from domain.credit import services
from domain.credit.rules import SubjectKind
from domain.credit.tabular import RecordDraft
from domain.errors import Conflict

DEMO_RECORDS = (
    ("inspection_hazard", 40, "温建检〔{year}〕{n}号"),
    ("noise_penalty", 75, "温综执罚〔{year}〕{n}号"),
    ("dust_penalty", 120, "温综执罚〔{year}〕{n}号"),
    ("award_municipal", 300, "台建奖〔{year}〕{n}号"),
    ("contract_excellent", 200, "温建履〔{year}〕{n}号"),
    ("complaint_upheld", 20, "投诉工单 D{n}"),
)


async def seed_demo_credit(
    enterprises: list[tuple[str, str]], *, now: dt.datetime, seed: int = 20261124
) -> int:
    """``enterprises`` is [(uscc, name)]; returns how many records were created."""
    await services.register_subjects(
        [services.SubjectRef(SubjectKind.ENTERPRISE, uscc, name) for uscc, name in enterprises]
    )
    catalogue = services.rule_catalogue()
    rng = random.Random(seed)
    today = services.local_day(now)
    created = 0
    for index, (uscc, name) in enumerate(enterprises):
        for record_type, days_ago, ref in rng.sample(DEMO_RECORDS, k=rng.randrange(0, 4)):
            effective_on = today - dt.timedelta(days=days_ago + rng.randrange(30))
            draft = RecordDraft(
                subject_kind=SubjectKind.ENTERPRISE,
                subject_id=uscc,
                subject_name=name,
                record_type=record_type,
                effective_on=effective_on,
                source_ref=ref.format(year=effective_on.year, n=100 + index),
            )
            try:
                # Recorded on its own day, so the demo trend lines move when the records did.
                recorded_at = dt.datetime.combine(effective_on, dt.time(2, 0), tzinfo=dt.UTC)
                await services.add_record(
                    draft, catalogue=catalogue, actor="system:demo", now=recorded_at, needs_review=False
                )
            except Conflict:
                continue  # seeded before
            created += 1
    return created
