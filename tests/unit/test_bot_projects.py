"""Pure parts of the project-query dialogue: what to search for, ranking, wording."""

from __future__ import annotations

from bot.dialogues.projects import aspect_of, format_distance, rank_matches, search_term, term_variants


def test_search_term_drops_the_question_words() -> None:
    assert search_term("万昌路那个工地在建什么") == "万昌路"
    assert search_term("什么时候完工") == ""
    assert search_term("锦绣苑住宅小区的施工单位是谁") == "锦绣苑住宅小区"


def test_term_variants_loosen_a_road_name() -> None:
    assert term_variants("万昌路") == ["万昌路", "万昌"]
    assert term_variants("九龙大道") == ["九龙大道", "九龙"]


def test_aspects() -> None:
    assert aspect_of("什么时候完工") == "completion"
    assert aspect_of("施工单位是哪家") == "builder"
    assert aspect_of("进度怎么样") == "progress"
    assert aspect_of("万昌路") == ""


def _item(code: str, name: str, road: str, stage: str = "construction") -> dict[str, str]:
    return {"code": code, "name": name, "road": road, "address": f"温岭市{road}1号", "stage": stage}


def test_rank_prefers_the_name_then_the_road_then_construction() -> None:
    items = [
        _item("WL-1", "城西社区卫生服务中心", "万昌西路", stage="completed"),
        _item("WL-2", "万昌苑住宅小区", "北山路"),
        _item("WL-3", "太平河道整治", "万昌中路"),
    ]
    ranked = rank_matches(items, term="万昌", wants_construction=True)
    assert [item["code"] for item in ranked] == ["WL-2", "WL-3", "WL-1"]


def test_distance_wording() -> None:
    assert format_distance(834) == "830米"
    assert format_distance(1560) == "1.6公里"
