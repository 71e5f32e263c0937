"""The bot's per-process read cache: answers for a minute, bounded, least recently used out first."""

from __future__ import annotations

from bot.dialogue.read_cache import ReadCache


def test_an_answer_is_kept_for_its_ttl_only() -> None:
    clock = [0.0]
    reads = ReadCache(ttl_s=60, clock=lambda: clock[0])
    reads.put("project:WL-2026-0019", '{"name": "金海苑"}')
    clock[0] = 59.9
    assert reads.get("project:WL-2026-0019") == '{"name": "金海苑"}'
    clock[0] = 60.0
    assert reads.get("project:WL-2026-0019") is None  # a minute of staleness at most
    assert reads.get("search:nothing") is None


def test_the_least_recently_used_answer_leaves_first() -> None:
    reads = ReadCache(max_items=2, clock=lambda: 0.0)
    reads.put("a", "1")
    reads.put("b", "2")
    assert reads.get("a") == "1"  # now "b" is the least recently used
    reads.put("c", "3")
    assert (reads.get("a"), reads.get("b"), reads.get("c")) == ("1", None, "3")
    reads.put("a", "4")  # a new answer replaces the old one and keeps the bound
    assert (reads.get("a"), reads.get("c")) == ("4", "3")
