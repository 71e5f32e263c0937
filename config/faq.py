"""Load the FAQ of rule and procedure questions (config/faq.yml) for the bot, once, at start-up."""

from __future__ import annotations

from pathlib import Path

import yaml

from domain.conversations.faq import FaqIndex

FAQ_PATH = Path(__file__).with_name("faq.yml")


def load_faq(path: Path = FAQ_PATH) -> FaqIndex:
    return FaqIndex.from_config(yaml.safe_load(path.read_text(encoding="utf-8")) or [])
