"""What each setting means, for ``config/production.env.example`` and the README's settings table.

``python -m config.settings_doc`` rewrites both from ``Settings`` so the documentation cannot drift;
``tests/unit/test_settings.py`` fails when a setting has no description here.
"""

from __future__ import annotations

import re
import sys

from config.settings import REPO_ROOT, Settings

DESCRIPTIONS: dict[str, str] = {
    "app_mode": "`embedded` (demo: SQLite, in-process ports) or `production` (refuses unsafe settings)",
    "host": "address the API listens on",
    "port": "port the API listens on",
    "workers": "Sanic worker processes of the API",
    "log_level": "Python logging level",
    "secret_key": (
        "signs bearer tokens and camera keys, and seals the data-exchange secrets (rotating it re-keys "
        "partners and webhook subscribers); production needs 32+ random characters"
    ),
    "data_dir": "SQLite file, media store, demo passwords and NLU model cache",
    "seed_demo_data": "`make run` loads the Wenling demo data (embedded mode only)",
    "project_read_model_ttl_s": "seconds the in-process project search may be stale; 0 = always the database",
    "run_embedded_workers": "start the bridge, dispatcher and other workers inside the API process",
    "database_url": "PostgreSQL URL (`postgres://user:pass@host:5432/db`); empty = SQLite under DATA_DIR",
    "redis_url": "Redis URL for the bus, dedup, locks, cache and geo index; empty = in-process",
    "redis_key_prefix": "prefix of every Redis key (several deployments may share one Redis)",
    "mqtt_url": "MQTT broker (`mqtt://user:pass@host:1883`); empty in embedded mode = the embedded broker",
    "embedded_mqtt_port": "port of the embedded MQTT broker (embedded mode only)",
    "media_max_bytes": "largest accepted upload (photos, materials)",
    "media_max_pixels": "largest accepted image, in pixels, checked before decoding",
    "wechat_token": "official-account callback token (the platform's Token)",
    "wechat_appid": "official-account AppID",
    "wechat_secret": "official-account AppSecret; empty = outbound messages are recorded, not sent",
    "wechat_aes_key": "EncodingAESKey (43 characters); set = safe mode",
    "wechat_aes_key_previous": "the previous EncodingAESKey, accepted while keys rotate",
    "wechat_api_base": "WeChat API base URL (tests point it at the local stub)",
    "wechat_timeout_s": "timeout of every WeChat API call",
    "wechat_reply_budget_s": "answer inline when ready within this; otherwise `success` and push",
    "wechat_max_clock_skew_s": "callback timestamps further off than this are rejected",
    "wxa_appid": "mini-program AppID",
    "wxa_secret": "mini-program AppSecret (jscode2session)",
    "admin_alert_openids": "comma-separated openids told about delivery failures and emergencies",
    "nlu_backend": "`embedded` (in process) or `rasa` (a Rasa server, falling back to embedded)",
    "rasa_url": "Rasa server URL",
    "rasa_token": "Rasa `--auth-token`",
    "rasa_timeout_s": "timeout of a Rasa parse before falling back",
    "nlu_fallback_threshold": "below this intent confidence the result is `nlu_fallback`",
    "iot_hj212_port": "TCP port of the HJ 212 listener (dust monitors dial in)",
    "iot_shared_group": "MQTT shared-subscription group (`$share/<group>/…`) for several bridges",
    "iot_client_id": (
        "MQTT client id of this bridge process; a stable one (e.g. the pod name) lets a restarted bridge "
        "resume its session and receive what it had not acknowledged; empty = random per start"
    ),
    "vision_model_path": "ONNX hard-hat model",
    "vision_intra_op_threads": "onnxruntime intra-op threads per inference process",
    "vision_class_names": "comma-separated class names of the model's outputs, in order",
    "vision_ignore_classes": "comma-separated classes to drop (e.g. an untrained `person`)",
    "vision_score_threshold": "minimum detection score",
    "vision_max_cameras_per_worker": "cameras one vision worker may own (the rest wait for more workers)",
    "vision_batch_size": "frames per batched inference (a batch-1 model runs them one by one)",
    "vision_batch_wait_ms": "longest a frame waits for others to fill a batch",
    "vision_execution_providers": "onnxruntime providers, best first; empty: best available, else CPU",
    "outbox_poll_interval_s": "how often the outbox dispatcher looks for due messages",
    "alert_escalation_minutes": "a major alarm unacknowledged this long escalates to duty staff",
    "open311_api_keys": "comma-separated API keys allowed to POST Open311 requests",
}

SECRETS = {
    "secret_key",
    "wechat_token",
    "wechat_secret",
    "wechat_aes_key",
    "wechat_aes_key_previous",
    "wxa_secret",
    "rasa_token",
    "open311_api_keys",
}
PRODUCTION_VALUES = {
    "app_mode": "production",
    "host": "0.0.0.0",  # noqa: S104 - behind the reverse proxy
    "database_url": "postgres://wenling:CHANGE_ME@db.internal:5432/wenling",
    "redis_url": "redis://redis.internal:6379/0",
    "mqtt_url": "mqtt://bridge:CHANGE_ME@mqtt.internal:1883",
    "seed_demo_data": "false",
    "run_embedded_workers": "false",
    "data_dir": "/var/lib/wenling",
    "vision_model_path": "/opt/wenling/models/hardhat.onnx",
}


def _default(name: str) -> str:
    field = Settings.model_fields[name]
    value = field.default_factory() if field.default_factory is not None else field.default  # type: ignore[call-arg]
    if name in SECRETS:
        return ""
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    if value is None:
        return ""
    text = str(getattr(value, "value", value))
    # Paths are written relative to the checkout so the generated files do not depend on where it lies.
    text = text.replace(str(REPO_ROOT.parent / "shared"), "<repo>/../shared")
    return text.replace(str(REPO_ROOT), "<repo>")


def env_example() -> str:
    lines = [
        "# Every setting of the backend, as environment variables (config/settings.py).",
        "# Generated by `python -m config.settings_doc`; values shown are for production.",
        "# Secrets are blank here on purpose: fill them from your secret store, never commit them.",
        "",
    ]
    for name in Settings.model_fields:
        lines.append(f"# {DESCRIPTIONS[name]} (default: {_default(name) or 'empty'})")
        lines.append(
            f"{name.upper()}={PRODUCTION_VALUES.get(name, '' if name in SECRETS else _default(name))}"
        )
    return "\n".join(lines) + "\n"


def readme_table() -> str:
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name in Settings.model_fields:
        default = _default(name) or "(empty)"
        rows.append(f"| `{name.upper()}` | `{default}` | {DESCRIPTIONS[name]} |")
    return "\n".join(rows)


def main() -> int:
    (REPO_ROOT / "config" / "production.env.example").write_text(env_example(), encoding="utf-8")
    readme = REPO_ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    begin, end = "<!-- settings:begin -->", "<!-- settings:end -->"
    block = f"{begin}\n{readme_table()}\n{end}"
    if begin in text:
        text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _m: block, text, flags=re.DOTALL)
    else:
        text = text.replace("SETTINGS_TABLE", block)
    readme.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
