"""``POST /nlu/parse`` on the real app: Rasa's JSON shape, names from the seeded database, bad input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from config.app import create_app
from config.container import close_database, init_tortoise
from config.seed import seed_demo_data
from domain.projects.models import Project
from tests.conftest import make_settings


@pytest.fixture
async def client(db_url: str, tmp_path: Path) -> Any:
    await init_tortoise(db_url)
    await seed_demo_data(tmp_path)
    project = await Project.get(code="WL-2026-0031")
    await close_database()
    app = create_app(make_settings(tmp_path, database_url=db_url))
    client = app.asgi_client
    client.test_project = (project.code, project.name)
    return client


async def test_parse_answers_in_rasa_shape(client: Any) -> None:
    _, response = await client.post("/nlu/parse", json={"text": "万昌中路工地半夜12点还在施工，吵得睡不着"})
    assert response.status == 200
    body = response.json
    assert body["text"] == "万昌中路工地半夜12点还在施工，吵得睡不着"
    assert body["intent"]["name"] == "report_nuisance"
    assert 0 < body["intent"]["confidence"] <= 1
    assert body["intent_ranking"][0]["name"] == "report_nuisance"
    entities = {e["entity"]: e for e in body["entities"]}
    assert entities["nuisance_type"]["value"] == "noise"
    assert set(entities["time"]["value"]) >= {"from", "to"}
    assert {"entity", "value", "start", "end", "extractor"} <= set(entities["location"])


async def test_seeded_project_names_resolve_to_their_codes(client: Any) -> None:
    code, name = client.test_project
    _, response = await client.post("/nlu/parse", json={"text": f"请问{name}什么时候完工"})
    projects = [e for e in response.json["entities"] if e["entity"] == "project"]
    assert projects
    assert projects[0]["value"] == code


async def test_bad_bodies_are_400_and_odd_text_still_gets_an_answer(client: Any) -> None:
    # One app for all cases: each app start seeds a database, which is what costs time here.
    for body in (b"{broken", b"[]", b'"text"', b'{"text": 5}', b'{"txt": "hi"}', b""):
        _, response = await client.post(
            "/nlu/parse", content=body, headers={"content-type": "application/json"}
        )
        assert response.status == 400, body
        assert {"code", "message"} <= set(response.json)
    for text in ("", "😀😀", "x" * 20_000, "這個工地晚上太吵了", "\x00\x07"):
        _, response = await client.post("/nlu/parse", json={"text": text})
        assert response.status == 200, text
        assert response.json["intent"]["name"]
    lone_surrogate = '{"text": "\\ud800工地"}'.encode()
    _, response = await client.post(
        "/nlu/parse", content=lone_surrogate, headers={"content-type": "application/json"}
    )
    assert response.status == 200
    _, response = await client.get("/docs/openapi.json")
    assert "/nlu/parse" in response.json["paths"]
