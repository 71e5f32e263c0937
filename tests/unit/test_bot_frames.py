"""Pure pieces of the dialogue's frames: ellipsis picks, garbage, corrections, paging cues, the FAQ
retrieval, rule questions and the main request of a long letter."""

from __future__ import annotations

import pytest

from bot.dialogue.engine import CORRECTION_RE, choice_number, looks_like_garbage
from bot.dialogues.faq import is_rule_question
from bot.dialogues.projects import is_more_request
from bot.dialogues.site_alarms import ACK_RE, LIST_RE, RESOLVE_RE
from config.faq import load_faq
from nlu.embedded.textnorm import main_request


@pytest.mark.parametrize(
    ("text", "number"),
    [("2", 2), ("第二个", 2), ("那第二个呢", 2), ("第3个", 3), ("那第一个", 1), ("二", 2), ("两个", None),
     ("第二天晚上", None), ("2026", None), ("万昌路", None)],
)  # fmt: skip
def test_numbered_choices_by_digit_or_ordinal(text: str, number: int | None) -> None:
    assert choice_number(text) == number


@pytest.mark.parametrize(
    ("text", "garbage"),
    [("asdf;lkj", True), ("qwe123zxc", True), ("WL-2026-0001", False), ("1", False), ("你好", False),
     ("PM10 多少", False), ("", False)],
)  # fmt: skip
def test_garbage_is_letters_without_chinese(text: str, garbage: bool) -> None:
    assert looks_like_garbage(text) is garbage


def test_corrections_and_paging_cues() -> None:
    assert CORRECTION_RE.match("不对，是在万昌路") and CORRECTION_RE.match("不是锦屏路")
    assert not CORRECTION_RE.match("工地不对劲")
    for text in ("附近还有吗", "还有吗", "还有别的吗", "更多", "下一页"):
        assert is_more_request(text), text
    assert not is_more_request("还有一个工地晚上很吵，就在万昌中路和锦屏路路口")


def test_alarm_phrases() -> None:
    assert ACK_RE.match("收到") and ACK_RE.match("确认告警 193").group(1) == "193"  # type: ignore[union-attr]
    assert RESOLVE_RE.match("已整改，已洒水") and RESOLVE_RE.match("告警12已整改").group(1) == "12"  # type: ignore[union-attr]
    assert LIST_RE.match("我的告警") and not ACK_RE.match("收到投诉了吗")


@pytest.mark.parametrize(
    ("text", "key"),
    [("这个工地晚上几点必须停工", "night_work_hours"), ("夜间施工许可怎么申请", "night_permit"),
     ("拖欠工资去哪里投诉", "wages"), ("扬尘有什么规定", "dust_rules"),
     ("投诉多久有答复", "complaint_time_limit"),
     ("附近有什么工地吗", None), ("万昌路那个工地什么时候完工", None)],
)  # fmt: skip
def test_faq_retrieval(text: str, key: str | None) -> None:
    match = load_faq().best(text)
    assert (match.entry.key if match else None) == key


def test_a_description_of_a_nuisance_is_not_a_rule_question() -> None:
    assert is_rule_question("这个工地晚上几点必须停工")
    assert not is_rule_question("昨晚11点工地还在打桩，吵死了")
    assert not is_rule_question("我要投诉，工地晚上几点还在施工")
    assert not is_rule_question("这个工地扬尘怎么样")


@pytest.mark.parametrize(
    ("text", "main"),
    [("尊敬的领导您好！我家旁边的工地半夜施工", "我家旁边的工地半夜施工"),
     ("领导好，打扰了。请问社保怎么转", "请问社保怎么转"), ("你好", "你好"), ("您好，在吗", "您好，在吗")],
)  # fmt: skip
def test_the_main_request_of_a_letter(text: str, main: str) -> None:
    assert main_request(text) == main
