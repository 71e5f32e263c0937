"""The public project API over the seeded demo data, on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from config.app import create_app
from config.container import close_database, init_tortoise
from config.seed import seed_demo_data
from domain.geo import haversine_m
from tests.conftest import make_settings


@pytest.fixture
async def client(db_url: str, tmp_path: Path) -> Any:
    await init_tortoise(db_url)
    await seed_demo_data(tmp_path)
    await close_database()
    app = create_app(make_settings(tmp_path, database_url=db_url))
    return app.asgi_client


async def test_keyword_search_matches_part_of_a_road_name(client: Any) -> None:
    _, response = await client.get("/api/v1/projects", params={"q": "万昌"})
    assert response.status == 200
    body = response.json
    assert body["total"] >= 1
    for item in body["items"]:
        assert "万昌" in item["name"] + item["address"] + item["road"]
    assert {"code", "name", "kind", "stage", "progress_pct", "town", "address", "lat", "lng"} <= set(
        body["items"][0]
    )


async def test_nearby_is_sorted_by_distance_within_radius(client: Any) -> None:
    lat, lng = 28.372, 121.372
    _, response = await client.get(
        "/api/v1/projects", params={"near": f"{lat},{lng}", "radius_m": 5000, "page_size": 20}
    )
    assert response.status == 200
    items = response.json["items"]
    assert items, "the demo data has projects in 太平街道"
    distances = [item["distance_m"] for item in items]
    assert distances == sorted(distances)
    for item in items:
        assert item["distance_m"] <= 5000
        assert item["distance_m"] == pytest.approx(haversine_m(lat, lng, item["lat"], item["lng"]), abs=0.2)


async def test_pagination_and_filters(client: Any) -> None:
    _, first = await client.get("/api/v1/projects", params={"page_size": 10, "page": 1})
    _, second = await client.get("/api/v1/projects", params={"page_size": 10, "page": 2})
    assert first.json["total"] == 64
    assert not {i["code"] for i in first.json["items"]} & {i["code"] for i in second.json["items"]}
    _, town = await client.get("/api/v1/projects", params={"town": "泽国镇", "stage": "在建"})
    assert town.status == 200
    assert all(i["town"] == "泽国镇" and i["stage"] == "construction" for i in town.json["items"])


async def test_details_hide_personal_data(client: Any) -> None:
    _, listing = await client.get("/api/v1/projects", params={"stage": "construction", "page_size": 1})
    code = listing.json["items"][0]["code"]
    _, response = await client.get(f"/api/v1/projects/{code}")
    assert response.status == 200
    body = response.json
    assert body["code"] == code
    assert body["enterprises"]["contractor"]["name"]
    assert len(body["milestones"]) == 5
    assert body["expected_completion"]
    text = response.body.decode()
    assert "phone" not in text and "id_number" not in text
    assert not any(ch.isdigit() and len(part) == 11 for part in text.split('"') for ch in part[:1])


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("/api/v1/projects", {"near": "95,121"}, 400, "invalid_coordinates"),
        ("/api/v1/projects", {"near": "abc"}, 400, "invalid_coordinates"),
        ("/api/v1/projects", {"near": "28.3,121.3", "radius_m": 50001}, 400, "invalid_parameter"),
        ("/api/v1/projects", {"page_size": 101}, 400, "invalid_parameter"),
        ("/api/v1/projects", {"page": "x"}, 400, "invalid_parameter"),
        ("/api/v1/projects", {"stage": "nope"}, 400, "invalid_stage"),
        ("/api/v1/projects", {"q": "'; DROP TABLE project; --"}, 200, None),
        ("/api/v1/projects/WL-2099-9999", {}, 404, "project_not_found"),
        ("/api/v1/projects/not-a-code", {}, 400, "invalid_project_code"),
        ("/api/v1/nowhere", {}, 404, "not_found"),
    ],
)
async def test_bad_input_gets_a_4xx_with_code_and_message(
    client: Any, path: str, params: dict[str, Any], status: int, code: str | None
) -> None:
    _, response = await client.get(path, params=params)
    assert response.status == status
    if code is not None:
        assert response.json["code"] == code
        assert response.json["message"]


async def test_broken_json_body_is_a_4xx(client: Any) -> None:
    _, response = await client.post("/api/v1/projects", content=b"{not json")
    assert 400 <= response.status < 500
    assert {"code", "message"} <= set(response.json)


async def test_health_readiness_and_openapi(client: Any) -> None:
    _, health = await client.get("/healthz")
    assert health.status == 200
    _, ready = await client.get("/readyz")
    assert ready.status == 200, ready.json
    assert ready.json["checks"]["database"] == "ok"
    _, spec = await client.get("/docs/openapi.json")
    assert spec.status == 200
    assert "/api/v1/projects" in spec.json["paths"]


@pytest.mark.parametrize(
    "query",
    [
        {"q": "万昌"},
        {"q": "大道 温岭"},
        {"town": "泽国镇", "page_size": 5, "page": 2},
        {"near": (28.372, 121.372), "radius_m": 5000},
        {"near": (28.372, 121.372), "radius_m": 5000, "page": 2, "page_size": 7},
        {"near": (28.30, 121.55), "radius_m": 20000, "q": "工程"},
        {"near": (28.45, 121.30), "radius_m": 50000, "stage": "construction", "kind": "residential"},
        {"q": "没有这个词"},
        {"page": 99},
    ],
)
async def test_read_model_answers_exactly_like_the_database(
    database: str, tmp_path: Path, query: dict[str, Any]
) -> None:
    from domain.projects import services  # noqa: PLC0415
    from domain.projects.read_model import ProjectReadModel  # noqa: PLC0415
    from domain.projects.rules import ProjectKind, ProjectStage  # noqa: PLC0415

    await seed_demo_data(tmp_path)
    model = ProjectReadModel.build(await services.load_public_summaries())
    arguments = {
        **query,
        "stage": ProjectStage(query["stage"]) if "stage" in query else None,
        "kind": ProjectKind(query["kind"]) if "kind" in query else None,
    }
    project_query = services.ProjectQuery(**arguments)
    from_database = await services.search_projects(project_query)
    from_memory = await services.search_projects(project_query, read_model=model)
    assert from_memory.total == from_database.total
    assert [item["code"] for item in from_memory.items] == [item["code"] for item in from_database.items]
    for mine, theirs in zip(from_memory.items, from_database.items, strict=True):
        assert (
            mine == pytest.approx(theirs)
            if "distance_m" not in mine
            else mine["distance_m"] == pytest.approx(theirs["distance_m"], abs=0.1)
        )


async def test_json_keeps_chinese_readable(client: Any) -> None:
    # A staff member reading the API with curl sees 万昌, not \u4e07\u660c.
    _, response = await client.get("/api/v1/projects", params={"q": "万昌"})
    assert response.status == 200
    assert "万昌".encode() in response.body
    assert b"\\u" not in response.body
