"""Pure credit rules: validity, as-of scoring across expiry and revocation, grades, sanctions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from domain.credit.catalogue import Catalogue, add_months, parse_catalogue
from domain.credit.rules import (
    AppealAction,
    AppealStatus,
    ChangeKind,
    RecordAction,
    RecordState,
    RecordStatus,
    ScoredRecord,
    assess,
    changes_between,
    grade_for,
    history,
    month_ends,
    next_appeal_status,
    next_record_status,
    quick_grade,
    record_state,
    score_as_of,
)
from domain.errors import Conflict, ValidationFailed

RULES = Path(__file__).resolve().parents[2] / "config" / "credit_rules.yml"
D = dt.date


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return parse_catalogue(yaml.safe_load(RULES.read_text(encoding="utf-8")))


def record(
    record_id: int,
    points: int,
    effective_on: D,
    expires_on: D,
    *,
    approved_on: D | None = None,
    revoked_on: D | None = None,
    record_type: str = "inspection_hazard",
    project_code: str = "WL-2026-0031",
) -> ScoredRecord:
    return ScoredRecord(
        record_id=record_id,
        record_type=record_type,
        category="inspection",
        points=points,
        effective_on=effective_on,
        expires_on=expires_on,
        approved_on=approved_on or effective_on,
        revoked_on=revoked_on,
        project_code=project_code,
        source_ref=f"doc-{record_id}",
    )


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(D(2026, 1, 31), 1) == D(2026, 2, 28)
    assert add_months(D(2024, 2, 29), 12) == D(2025, 2, 28)
    assert add_months(D(2026, 11, 15), 36) == D(2029, 11, 15)


def test_validity_good_three_years_bad_clamped_and_never_shorter_than_penalty(catalogue: Catalogue) -> None:
    award = catalogue.record_type("award_provincial")
    noise = catalogue.record_type("noise_penalty")
    assert catalogue.expiry(award, D(2026, 3, 1)) == D(2029, 3, 1)
    assert catalogue.validity_months(noise) == 6
    assert (
        catalogue.validity_months(noise, penalty_months=9) == 9
    )  # a 9-month suspension outlasts the default
    assert catalogue.validity_months(noise, penalty_months=48) == 48  # never shorter than the penalty


def test_as_of_across_expiry_boundary() -> None:
    hazard = record(1, -2, D(2026, 1, 10), D(2026, 7, 10))
    assert score_as_of([hazard], D(2026, 1, 9), base=100) == 100
    assert score_as_of([hazard], D(2026, 1, 10), base=100) == 98
    assert score_as_of([hazard], D(2026, 7, 9), base=100) == 98
    assert score_as_of([hazard], D(2026, 7, 10), base=100) == 100  # the expiry day no longer counts


def test_as_of_across_appeal_boundary_is_not_retroactive() -> None:
    revoked = record(1, -6, D(2026, 2, 1), D(2027, 2, 1), revoked_on=D(2026, 4, 15))
    assert score_as_of([revoked], D(2026, 4, 14), base=100) == 94
    assert score_as_of([revoked], D(2026, 4, 15), base=100) == 100
    assert record_state(revoked, D(2026, 5, 1), status=RecordStatus.REVOKED) is RecordState.REVOKED
    assert record_state(revoked, D(2026, 3, 1), status=RecordStatus.REVOKED) is RecordState.EFFECTIVE


def test_pending_never_counts_and_approval_counts_from_its_day() -> None:
    pending = ScoredRecord(1, "inspection_hazard", "inspection", -2, D(2026, 1, 1), D(2026, 7, 1), None)
    late = record(2, -2, D(2026, 1, 1), D(2026, 7, 1), approved_on=D(2026, 1, 20))
    assert score_as_of([pending], D(2026, 3, 1), base=100) == 100
    assert score_as_of([late], D(2026, 1, 19), base=100) == 100
    assert score_as_of([late], D(2026, 1, 20), base=100) == 98
    assert record_state(pending, D(2026, 3, 1), status=RecordStatus.PENDING) is RecordState.PENDING
    assert record_state(late, D(2026, 9, 1), status=RecordStatus.EFFECTIVE) is RecordState.EXPIRED


def test_grade_bands(catalogue: Catalogue) -> None:
    grades = {
        score: grade_for(score, catalogue.grades).grade for score in (120, 105, 104.9, 100, 99, 85, 84.9, 10)
    }
    assert grades == {120: "A", 105: "A", 104.9: "B", 100: "B", 99: "C", 85: "C", 84.9: "D", 10: "D"}


def test_two_dust_penalties_suspend_bidding_three_blacklist(catalogue: Catalogue) -> None:
    dust = [
        record(i, -5, day, add_months(day, 12), record_type="dust_penalty")
        for i, day in enumerate((D(2026, 1, 5), D(2026, 2, 5), D(2026, 3, 5)), start=1)
    ]
    two = assess(dust[:2], D(2026, 2, 10), catalogue)
    assert (two.grade, two.bidding_eligible, two.blacklisted) == ("C", False, False)
    three = assess(dust, D(2026, 3, 5), catalogue)
    assert (three.grade, three.blacklisted, three.score) == ("E", True, 85)
    assert quick_grade(dust, D(2026, 3, 5), catalogue) == (85, "E", False)
    # Six months after the third penalty the blacklist ends; the points still count until expiry.
    after = assess(dust, D(2026, 9, 5), catalogue)
    assert (after.grade, after.blacklisted) == ("C", False)
    # Penalties in different construction cycles (projects) do not add up.
    spread = [
        record(
            i, -5, D(2026, 1, i), D(2027, 1, i), record_type="dust_penalty", project_code=f"WL-2026-00{i}0"
        )
        for i in (1, 2, 3)
    ]
    assert assess(spread, D(2026, 2, 1), catalogue).grade == "C"


def test_revoked_penalty_lifts_the_blacklist(catalogue: Catalogue) -> None:
    dust = [record(i, -5, D(2026, i, 1), D(2027, i, 1), record_type="dust_penalty") for i in (1, 2)]
    dust.append(
        record(3, -5, D(2026, 3, 1), D(2027, 3, 1), record_type="dust_penalty", revoked_on=D(2026, 3, 20))
    )
    assert assess(dust, D(2026, 3, 19), catalogue).grade == "E"
    lifted = assess(dust, D(2026, 3, 20), catalogue)
    assert lifted.grade != "E" and not lifted.bidding_eligible  # two standing penalties: still no bidding


def test_explanation_lists_counted_records_only(catalogue: Catalogue) -> None:
    records = [
        record(1, -2, D(2026, 1, 1), D(2026, 7, 1)),
        record(2, 5, D(2025, 5, 1), D(2028, 5, 1), record_type="award_provincial"),
        record(3, -3, D(2024, 1, 1), D(2024, 7, 1)),
    ]
    standing = assess(records, D(2026, 3, 1), catalogue)
    assert [r.record_id for r in standing.counted] == [2, 1]
    assert standing.score == 103 and standing.grade == "B"


def test_history_and_changes(catalogue: Catalogue) -> None:
    records = [record(1, -2, D(2026, 1, 10), D(2026, 7, 10)), record(2, -6, D(2026, 3, 1), D(2027, 3, 1))]
    series = history(records, month_ends(D(2026, 7, 31), 8), catalogue)
    assert [score for _, score, _ in series] == [100, 98, 98, 92, 92, 92, 92, 94]
    changes = changes_between(records, D(2026, 2, 1), D(2026, 7, 31))
    assert [(c.kind, c.delta) for c in changes] == [(ChangeKind.EXPIRED, 2), (ChangeKind.ADDED, -6)]


def test_transition_tables() -> None:
    assert next_record_status(RecordStatus.PENDING, RecordAction.APPROVE) is RecordStatus.EFFECTIVE
    assert next_record_status(RecordStatus.EFFECTIVE, RecordAction.REVOKE) is RecordStatus.REVOKED
    with pytest.raises(Conflict):
        next_record_status(RecordStatus.REJECTED, RecordAction.APPROVE)
    assert next_appeal_status(AppealStatus.FILED, AppealAction.DISMISS) is AppealStatus.DISMISSED
    with pytest.raises(Conflict):
        next_appeal_status(AppealStatus.UPHELD, AppealAction.DISMISS)


def test_catalogue_validation_rejects_bad_bands_and_unknown_types() -> None:
    data = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    broken = {
        **data,
        "grades": [{"grade": "A", "min_score": 90}, {"grade": "B", "min_score": 95}, {"grade": "D"}],
    }
    with pytest.raises(ValidationFailed):
        parse_catalogue(broken)
    with pytest.raises(ValidationFailed):
        parse_catalogue(
            {**data, "sanctions": [{"name": "x", "record_type": "nope", "count": 2, "duration_months": 6}]}
        )


# --- properties --------------------------------------------------------------------------------

DAYS = st.dates(min_value=D(2020, 1, 1), max_value=D(2030, 12, 31))


@st.composite
def records_strategy(draw: st.DrawFn) -> ScoredRecord:
    effective_on = draw(DAYS)
    months = draw(st.integers(min_value=1, max_value=36))
    approved_lag = draw(st.one_of(st.none(), st.integers(min_value=0, max_value=60)))
    revoked_lag = draw(st.one_of(st.none(), st.integers(min_value=0, max_value=900)))
    return ScoredRecord(
        record_id=draw(st.integers(min_value=1, max_value=10**6)),
        record_type="inspection_hazard",
        category="inspection",
        points=draw(st.integers(min_value=-20, max_value=10)),
        effective_on=effective_on,
        expires_on=add_months(effective_on, months),
        approved_on=None if approved_lag is None else effective_on + dt.timedelta(days=approved_lag),
        revoked_on=None if revoked_lag is None else effective_on + dt.timedelta(days=revoked_lag),
    )


@given(st.lists(records_strategy(), max_size=40), DAYS)
def test_score_is_base_plus_sum_of_effective_points(records: list[ScoredRecord], day: D) -> None:
    def counts(r: ScoredRecord) -> bool:
        revoked = r.revoked_on is not None and r.revoked_on <= day
        approved = r.approved_on is not None and r.approved_on <= day
        return approved and not revoked and r.effective_on <= day < r.expires_on

    expected = 100 + sum(r.points for r in records if counts(r))
    assert score_as_of(records, day, base=100) == expected


@given(st.floats(min_value=-500, max_value=500), st.floats(min_value=-500, max_value=500))
def test_grade_is_monotonic_in_score(low: float, high: float) -> None:
    catalogue = parse_catalogue(yaml.safe_load(RULES.read_text(encoding="utf-8")))
    low, high = sorted((low, high))
    order = [band.grade for band in catalogue.grades]  # best first
    assert order.index(grade_for(high, catalogue.grades).grade) <= order.index(
        grade_for(low, catalogue.grades).grade
    )
