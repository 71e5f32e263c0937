"""Settings: embedded defaults, production refusals, and documentation that stays complete."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from config.settings import DEFAULT_SECRET, ConfigurationError, Settings

REPO = Path(__file__).resolve().parents[2]


def test_defaults_are_embedded_mode() -> None:
    settings = Settings(_env_file=None, redis_url=None, mqtt_url=None, database_url="")  # type: ignore[call-arg]
    assert settings.effective_database_url.startswith("sqlite://")
    assert not settings.is_production
    settings.validate_for_production()  # embedded mode accepts the demo defaults


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"database_url": ""}, "DATABASE_URL"),
        ({"redis_url": None}, "REDIS_URL"),
        ({"mqtt_url": None}, "MQTT_URL"),
        ({"secret_key": DEFAULT_SECRET}, "SECRET_KEY"),
        ({"secret_key": "short"}, "SECRET_KEY"),
        ({"wechat_token": "embedded-demo-token"}, "WECHAT_TOKEN"),
        ({"media_s3_endpoint": ""}, "MEDIA_S3_ENDPOINT"),
        ({"evidence_signing_key": ""}, "EVIDENCE_SIGNING_KEY"),
        ({"evidence_hash_salt": "short"}, "EVIDENCE_HASH_SALT"),
    ],
)
def test_production_refuses_unsafe_settings(overrides: dict[str, object], problem: str) -> None:
    good: dict[str, object] = {
        "app_mode": "production",
        "database_url": "postgres://app@db/wenling",
        "redis_url": "redis://cache:6379/0",
        "mqtt_url": "mqtt://broker:1883",
        "secret_key": "x" * 40,
        "wechat_token": "a-real-token",
        "media_s3_endpoint": "http://seaweedfs:8333",
        "evidence_signing_key": "PRIVATE+KEY+log.example+00000000+AA==",
        "evidence_hash_salt": "s" * 40,
    }
    Settings(**good).validate_for_production()  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=problem):
        Settings(**(good | overrides)).validate_for_production()  # type: ignore[arg-type]


def test_every_setting_is_documented() -> None:
    example = (REPO / "config" / "production.env.example").read_text(encoding="utf-8")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, flags=re.MULTILINE))
    for name in Settings.model_fields:
        assert name.upper() in documented, f"{name.upper()} is missing from config/production.env.example"
        assert f"`{name.upper()}`" in readme, f"{name.upper()} is missing from the README's settings table"


def test_generated_documentation_is_current() -> None:
    from config.settings_doc import DESCRIPTIONS, env_example, readme_table  # noqa: PLC0415

    assert set(DESCRIPTIONS) == set(Settings.model_fields), "describe every setting in config/settings_doc.py"
    assert (REPO / "config" / "production.env.example").read_text(encoding="utf-8") == env_example(), (
        "run `python -m config.settings_doc`"
    )
    assert readme_table() in (REPO / "README.md").read_text(encoding="utf-8"), (
        "run `python -m config.settings_doc`"
    )


def test_production_accepts_local_media_only_when_allowed_explicitly() -> None:
    single_host: dict[str, object] = {
        "app_mode": "production",
        "database_url": "postgres://app@db/wenling",
        "redis_url": "redis://cache:6379/0",
        "mqtt_url": "mqtt://broker:1883",
        "secret_key": "x" * 40,
        "wechat_token": "a-real-token",
        "evidence_signing_key": "PRIVATE+KEY+log.example+00000000+AA==",
        "evidence_hash_salt": "s" * 40,
        "media_allow_local_in_production": True,
    }
    Settings(**single_host).validate_for_production()  # type: ignore[arg-type]
