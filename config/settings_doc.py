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
    "vision_model_registry_dir": (
        "the model registry (versions, metrics, shadow, current); its current version replaces "
        "VISION_MODEL_PATH; empty: DATA_DIR/models"
    ),
    "vision_shadow_sample_fraction": (
        "share of inferred frames the registry's shadow model also runs on (each costs a second "
        "inference; 0 = shadow off)"
    ),
    "outbox_poll_interval_s": "how often the outbox dispatcher looks for due messages",
    "alert_escalation_minutes": "a major alarm unacknowledged this long escalates to duty staff",
    "open311_api_keys": "comma-separated API keys allowed to POST Open311 requests",
    "outbox_retry_horizon_s": "how long a notification is retried after its first transient WeChat failure",
    "outbox_backoff_cap_s": "longest wait between two retries of one notification",
    "wechat_account_id": "the official account's original id (gh_...); callbacks for another ToUserName "
    "are refused (empty: any)",
    "sms_provider": "recording (embedded: kept and logged) or aliyun (Aliyun SMS SendSms)",
    "sms_aliyun_access_key_id": "Aliyun AccessKeyId for SendSms",
    "sms_aliyun_access_key_secret": "Aliyun AccessKey secret for SendSms",
    "sms_aliyun_endpoint": "Aliyun SMS API endpoint",
    "sms_sign_name": "the approved SMS signature (签名)",
    "sms_escalation_template_code": "SMS template code (SMS_...) for escalations, variables site and alarm",
    "sms_timeout_s": "SMS provider request timeout in seconds",
    "escalation_delivery_deadline_s": "an escalation WeChat has not delivered within this time alerts the "
    "admins and goes out by SMS",
    "console_cookie_secure": "mark console cookies Secure even when the proxy does not say https",
    "console_session_ttl_s": "console sessions end after this long without use",
    "console_login_max_failures": "wrong console passwords before a username is locked",
    "console_lockout_s": "how long a locked console username stays locked",
    "console_map_tile_url": "the city's own map tile server ({z}/{x}/{y}); empty: the shipped vector map",
    "console_public_noise_day_limit_db": "daytime noise limit drawn on the public project page, dB(A)",
    "console_public_page_ttl_s": "seconds a rendered public project page is kept per worker (0: never kept)",
    "worker_startup_timeout_s": "how long Sanic waits for every API worker (WORKERS>1) to report started",
    "event_relay_poll_s": "how often the event relay looks for committed domain events when idle",
    "event_relay_batch": "domain events the relay publishes per pass",
    "event_relay_lease_s": "the event relay's leader lease (a dead leader is replaced after this)",
    "event_outbox_retention_days": "how long published domain events stay in the event-outbox table",
    "media_s3_endpoint": "S3-compatible object store for media (SeaweedFS, MinIO, an OSS); empty: local disk",
    "media_s3_bucket": "the object store's bucket for media",
    "media_s3_access_key": "the object store's access key",
    "media_s3_secret_key": "the object store's secret key",
    "media_s3_region": "the object store's region (SeaweedFS and MinIO accept any)",
    "media_s3_prefix": "key prefix of media objects in the bucket",
    "media_allow_local_in_production": "allow media on local disk in production (one API host only)",
    "evidence_signing_key": "the evidence log's Ed25519 key, `PRIVATE+KEY+<name>+<keyid>+<base64>` "
    "(required in production; embedded mode derives a development key)",
    "evidence_origin": "the evidence checkpoints' origin line (empty: the signing key's name)",
    "evidence_hash_salt": "secret HMAC salt for openids and phones in evidence leaves (32+ characters)",
    "evidence_batch_size": "leaves the evidence log sequences per transaction",
    "evidence_sequence_interval_s": "how often the evidence log sequences waiting leaves",
    "evidence_checkpoint_interval_s": "how often the evidence log signs a checkpoint (if it grew)",
    "evidence_monitor_interval_s": "how often the evidence monitor checks the latest checkpoint",
    "iot_hj212_host": "address the HJ 212 listener binds (empty = `HOST`); the one the site networks reach",
    "iot_hj212_max_connections": (
        "HJ 212 connections in all; when full, the oldest one without a stored frame yields"
    ),
    "iot_hj212_max_per_source": "HJ 212 connections from one IP address",
    "iot_raw_frame_retention_days": "days of raw HJ 212 frames (stored and quarantined) kept",
    "iot_hj212_first_frame_timeout_s": (
        "an HJ 212 connection without a stored frame is closed after this long"
    ),
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
    "sms_aliyun_access_key_secret",
    "evidence_signing_key",
    "evidence_hash_salt",
    "media_s3_access_key",
    "media_s3_secret_key",
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
    "media_s3_endpoint": "http://seaweedfs.internal:8333",
    "console_cookie_secure": "true",
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
