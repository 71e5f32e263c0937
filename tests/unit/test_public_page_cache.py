"""Rendered public pages are kept a few seconds per worker, never an error page, in bounded memory."""

from __future__ import annotations

import importlib

import pytest
from sanic.response import HTTPResponse, html

from console.public_pages import RenderedPages

# The package exports the blueprint under the module's name: reach the module itself.
public_pages = importlib.import_module("console.public_pages")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(public_pages.time, "monotonic", fake)
    return fake


def _page(text: str, status: int = 200) -> HTTPResponse:
    return html(text, status=status, headers={"Content-Security-Policy": "default-src 'self'"})


def test_a_kept_page_is_served_as_a_fresh_response_until_it_expires(clock: Clock) -> None:
    pages = RenderedPages(ttl_s=30)
    pages.put("WL-2026-0031", _page("<p>进度</p>"))
    first, second = pages.get("WL-2026-0031"), pages.get("WL-2026-0031")
    assert first is not None and second is not None and first is not second
    assert first.body == "<p>进度</p>".encode() and first.status == 200
    assert first.headers["Content-Security-Policy"] == "default-src 'self'"
    assert first.content_type == "text/html; charset=utf-8"
    clock.now += 29.9
    assert pages.get("WL-2026-0031") is not None
    clock.now += 0.1
    assert pages.get("WL-2026-0031") is None


def test_error_pages_and_a_zero_ttl_are_never_kept(clock: Clock) -> None:
    pages = RenderedPages(ttl_s=30)
    pages.put("WL-0000-0000", _page("没有这个项目", status=404))
    assert pages.get("WL-0000-0000") is None
    never = RenderedPages(ttl_s=0)
    never.put("WL-2026-0031", _page("x"))
    assert never.get("WL-2026-0031") is None


def test_memory_is_bounded_by_evicting_the_oldest(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(public_pages, "MAX_KEPT_PAGES", 3)
    pages = RenderedPages(ttl_s=30)
    for code in ("A", "B", "C", "D"):
        pages.put(code, _page(code))
    assert pages.get("A") is None
    assert [pages.get(code) is not None for code in ("B", "C", "D")] == [True, True, True]
