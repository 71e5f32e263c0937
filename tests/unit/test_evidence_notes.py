"""Signed notes, checkpoints, keys, canonical leaves, tile paths and offline package verification."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.cli import main as cli_main
from domain.errors import ValidationFailed
from domain.evidence import merkle, notes, rules
from domain.evidence.package import build_package, verify_package

SIGNER = notes.Signer("wenling.test/evidence", bytes(range(32)))


def test_key_id_and_vkey_follow_c2sp() -> None:
    verifier = SIGNER.verifier
    expected_id = hashlib.sha256(SIGNER.name.encode() + b"\n\x01" + verifier.public_key).digest()[:4]
    assert verifier.key_id == expected_id
    name, hex_id, encoded = verifier.vkey.split("+", 2)
    assert (name, hex_id) == (SIGNER.name, expected_id.hex())
    assert base64.b64decode(encoded) == b"\x01" + verifier.public_key
    assert notes.parse_vkey(verifier.vkey) == verifier
    assert notes.parse_private_key(SIGNER.private_key_text) == SIGNER


def test_a_signed_checkpoint_opens_only_with_the_right_key_and_unchanged_text() -> None:
    checkpoint = notes.Checkpoint(SIGNER.name, 42, merkle.leaf_hash(b"x"))
    note = notes.sign_note(checkpoint.text(), SIGNER)
    assert note.startswith(f"{SIGNER.name}\n42\n")
    assert "\n\n\u2014 wenling.test/evidence " in note
    assert notes.open_checkpoint(note, SIGNER.verifier, origin=SIGNER.name) == checkpoint
    with pytest.raises(ValidationFailed):
        notes.open_checkpoint(note.replace("\n42\n", "\n43\n"), SIGNER.verifier)
    with pytest.raises(ValidationFailed):
        notes.open_checkpoint(note, notes.Signer(SIGNER.name, bytes(32)).verifier)
    with pytest.raises(ValidationFailed):
        notes.open_checkpoint(note, SIGNER.verifier, origin="another.log")


def test_a_note_signed_also_by_a_witness_still_opens() -> None:
    witness = notes.Signer("witness.example", bytes(32))
    text = notes.Checkpoint(SIGNER.name, 1, merkle.leaf_hash(b"")).text()
    cosigned = notes.sign_note(text, witness).rstrip("\n").split("\n")[-1]
    note = notes.sign_note(text, SIGNER) + cosigned + "\n"
    assert notes.open_note(note, SIGNER.verifier) == text


@given(st.text(max_size=200))
def test_broken_notes_are_refused_with_a_code_never_a_crash(garbage: str) -> None:
    with pytest.raises(ValidationFailed):
        notes.open_checkpoint(garbage, SIGNER.verifier)


def test_leaves_are_canonical_and_pseudonymous() -> None:
    payload = {
        "code": "YJ-1",
        "openid": "oAbc",
        "at": "2026-01-01T00:00:00+00:00",
        "nested": {"phone": "13800000000"},
    }
    document = rules.leaf_document(event_name="IncidentReported", payload=payload, files=[], salt=b"s")
    data = rules.canonical(document)
    assert data == rules.canonical(dict(reversed(list(document.items()))))
    assert b"oAbc" not in data and b"13800000000" not in data
    assert (
        document["record"]["openid"]
        == rules.pseudonym("oAbc", salt=b"s")
        != rules.pseudonym("oAbc", salt=b"t")
    )
    assert (document["kind"], document["ref"], document["action"], document["v"]) == (
        "emergency",
        "YJ-1",
        "reported",
        1,
    )
    with pytest.raises(ValidationFailed):
        rules.leaf_document(event_name="SomethingElse", payload=payload, files=[], salt=b"s")


@pytest.mark.parametrize(
    ("path", "level", "index", "width"),
    [("0/000", 0, 0, 256), ("1/x001/x234/067.p/8", 1, 1234067, 8), ("entries/x001/000", None, 1000, 256)],
)
def test_tile_paths(path: str, level: int | None, index: int, width: int) -> None:
    assert rules.parse_tile_path(path) == rules.TileRequest(level, index, width)
    assert rules.tile_index_path(index) in path


@pytest.mark.parametrize(
    "path", ["0/0", "0/x000", "a/000", "0/000.p/0", "0/000.p/256", "0/x000/001", "0/000.p/07"]
)
def test_bad_tile_paths_are_refused(path: str) -> None:
    with pytest.raises(ValidationFailed):
        rules.parse_tile_path(path)


def _package(files: dict[str, bytes], *, listed: dict[str, bytes] | None = None) -> bytes:
    """A one-of-three-leaves package whose leaf vouches for ``listed`` (default: the files given)."""
    digests = [rules.file_digest("evidence", ref, data) for ref, data in (listed or files).items()]
    leaf = rules.canonical(
        rules.leaf_document(event_name="AlarmRaised", payload={"alarm_id": 9}, files=digests, salt=b"")
    )
    leaves = [b"a", leaf, b"c"]
    frontier = merkle.Frontier()
    stored = {}
    for item in leaves:
        for level, index, hash_ in frontier.append(merkle.leaf_hash(item)):
            stored[(level, index)] = hash_
    proof = merkle.hashes_for(merkle.inclusion_ranges(1, 3), stored)
    note = notes.sign_note(notes.Checkpoint(SIGNER.name, 3, frontier.root()).text(), SIGNER)
    return build_package(
        leaf=leaf,
        leaf_index=1,
        tree_size=3,
        proof=proof,
        checkpoint_note=note,
        vkey=SIGNER.verifier.vkey,
        files=files,
    )


def test_a_package_verifies_offline_and_any_change_fails() -> None:
    photo = {"abc.jpg": b"\xff\xd8 photo"}
    package = _package(photo)
    assert verify_package(package, verifier=SIGNER.verifier).ok
    names = zipfile.ZipFile(io.BytesIO(package)).namelist()
    assert {"leaf.json", "proof.json", "checkpoint.txt", "key.txt", "files/abc.jpg", "说明.txt"} <= set(names)
    assert not verify_package(_package({"abc.jpg": b"other"}, listed=photo), verifier=SIGNER.verifier).ok
    assert not verify_package(_package({}, listed=photo), verifier=SIGNER.verifier).ok
    stranger = notes.Signer(SIGNER.name, bytes(32)).verifier
    assert not verify_package(package, verifier=stranger).ok
    with pytest.raises(ValidationFailed):
        verify_package(b"not a zip")


def test_python_m_config_evidence_verify_checks_a_package_offline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = tmp_path / "good.zip", tmp_path / "bad.zip"
    good.write_bytes(_package({"abc.jpg": b"photo"}))
    bad.write_bytes(_package({"abc.jpg": b"swapped"}, listed={"abc.jpg": b"photo"}))
    assert cli_main(["evidence", "verify", str(good), "--key", SIGNER.verifier.vkey]) == 0
    assert "VERIFIED" in capsys.readouterr().out
    assert cli_main(["evidence", "verify", str(bad), "--key", SIGNER.verifier.vkey]) == 1
    assert "DIFFERS" in capsys.readouterr().out
    assert cli_main(["evidence", "verify", str(tmp_path / "missing.zip")]) == 2


def test_keygen_prints_a_key_production_accepts_and_its_vkey(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["evidence", "keygen", "evidence.wenling.example"]) == 0
    private_text, vkey = capsys.readouterr().out.split()
    signer = notes.parse_private_key(private_text)
    assert signer.name == "evidence.wenling.example" and signer.verifier.vkey == vkey
    note = notes.sign_note("checkpoint\n", signer)
    assert notes.open_note(note, notes.parse_vkey(vkey)) == "checkpoint\n"
    assert cli_main(["evidence", "keygen", "evidence.wenling.example"]) == 0
    assert capsys.readouterr().out.split()[0] != private_text  # a fresh key each time


def test_keygen_refuses_a_name_verifiers_cannot_read(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["evidence", "keygen", "two words"]) == 2
    assert "key name" in capsys.readouterr().err
