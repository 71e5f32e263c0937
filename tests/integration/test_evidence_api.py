"""The evidence log's HTTP doors and the offline CLI: public checkpoint/key/entries/proofs/lookup/
tiles, the staff package download (role-checked), the CLI verifying it with the published key, and
bad input answering 4xx with a code."""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from tortoise import Tortoise

from adapters.media_store import LocalMediaStore
from adapters.memory import MemoryEventBus
from config.app import create_app
from config.container import close_database
from config.database import tortoise_config
from config.evidence import evidence_config
from config.evidence_cli import main as evidence_cli
from domain.accounts.rules import Principal, Role, issue_token
from domain.evidence import events as evidence_events
from domain.evidence import merkle
from domain.evidence.notes import open_checkpoint, parse_vkey
from domain.evidence.rules import LOGGED_EVENTS
from tests.conftest import make_settings
from tests.integration.test_evidence_log import NOW, camera_alarm, drain

SECRET = "evidence-api-test-secret-0123456789abcdef"


def token(role: Role) -> dict[str, str]:
    principal = Principal(subject="7", role=role)
    value = issue_token(principal, secret=SECRET.encode(), now=dt.datetime.now(dt.UTC))
    return {"authorization": f"Bearer {value}"}


@pytest.fixture
async def setup(db_url: str, tmp_path: Path) -> tuple[Any, int]:
    settings = make_settings(tmp_path, database_url=db_url, secret_key=SECRET)
    config = evidence_config(settings)
    await Tortoise.init(config=tortoise_config(db_url))
    bus = MemoryEventBus()
    for name in LOGGED_EVENTS:
        await bus.ensure_group(f"events.{name}", "evidence")
    media = LocalMediaStore(tmp_path / "media")
    alarm_id, _ref = await camera_alarm(bus, media)
    await drain(bus, media)
    await evidence_events.write_once(
        batch_size=10, signer=config.signer, origin=config.origin, sign=True, now=NOW
    )
    await close_database()
    return create_app(settings).asgi_client, alarm_id


async def test_the_public_log_api_serves_what_a_verifier_needs(setup: tuple[Any, int]) -> None:
    client, alarm_id = setup
    _, key = await client.get("/evidence/v1/key")
    verifier = parse_vkey(key.text)
    _, note = await client.get("/evidence/v1/checkpoint")
    assert note.status == 200 and note.headers["content-type"].startswith("text/plain")
    checkpoint = open_checkpoint(note.text, verifier)
    assert checkpoint.size == 1
    _, found = await client.get("/evidence/v1/lookup", params={"kind": "alarm", "ref": str(alarm_id)})
    assert found.json["leaf_indices"] == [0]
    _, entry = await client.get("/evidence/v1/entries/0")
    leaf = base64.b64decode(entry.json["data"])
    _, proof = await client.get("/evidence/v1/proof/inclusion", params={"leaf_index": 0, "tree_size": 1})
    assert proof.json["hashes"] == []
    assert merkle.leaf_hash(leaf) == checkpoint.root
    _, consistency = await client.get("/evidence/v1/proof/consistency", params={"first": 1, "second": 1})
    assert consistency.json["hashes"] == []
    _, tile = await client.get("/evidence/v1/tile/0/000.p/1")
    assert tile.status == 200 and tile.body == checkpoint.root
    _, bundle = await client.get("/evidence/v1/tile/entries/000.p/1")
    assert bundle.body == len(leaf).to_bytes(2, "big") + leaf


BAD_REQUESTS: list[tuple[str, dict[str, Any], int, str]] = [
    ("/evidence/v1/entries/5", {}, 404, "entry_not_found"),
    ("/evidence/v1/entries/99999999999999999999999", {}, 404, "entry_not_found"),
    ("/evidence/v1/proof/inclusion", {"leaf_index": 1, "tree_size": 1}, 400, "invalid_proof_range"),
    ("/evidence/v1/proof/inclusion", {"leaf_index": 0, "tree_size": 9}, 400, "beyond_tree_size"),
    ("/evidence/v1/proof/inclusion", {"leaf_index": "x", "tree_size": 1}, 400, "invalid_parameter"),
    ("/evidence/v1/proof/consistency", {"first": 2, "second": 1}, 400, "invalid_proof_range"),
    ("/evidence/v1/lookup", {"kind": "nope", "ref": "1"}, 400, "invalid_kind"),
    ("/evidence/v1/tile/0/000", {}, 404, "tile_not_found"),
    ("/evidence/v1/tile/0/0.p/1", {}, 400, "invalid_tile"),
    ("/evidence/v1/tile/0/000.p/300", {}, 400, "invalid_tile"),
    ("/evidence/v1/tile/99/000", {}, 404, "tile_not_found"),
]


async def test_bad_requests_answer_4xx_with_a_code(setup: tuple[Any, int]) -> None:
    client, _alarm_id = setup
    for path, params, status, code in BAD_REQUESTS:
        _, response = await client.get(path, params=params)
        assert (response.status, response.json["code"]) == (status, code), path


async def test_staff_download_a_package_that_the_cli_verifies_offline(
    setup: tuple[Any, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client, alarm_id = setup
    _, refused = await client.get(
        f"/api/v1/evidence/alarm/{alarm_id}/package", headers=token(Role.ENTERPRISE)
    )
    assert refused.status == 403
    _, status = await client.get(f"/api/v1/evidence/alarm/{alarm_id}", headers=token(Role.STAFF))
    assert status.json["status"] == "checkpointed"
    _, download = await client.get(f"/api/v1/evidence/alarm/{alarm_id}/package", headers=token(Role.STAFF))
    assert download.status == 200 and download.headers["content-type"] == "application/zip"
    package = tmp_path / "package.zip"
    package.write_bytes(download.body)
    _, key = await client.get("/evidence/v1/key")
    _, note = await client.get("/evidence/v1/checkpoint")
    (tmp_path / "checkpoint.txt").write_text(note.text, encoding="utf-8")
    assert evidence_cli(["verify", str(package), "--key", key.text.strip()]) == 0
    assert evidence_cli(["verify", str(package), "--checkpoint", str(tmp_path / "checkpoint.txt")]) == 0
    other_key = "other.example+00000000+" + base64.b64encode(b"\x01" + bytes(32)).decode()
    assert evidence_cli(["verify", str(package), "--key", other_key]) == 2  # a malformed key (wrong id)
    assert "VERIFIED" in capsys.readouterr().out
    _, missing = await client.get("/api/v1/evidence/alarm/424242/package", headers=token(Role.STAFF))
    assert (missing.status, missing.json["code"]) == (404, "evidence_not_found")
