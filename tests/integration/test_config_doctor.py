"""``python -m config doctor`` passes on working services and names each thing that is missing."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from config.doctor import Verdict, check_templates, run_checks
from config.evidence_cli import new_signing_key
from tests.conftest import make_settings
from tests.live_server import free_port
from tests.wechat_stub.plugin import stub_settings
from tests.wechat_stub.server import WeChatStub

GOOD_SECRETS = {
    "secret_key": "k" * 40,
    "wechat_token": "platform-token-123",
    "wechat_aes_key": "a" * 43,
    "evidence_signing_key": new_signing_key("evidence.test").private_key_text,
    "evidence_hash_salt": "s" * 32,
}


def production_settings(tmp_path: Path, stub: WeChatStub, **overrides: Any) -> Any:
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    mqtt_url = os.environ.get("MQTT_URL", "")
    if not (database_url and redis_url and mqtt_url):
        pytest.skip("DATABASE_URL, REDIS_URL and MQTT_URL are needed for the production doctor run")
    s3 = os.environ.get("MEDIA_S3_ENDPOINT", "")
    media: dict[str, Any] = {"media_allow_local_in_production": True}
    if s3:  # CI runs SeaweedFS: the doctor writes its probe there, as in production
        media = {
            "media_s3_endpoint": s3,
            "media_s3_access_key": os.environ.get("MEDIA_S3_ACCESS_KEY", ""),
            "media_s3_secret_key": os.environ.get("MEDIA_S3_SECRET_KEY", ""),
        }
    values = {
        **media,
        "app_mode": "production",
        "database_url": database_url,
        "redis_url": redis_url,
        "mqtt_url": mqtt_url,
        **GOOD_SECRETS,
        **stub_settings(stub),
    }
    return make_settings(tmp_path, **(values | overrides))


def by_check(findings: list[Any]) -> dict[str, Any]:
    return {finding.check: finding for finding in findings}


async def test_production_checks_pass_on_the_real_services(tmp_path: Path, wechat_stub: WeChatStub) -> None:
    findings = await run_checks(production_settings(tmp_path, wechat_stub))
    failed = [f.line() for f in findings if f.verdict is Verdict.FAILED]
    # The shipped template catalogue holds placeholders until a city enters its own ids.
    assert failed == [next(f.line() for f in findings if f.check == "template ids")]
    checks = by_check(findings)
    for name in (
        "database",
        "redis",
        "mqtt",
        "clock",
        "media store",
        "WeChat official account",
        "WeChat mini-program",
    ):
        assert checks[name].verdict is Verdict.OK, checks[name].line()


async def test_each_missing_thing_gets_its_own_readable_line(tmp_path: Path, wechat_stub: WeChatStub) -> None:
    dead = f"127.0.0.1:{free_port()}"
    settings = production_settings(
        tmp_path,
        wechat_stub,
        redis_url=f"redis://{dead}/0",
        mqtt_url=f"mqtt://{dead}",
        wechat_secret="wrong-secret",
        secret_key="short",
        wechat_aes_key="",
    )
    checks = by_check(await run_checks(settings))
    assert "REDIS_URL does not answer" in checks["redis"].line()
    assert "MQTT_URL does not answer" in checks["mqtt"].line()
    assert "refused the token request" in checks["WeChat official account"].line()
    assert "SECRET_KEY" in checks["signing key"].line()
    assert "safe mode" in checks["safe mode"].line()
    for name in (
        "redis",
        "mqtt",
        "WeChat official account",
        "signing key",
        "safe mode",
        "production settings",
    ):
        assert checks[name].verdict is Verdict.FAILED, name
    assert checks["database"].verdict is Verdict.OK


def test_real_template_ids_pass(tmp_path: Path) -> None:
    catalog = tmp_path / "templates.yml"
    catalog.write_text('alarm:\n  template_id: "abcDEF123"\n  subscribe_template_id: ""\n', encoding="utf-8")
    settings = make_settings(tmp_path, app_mode="embedded")
    assert check_templates(settings, catalog).verdict is Verdict.OK


async def test_a_database_that_does_not_answer_is_reported_not_raised(
    tmp_path: Path, wechat_stub: WeChatStub
) -> None:
    settings = production_settings(
        tmp_path, wechat_stub, database_url=f"postgres://postgres@127.0.0.1:{free_port()}/nowhere"
    )
    checks = by_check(await run_checks(settings))
    assert checks["database"].verdict is Verdict.FAILED
    assert "does not answer" in checks["database"].line() or "cannot open" in checks["database"].line()
    assert "clock" not in checks
