"""Mosquitto password hashes and ACLs, checked against mosquitto_passwd's own format."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import pytest

from domain.projects.device_credentials_rules import DeviceLogin, acl_file, mosquitto_hash, new_password


def test_hash_has_mosquittos_pbkdf2_layout_and_is_salted() -> None:
    hashed = mosquitto_hash("secret123")
    _, scheme, iterations, salt, digest = hashed.split("$")
    assert (scheme, iterations) == ("7", "101")
    assert len(base64.b64decode(salt)) == 12 and len(base64.b64decode(digest)) == 64
    assert mosquitto_hash("secret123") != hashed


def test_our_hash_matches_mosquitto_passwd_for_the_same_salt(tmp_path: Path) -> None:
    tool = shutil.which("mosquitto_passwd")
    if tool is None:
        pytest.skip("mosquitto_passwd is not installed")
    password_file = tmp_path / "passwd"
    password_file.write_text("")
    subprocess.run([tool, "-b", str(password_file), "dev1", "secret123"], check=True)
    theirs = password_file.read_text().strip().split(":", 1)[1]
    salt = base64.b64decode(theirs.split("$")[3])
    assert mosquitto_hash("secret123", salt=salt) == theirs


def test_each_device_may_write_only_its_own_topic() -> None:
    login = DeviceLogin("dev-1", "$7$x", site_code="S0001", device_type="dust", device_code="D1")
    acl = acl_file([login], bridge_username="bridge")
    assert "user bridge\ntopic read wenling/#" in acl
    assert "user dev-1\ntopic write wenling/S0001/dust/D1/#" in acl
    assert len(new_password()) == 24 and new_password() != new_password()
