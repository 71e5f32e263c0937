"""Exchange rules, pure: the feed catalogue, row validation, signatures, timestamps, backoff."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from domain.exchange.rules import (
    SEALED_PREFIX,
    FeedCatalogueInvalid,
    WebhookPolicy,
    new_sealed_reference,
    parse_config,
    record_key,
    retry_delay_s,
    rows_as_records,
    sign,
    signature_ok,
    timestamp_ok,
    unseal,
    validate_row,
)
from domain.projects.rules import uscc_check_char

CONFIG = parse_config(
    yaml.safe_load((Path(__file__).resolve().parents[2] / "config" / "feeds.yml").read_text("utf-8"))
)
USCC = "91331081MA0000201" + uscc_check_char("91331081MA0000201")
NOW = dt.datetime(2026, 10, 8, 2, 0, tzinfo=dt.UTC)


def test_catalogue_has_the_department_feeds() -> None:
    assert {
        "project_approvals",
        "planning_permits",
        "environmental_penalties",
        "muck_truck_permits",
        "muck_truck_violations",
    } <= set(CONFIG.feeds)
    assert CONFIG.feeds["environmental_penalties"].credit is not None
    assert CONFIG.timestamp_tolerance_s == 300


def test_key_fields_must_be_required() -> None:
    with pytest.raises(FeedCatalogueInvalid):
        parse_config({"feeds": {"x": {"key": ["a"], "fields": {"a": {"type": "text"}}}}})


def test_validate_row() -> None:
    feed = CONFIG.feeds["environmental_penalties"]
    good = {
        "decision_no": "1",
        "enterprise_uscc": USCC.lower(),
        "enterprise_name": "甲",
        "violation": "dust",
        "amount_yuan": "1000",
        "decided_on": "2026-10-08",
    }
    clean, problems = validate_row(feed, good)
    assert problems == [] and clean["enterprise_uscc"] == USCC and clean["amount_yuan"] == 1000.0
    assert record_key(feed, clean) == "1"
    _, problems = validate_row(feed, good | {"amount_yuan": "-1", "decided_on": "08/10/2026", "x": 1})
    assert sorted(problems) == [
        "amount_yuan: out of range",
        "decided_on: not a YYYY-MM-DD date",
        "x: unknown field",
    ]
    _, problems = validate_row(feed, good | {"amount_yuan": float("nan"), "violation": True})
    assert len(problems) == 2
    assert validate_row(feed, ["not", "an", "object"])[1] == ["record must be an object"]


def test_signature_is_hmac_sha256_over_timestamp_and_body() -> None:
    body = b'{"records": []}'
    expected = hmac.new(b"k", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign("k", "1700000000", body) == expected
    assert signature_ok("k", "1700000000", body, expected.upper())
    assert not signature_ok("k", "1700000001", body, expected)
    assert not signature_ok("other", "1700000000", body, expected)


@pytest.mark.parametrize(
    ("offset", "ok"), [(0, True), (300, True), (-300, True), (301, False), (-301, False)]
)
def test_timestamp_window(offset: int, ok: bool) -> None:
    assert timestamp_ok(str(int(NOW.timestamp()) + offset), now=NOW, tolerance_s=300) is ok


@given(st.text(max_size=20))
def test_timestamp_never_crashes(text: str) -> None:
    assert timestamp_ok(text, now=NOW, tolerance_s=300) in (True, False)


def test_backoff_doubles_and_caps() -> None:
    policy = WebhookPolicy(max_attempts=8, first_retry_s=10, max_retry_s=60, timeout_s=5)
    assert [retry_delay_s(n, policy) for n in (1, 2, 3, 4)] == [10, 20, 40, 60]


def test_rows_as_records_skips_blank_lines() -> None:
    assert rows_as_records([["a", "b"], ["1", ""], ["", ""], ["3", "4"]]) == [
        {"a": "1"},
        {"a": "3", "b": "4"},
    ]


def test_sealed_secrets_come_from_the_server_key_and_a_stored_reference() -> None:
    reference = new_sealed_reference()
    assert reference.startswith(SEALED_PREFIX) and len(reference) <= 64
    secret = unseal(reference, master_key=b"k1" * 20)
    assert len(secret) == 43 and secret not in reference
    assert unseal(reference, master_key=b"k1" * 20) == secret, "the same every time"
    assert unseal(reference, master_key=b"k2" * 20) != secret, "another SECRET_KEY, another secret"
    assert unseal(new_sealed_reference(), master_key=b"k1" * 20) != secret
    assert unseal("legacy-plain-secret", master_key=b"k1" * 20) == "legacy-plain-secret"
