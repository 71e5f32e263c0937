"""Quality gates on the held-out split (tests/nlu/test_split.yml), which no engine trains on."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from nlu.embedded.engine import DEFAULT_TRAINING_PATH, EmbeddedEngine
from nlu.evaluate import evaluate
from nlu.interface import INTENTS
from nlu.training_data import load_training_data

SPLIT = Path(__file__).resolve().parent.parent / "nlu" / "test_split.yml"
LETTERS = SPLIT.with_name("test_letters.yml")  # long letters written apart from the training data


@pytest.fixture(scope="module")
def engine() -> EmbeddedEngine:
    return EmbeddedEngine.load_or_train(cache_dir=None, fallback_threshold=0.45)


def test_training_data_has_forty_examples_for_every_intent() -> None:
    counts = Counter(example.intent for example in load_training_data(DEFAULT_TRAINING_PATH).examples)
    assert set(counts) == set(INTENTS)
    assert min(counts.values()) >= 40


def test_the_split_is_held_out() -> None:
    training = {example.text for example in load_training_data(DEFAULT_TRAINING_PATH).examples}
    split = load_training_data(SPLIT).examples
    assert not [example.text for example in split if example.text in training]
    assert {example.intent for example in split} == set(INTENTS)


async def test_intent_accuracy_and_entity_f1_on_the_held_out_split(engine: EmbeddedEngine) -> None:
    report = await evaluate(engine, load_training_data(SPLIT).examples)
    # The figures issue 15 asks of the embedded engine (measured: 0.980 and 0.986 on 201 messages;
    # training is seeded, so the figures are the same on every run).
    assert report.accuracy >= 0.97, report.errors
    assert report.entity.f1 >= 0.90, report.errors
    assert report.value_agreement >= 0.9


def test_the_letters_split_is_held_out_and_long() -> None:
    training = {example.text for example in load_training_data(DEFAULT_TRAINING_PATH).examples}
    letters = load_training_data(LETTERS).examples
    assert len(letters) >= 80
    assert not [example.text for example in letters if example.text in training]


async def test_intent_accuracy_on_the_long_letters(engine: EmbeddedEngine) -> None:
    report = await evaluate(engine, load_training_data(LETTERS).examples)
    assert report.accuracy >= 0.90, report.errors


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("老板拖欠我们农民工工资三个月了，工地上的人都没拿到钱", "out_of_scope"),
        ("孩子明年上小学，学区怎么划分", "out_of_scope"),
        ("社保断缴了一个月有影响吗", "out_of_scope"),
        ("新买的房子墙面开裂漏水，开发商一直拖着不修", "out_of_scope"),
        ("万昌中路工地半夜12点还在施工，吵得睡不着", "report_nuisance"),
        ("塔吊倒了，快来人", "report_emergency"),
    ],
)
def test_other_government_matters_are_out_of_scope_not_the_nearest_intent(
    engine: EmbeddedEngine, text: str, intent: str
) -> None:
    assert engine.parse_sync(text).intent == intent


def test_a_long_formal_letter_is_classified_by_its_main_request(engine: EmbeddedEngine) -> None:
    letter = (
        "尊敬的领导：您好！我是横峰街道某小区的一名普通居民，家里有老人和正在备考的孩子。小区西侧的在建工地自上月起"
        "几乎每天晚上都施工到凌晨两三点，混凝土泵车和振捣棒的声音非常大，我们多次打电话给工地负责人，对方态度敷衍。"
        "恳请贵局派人到现场核查，依法查处夜间违规施工行为，还我们一个安静的休息环境。此致敬礼！"
    )
    result = engine.parse_sync(letter)
    assert len(letter) > 100
    assert result.intent == "report_nuisance"
    assert result.first("location") is not None
