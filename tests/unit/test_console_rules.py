"""Console building blocks without a server: the shared role rule, sessions and lockout in the cache
port, script-safe page data, local times and the content security policy."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from adapters.memory import MemoryCache
from console import sessions
from console.labels import label
from console.templating import build_templates, content_security_policy, json_script, local_time
from domain.accounts.rules import Principal, Role, authorize
from domain.errors import Forbidden


def test_one_role_rule_admin_may_do_everything_others_only_their_roles() -> None:
    staff = Principal(subject="1", role=Role.STAFF, department="housing")
    assert authorize(staff, frozenset({Role.STAFF})) is staff
    assert authorize(Principal(subject="9", role=Role.ADMIN), frozenset({Role.STAFF})).role is Role.ADMIN
    with pytest.raises(Forbidden) as refused:
        authorize(Principal(subject="2", role=Role.ENTERPRISE), frozenset({Role.STAFF}))
    assert refused.value.code == "forbidden_role"


async def test_a_session_lives_in_the_cache_until_logout_and_forged_ids_never_reach_it() -> None:
    cache = MemoryCache()
    opened = await sessions.open_session(cache, token="signed-token", ttl_s=60)
    loaded = await sessions.load_session(cache, opened.sid)
    assert loaded == opened and len(opened.csrf) >= 40
    await sessions.close_session(cache, opened.sid)
    assert await sessions.load_session(cache, opened.sid) is None
    assert await sessions.load_session(cache, "short") is None
    assert await sessions.load_session(cache, "x" * 40 + ":*") is None


async def test_failures_count_per_username_and_clear_on_success() -> None:
    cache = MemoryCache()
    for expected in (1, 2, 3):
        assert await sessions.record_failure(cache, "Housing1 ", lockout_s=60) == expected
    assert await sessions.failures(cache, "housing1") == 3  # case and spaces do not dodge the count
    assert await sessions.failures(cache, "env1") == 0
    await sessions.clear_failures(cache, "housing1")
    assert await sessions.failures(cache, "housing1") == 0


def test_csrf_tokens_compare_exactly_and_an_empty_expectation_never_matches() -> None:
    assert sessions.token_matches("abc", "abc")
    assert not sessions.token_matches("abc", "abd")
    assert not sessions.token_matches("abc", None)
    assert not sessions.token_matches("", "")


def test_page_data_cannot_close_its_script_element() -> None:
    text = str(json_script({"name": "</script><script>alert(1)</script>&"}))
    assert "</script>" not in text and "<" not in text and "&" not in text
    assert json.loads(text) == {"name": "</script><script>alert(1)</script>&"}


def test_times_are_shown_in_shanghai_and_unknown_enum_values_as_themselves() -> None:
    assert local_time("2026-10-01T16:30:00+00:00") == "2026-10-02 00:30"
    assert local_time(dt.datetime(2026, 10, 1, 16, 30)) == "2026-10-02 00:30"  # naive means UTC
    assert local_time(None) == "-"
    assert label("alarm_type", "device_offline") == "监测设备离线"
    assert label("sla", "overdue") == "已超期"
    assert label("severity", "new_level") == "new_level"


def test_templates_escape_by_default() -> None:
    rendered = build_templates().from_string("{{ value }}").render(value='"><img onerror=x>')
    assert rendered == "&#34;&gt;&lt;img onerror=x&gt;"


def test_scripts_only_from_this_server_and_tiles_only_from_the_configured_host() -> None:
    policy = content_security_policy("https://tiles.city.example/{z}/{x}/{y}.png")
    assert "script-src 'self';" in policy
    assert "img-src 'self' data: blob: https://tiles.city.example;" in policy
    assert "tiles" not in content_security_policy("")
