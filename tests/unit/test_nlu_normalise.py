"""Normalised entity values: nuisance codes, identifiers, project codes from names, time ranges."""

from __future__ import annotations

import datetime as dt

import pytest

from nlu.embedded.engine import EmbeddedEngine
from nlu.embedded.textnorm import normalise
from nlu.embedded.timeexpr import SHANGHAI, find_times

REFERENCE = dt.datetime(2026, 11, 24, 10, 30, tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def engine() -> EmbeddedEngine:
    return EmbeddedEngine.load_or_train(cache_dir=None, fallback_threshold=0.45)


def _time(text: str) -> dict[str, object]:
    mentions = find_times(normalise(text), reference=REFERENCE)
    assert len(mentions) == 1, mentions
    return mentions[0].value


def test_midnight_twelve_is_the_most_recent_midnight() -> None:
    assert _time("半夜12点还在施工") == {
        "from": "2026-11-24T00:00:00+08:00",
        "to": "2026-11-24T01:00:00+08:00",
    }


def test_small_hours_and_last_night() -> None:
    assert _time("凌晨") == {"from": "2026-11-24T00:00:00+08:00", "to": "2026-11-24T06:00:00+08:00"}
    assert _time("凌晨两点") == {"from": "2026-11-24T02:00:00+08:00", "to": "2026-11-24T03:00:00+08:00"}
    assert _time("昨晚一直在打桩") == {"from": "2026-11-23T18:00:00+08:00", "to": "2026-11-24T06:00:00+08:00"}
    assert _time("晚上十一点以后")["from"] == "2026-11-23T23:00:00+08:00"


def test_a_utc_reference_is_resolved_in_shanghai_time() -> None:
    utc_reference = dt.datetime(2026, 11, 23, 17, 0, tzinfo=dt.UTC)  # 01:00 on the 24th in Wenling
    mention = find_times("凌晨", reference=utc_reference)[0]
    assert mention.value["from"] == "2026-11-24T00:00:00+08:00"


@pytest.mark.parametrize("text", ["小声一点", "晚上好", "后天天气如何", "夜间标准是多少"])
def test_words_that_only_look_like_times(text: str) -> None:
    assert find_times(normalise(text), reference=REFERENCE) == []


@pytest.mark.parametrize("word", ["吵", "噪音", "噪声", "声音大"])
def test_noise_synonyms_map_to_one_code(engine: EmbeddedEngine, word: str) -> None:
    result = engine.parse_sync(f"万昌中路工地{word}，晚上睡不着", reference=REFERENCE)
    assert result.intent == "report_nuisance"
    assert result.first("nuisance_type") is not None
    assert result.first("nuisance_type").value == "noise"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("渣土车漏土", "muck_truck"),
        ("工地扬尘太大了", "dust"),
        ("探照灯照进卧室", "light"),
        ("半夜施工扰民", "night_construction"),
    ],
)
def test_nuisance_codes(engine: EmbeddedEngine, text: str, code: str) -> None:
    result = engine.parse_sync("投诉：" + text, reference=REFERENCE)
    assert code in {e.value for e in result.entities if e.entity == "nuisance_type"}


def test_identifiers_are_upper_cased(engine: EmbeddedEngine) -> None:
    result = engine.parse_sync("wl-2026-0031 ts20261102031 sp2026-0412", reference=REFERENCE)
    values = {e.entity: e.value for e in result.entities}
    assert values["project_code"] == "WL-2026-0031"
    assert values["ticket_id"] == "TS20261102031"
    assert values["application_id"] == "SP2026-0412"


def test_a_new_project_is_recognised_after_a_gazetteer_refresh_without_retraining(
    engine: EmbeddedEngine,
) -> None:
    text = "请问鸣鹿湾滨水公园二期什么时候完工"
    assert engine.parse_sync(text).first("project") is None
    engine.refresh_gazetteer(
        projects=[("WL-2026-0999", "鸣鹿湾滨水公园二期工程")], companies=["浙江鸣鹿建设有限公司"]
    )
    result = engine.parse_sync(text)
    assert result.intent == "query_project"
    assert result.first("project") is not None
    assert result.first("project").value == "WL-2026-0999"  # type: ignore[union-attr]
    typo = engine.parse_sync("鸣露湾滨水公园二期工程的施工单位是谁")  # one character mistyped
    assert typo.first("project") is not None
    assert typo.first("project").value == "WL-2026-0999"  # type: ignore[union-attr]
    company = engine.parse_sync("鸣鹿建设的信用分多少")
    assert company.first("company") is not None
    assert company.first("company").value == "浙江鸣鹿建设有限公司"  # type: ignore[union-attr]


def test_entity_offsets_point_into_the_original_text(engine: EmbeddedEngine) -> None:
    text = "ＷＬ－２０２６－００３１ 這個工地噪聲太大"
    result = engine.parse_sync(text, reference=REFERENCE)
    for entity in result.entities:
        assert text[entity.start : entity.end] == entity.text
    assert result.first("project_code").value == "WL-2026-0031"  # type: ignore[union-attr]
