"""Run conversation stories (``tests/stories/*.yml``) through the real encrypted webhook.

A story is what one WeChat user does, turn by turn, against the whole app on the seeded demo data,
with the production NLU engine and the WeChat API stub. A turn is one of:

- ``text: 查一下金海苑``;
- ``location: {lat, lng, label}`` (GCJ-02, as a WeChat location message carries it), or
  ``location: {project: WL-2026-0019}``: where a phone standing at that project reports itself;
- ``image: photo-1`` (a media id the stub serves as a PNG);
- ``click: intent:report_nuisance`` (a menu button's key);
- ``staff: reply 已责令停工``: staff accept, start and reply to this user's last ticket through the API,
  and the outbox delivers the reply to the stub;
- ``alarm: dust``: an alarm is raised on the story's bound site (see ``setup``).

and may carry expectations: ``reply`` (on the passive reply) and ``pushes`` (on messages the stub got
for this user since the previous turn), each ``{contains: [...], not_contains: [...], regex: ...,
count: {text: n}}``; ``ticket`` (on this user's last ticket: ``nuisance_type``, ``site_of`` a project
code, ``description`` / ``description_not_contains``, ``due_within_h`` when filed at night and
``due_by_day_within_h`` by day); ``alarm_state``.

``setup`` (optional): ``bind: true`` binds the user to the first site of ``project`` (default
WL-2026-0001) first; ``binding_code: true`` issues a code for that site (``{binding_code}`` and
``{project}`` in texts). Texts are ``str.format``-ed with what setup and the turns so far learnt
(``{alarm_id}``, ``{ticket_no}``).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from prcoords import wgs_gcj

STORIES_DIR = Path(__file__).parent
DEFAULT_PROJECT = "WL-2026-0001"


@dataclass
class Story:
    name: str
    turns: list[dict[str, Any]]
    setup: dict[str, Any] = field(default_factory=dict)
    faults: list[str] = field(default_factory=list)
    source: str = ""


def load_stories() -> list[Story]:
    stories: list[Story] = []
    for path in sorted(STORIES_DIR.glob("*.yml")):
        for raw in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            story = Story(
                name=str(raw["name"]),
                turns=list(raw["turns"]),
                setup=dict(raw.get("setup") or {}),
                faults=list(raw.get("faults") or []),
                source=path.name,
            )
            stories.append(story)
    names = [story.name for story in stories]
    duplicates = {name for name in names if names.count(name) > 1}
    assert not duplicates, f"story names must be unique: {duplicates}"
    return stories


def check_text(label: str, text: str, expect: dict[str, Any] | str | None) -> None:
    """Assert one reply (or the pushes) meets the story's expectations."""
    if not expect:
        return
    if isinstance(expect, str):
        expect = {"contains": [expect]}
    for part in _as_list(expect.get("contains")):
        assert part in text, f"{label}: expected {part!r} in\n{text}"
    for part in _as_list(expect.get("not_contains")):
        assert part not in text, f"{label}: did not expect {part!r} in\n{text}"
    any_of = _as_list(expect.get("any_of"))
    if any_of:
        assert any(part in text for part in any_of), f"{label}: expected one of {any_of} in\n{text}"
    if "regex" in expect:
        assert re.search(expect["regex"], text, flags=re.MULTILINE), (
            f"{label}: no /{expect['regex']}/ in\n{text}"
        )
    if "equals" in expect:
        assert text == expect["equals"], f"{label}: expected exactly {expect['equals']!r}, got\n{text}"
    for part, times in (expect.get("count") or {}).items():
        assert text.count(part) == times, f"{label}: {part!r} {text.count(part)} times, not {times}:\n{text}"


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(item) for item in value] if isinstance(value, list) else [str(value)]


def gcj_point(lat: float, lng: float) -> tuple[float, float]:
    """What a WeChat location message reports for a WGS-84 point (Tencent maps: GCJ-02)."""
    point = wgs_gcj((lat, lng))
    return point.lat, point.lon


def new_openid() -> str:
    return "ostory" + secrets.token_hex(11)


def local_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
