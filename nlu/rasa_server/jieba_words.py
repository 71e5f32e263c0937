"""Write jieba_dict/wenling.txt: every lookup-table entry and annotated Chinese entity in nlu/data, so
JiebaTokenizer keeps place, company and phrase boundaries where the annotations put them (otherwise
Rasa drops misaligned entity annotations). Run by train.sh; standard library only."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_ANNOTATED = re.compile(r"\[([^\]]+)\](?:\(|\{)")
_LOOKUP = re.compile(r"- lookup: \w+\n  examples: \|\n((?:    - .*\n?)+)")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def main() -> int:
    words: set[str] = set()
    for data_file in sorted((ROOT / "data").rglob("*.yml")):
        text = data_file.read_text(encoding="utf-8")
        for block in _LOOKUP.findall(text):
            words.update(line.strip()[2:].strip() for line in block.splitlines() if line.strip())
        words.update(match for match in _ANNOTATED.findall(text) if _CJK.search(match))
    lines = "".join(f"{word} 2000 n\n" for word in sorted(words) if word and " " not in word)
    target = ROOT / "rasa_server" / "jieba_dict" / "wenling.txt"
    if not target.exists() or target.read_text(encoding="utf-8") != lines:
        target.write_text(lines, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
