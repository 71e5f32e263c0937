"""The custom menu kept in ``config/menu.json`` (WeChat's ``menu/create`` body) and its checks.

Click keys are ``intent:<name>`` (start that dialogue), ``text:<words>`` (as if the user typed them)
or ``help``; ``location_select`` buttons make WeChat send a location message, which the bot answers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from config.settings import REPO_ROOT

MENU_PATH = REPO_ROOT / "config" / "menu.json"
MAX_TOP_BUTTONS = 3
MAX_SUB_BUTTONS = 5
MAX_TOP_NAME_BYTES = 16  # WeChat: 4 Chinese characters for a top-level button
MAX_SUB_NAME_BYTES = 60
MAX_KEY_BYTES = 128
KEY_KINDS = ("intent", "text", "help", "nearby")


class MenuError(ValueError):
    """The menu file breaks one of WeChat's menu limits (checked before anything is sent)."""


def _check_button(button: dict[str, Any], *, top: bool) -> None:
    name = str(button.get("name", ""))
    limit = MAX_TOP_NAME_BYTES if top else MAX_SUB_NAME_BYTES
    if not name or len(name.encode()) > limit:
        raise MenuError(f"button name {name!r} must be 1..{limit} bytes")
    if "sub_button" in button:
        subs = button["sub_button"]
        if not top or not isinstance(subs, list) or not 1 <= len(subs) <= MAX_SUB_BUTTONS:
            raise MenuError(f"{name!r}: 1..{MAX_SUB_BUTTONS} sub-buttons, only under a top-level button")
        for sub in subs:
            _check_button(sub, top=False)
        return
    key = str(button.get("key", ""))
    if button.get("type") in ("click", "location_select"):
        if not key or len(key.encode()) > MAX_KEY_BYTES or key.partition(":")[0] not in KEY_KINDS:
            raise MenuError(f"{name!r}: key {key!r} must be intent:<name>, text:<words>, help or nearby")
    elif button.get("type") == "view":
        if not str(button.get("url", "")).startswith("https://"):
            raise MenuError(f"{name!r}: a view button needs an https url")
    else:
        raise MenuError(f"{name!r}: unsupported button type {button.get('type')!r}")


def load_menu(path: Path = MENU_PATH) -> dict[str, Any]:
    menu = json.loads(path.read_text(encoding="utf-8"))
    buttons = menu.get("button") if isinstance(menu, dict) else None
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_TOP_BUTTONS:
        raise MenuError(f"the menu needs 1..{MAX_TOP_BUTTONS} top-level buttons")
    for button in buttons:
        _check_button(button, top=True)
    return dict(menu)
