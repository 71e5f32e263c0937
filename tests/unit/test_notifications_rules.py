"""Pure outbox rules: channel policy, error classification, backoff, value limits, text splitting."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import ValidationFailed
from domain.notifications.rules import (
    CUSTOM_MAX_PER_INTERACTION,
    TRANSITIONS,
    Channel,
    ChannelOptions,
    ErrorAction,
    OutboxStatus,
    RetryPolicy,
    WindowState,
    backoff_delay_s,
    can_transition,
    choose_channel,
    classify_error,
    custom_window_open,
    next_retry_at,
    parse_template_catalog,
    render_values,
    split_text,
    validate_values,
    value_kind,
)

NOW = dt.datetime(2026, 5, 1, 8, 0, tzinfo=dt.UTC)


def options(**overrides: object) -> ChannelOptions:
    base: dict[str, object] = {
        "window": WindowState(NOW - dt.timedelta(hours=1), 0),
        "has_template": True,
        "template_id_configured": True,
        "subscribe_id_configured": True,
        "subscribe_credit": True,
    }
    return ChannelOptions(**(base | overrides))  # type: ignore[arg-type]


def test_custom_window_is_48_hours_and_5_messages() -> None:
    assert custom_window_open(WindowState(NOW - dt.timedelta(hours=47, minutes=59), 4), now=NOW)
    assert not custom_window_open(WindowState(NOW - dt.timedelta(hours=48), 0), now=NOW)
    assert not custom_window_open(WindowState(NOW, CUSTOM_MAX_PER_INTERACTION), now=NOW)
    assert not custom_window_open(WindowState(), now=NOW)


def test_channel_policy_order() -> None:
    assert choose_channel(options(), now=NOW) is Channel.CUSTOM
    closed = WindowState(NOW - dt.timedelta(days=3), 0)
    assert choose_channel(options(window=closed), now=NOW) is Channel.TEMPLATE
    assert choose_channel(options(window=closed, template_id_configured=False), now=NOW) is Channel.SUBSCRIBE
    assert (
        choose_channel(options(window=closed, excluded=frozenset({Channel.TEMPLATE})), now=NOW)
        is Channel.SUBSCRIBE
    )
    no_credit = options(window=closed, template_id_configured=False, subscribe_credit=False)
    assert choose_channel(no_credit, now=NOW) is None


def test_text_only_message_waits_when_the_window_is_closed() -> None:
    closed = WindowState(NOW - dt.timedelta(days=3), 0)
    assert choose_channel(options(window=closed, has_template=False), now=NOW) is None
    assert choose_channel(options(has_template=False), now=NOW) is Channel.CUSTOM


@pytest.mark.parametrize(
    ("errcode", "action"),
    [
        (None, ErrorAction.RETRY),
        (-1, ErrorAction.RETRY),
        (45015, ErrorAction.FALLBACK),
        (45047, ErrorAction.FALLBACK),
        (43101, ErrorAction.DROP_CREDIT_AND_FALLBACK),
        (-3, ErrorAction.FALLBACK),  # the channel's app has no credentials here
        (47003, ErrorAction.FAIL_AND_ALERT),
        (45009, ErrorAction.FAIL_AND_ALERT),
        (40037, ErrorAction.FAIL),
    ],
)
def test_error_classification(errcode: int | None, action: ErrorAction) -> None:
    assert classify_error(errcode) is action


def test_backoff_grows_is_jittered_and_capped() -> None:
    low = [backoff_delay_s(n, jitter=lambda: 0.0) for n in range(1, 8)]
    high = [backoff_delay_s(n, jitter=lambda: 0.999) for n in range(1, 8)]
    assert low == sorted(low) and low[0] == 1.0
    assert all(lo < hi for lo, hi in zip(low, high, strict=True))
    assert backoff_delay_s(50, jitter=lambda: 0.999) <= 600
    assert backoff_delay_s(5000, jitter=lambda: 0.999, cap_s=30) <= 30


def test_retries_span_the_horizon_and_end_on_it() -> None:
    """A WeChat outage of an hour (or a day less a minute) is ridden out; only past the horizon does
    the message fail, and its last try falls on the horizon itself."""
    policy = RetryPolicy(horizon=dt.timedelta(hours=24), backoff_cap_s=600)
    start = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    now, attempt, gaps = start, 0, []
    while True:
        attempt += 1
        retry_at = next_retry_at(policy, attempt=attempt, first_failure_at=start, now=now, jitter=0.5)
        if retry_at is None:
            break
        gaps.append((retry_at - now).total_seconds())
        now = retry_at
    assert now == start + policy.horizon, "the last try is at the end of the horizon"
    assert max(gaps) <= 600 and attempt > 100, "the cap keeps retries frequent through a long outage"
    early = next_retry_at(
        policy, attempt=6, first_failure_at=start, now=start + dt.timedelta(minutes=1), jitter=0
    )
    assert early is not None, "six failures in a minute are not the end"


def test_transition_table_has_final_states() -> None:
    assert can_transition(OutboxStatus.PENDING, OutboxStatus.SENDING)
    assert can_transition(OutboxStatus.SENDING, OutboxStatus.PENDING)
    assert not can_transition(OutboxStatus.SENT, OutboxStatus.PENDING)
    assert set(TRANSITIONS) == set(OutboxStatus)


def test_value_kinds_come_from_field_names() -> None:
    assert value_kind("thing12") == "thing"
    assert value_kind("character_string3") == "character_string"
    assert value_kind("phrase") == "phrase"


def test_thing_is_truncated_with_an_ellipsis() -> None:
    values = validate_values({"thing1": "温岭市万昌路东侧地块商住综合体项目一期工程塔吊"})
    assert len(values["thing1"]) == 20 and values["thing1"].endswith("…")
    assert validate_values({"thing1": "短"})["thing1"] == "短"


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"phrase3": "已受理待处理"}, "phrase3"),
        ({"name1": "欧阳诸葛司马上官东方"}, None),
        ({"name1": "欧阳诸葛司马上官东方西"}, "name1"),
        ({"character_string1": "WL-2026-0031" * 3}, "character_string1"),
        ({"character_string1": "编号12"}, "character_string1"),
        ({"number1": "12a"}, "number1"),
    ],
)
def test_other_values_fail_clearly(data: dict[str, str], problem: str | None) -> None:
    if problem is None:
        validate_values(data)
        return
    with pytest.raises(ValidationFailed) as caught:
        validate_values(data)
    assert caught.value.code == "invalid_template_value"
    assert any(problem in line for line in caught.value.problems)


def test_render_values_maps_domain_keys_onto_platform_fields() -> None:
    spec = parse_template_catalog(
        {
            "alarm": {
                "fields": {"thing1": "{site}", "thing3": "{value}（限值 {limit}）", "phrase4": "{severity}"}
            }
        }
    )["alarm"]
    values = render_values(
        spec, {"site": "WL-2026-0031-S1", "value": "0.32", "limit": "0.08", "severity": "严重"}
    )
    assert values == {"thing1": "WL-2026-0031-S1", "thing3": "0.32（限值 0.08）", "phrase4": "严重"}
    with pytest.raises(ValidationFailed) as caught:
        render_values(spec, {"site": "x"})
    assert caught.value.code == "invalid_template_value" and "thing3" in caught.value.problems[0]
    identity = parse_template_catalog({"reply": {"fields": ["character_string1", "thing2"]}})["reply"]
    assert render_values(identity, {"character_string1": "TS1", "thing2": "已办结", "extra": "x"}) == {
        "character_string1": "TS1",
        "thing2": "已办结",
    }


def test_catalog_parsing() -> None:
    catalog = parse_template_catalog({"alarm": {"template_id": "T1", "fields": ["thing1"]}})
    assert catalog["alarm"].template_id == "T1" and catalog["alarm"].subscribe_template_id == ""
    with pytest.raises(ValueError, match="fields"):
        parse_template_catalog({"alarm": {"fields": "thing1"}})
    with pytest.raises(ValueError, match="mapping"):
        parse_template_catalog({"alarm": "T1"})


def test_split_text_keeps_characters_whole() -> None:
    text = "工地噪声投诉已受理。" * 300  # 3 bytes per character
    parts = split_text(text)
    assert "".join(parts) == text
    assert all(len(part.encode()) <= 2048 for part in parts)
    assert len(parts) == -(-len(text.encode()) // 2048)


def test_split_text_prefers_line_breaks() -> None:
    text = "a" * 1500 + "\n" + "b" * 1500
    assert split_text(text) == ["a" * 1500 + "\n", "b" * 1500]


@given(st.text(max_size=3000), st.integers(min_value=4, max_value=2048))
def test_split_text_property(text: str, limit: int) -> None:
    parts = split_text(text, max_bytes=limit)
    assert "".join(parts) == text
    assert all(len(part.encode()) <= limit for part in parts)
    assert all(parts) or parts == [""]
