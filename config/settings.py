"""The one settings object, read from the environment once in ``main()``.

Defaults are embedded mode: SQLite, in-process bus and cache, no WeChat credentials. Production mode
refuses to start on SQLite, without Redis, or with a default secret (see ``validate_for_production``).
Adapters never read the environment: the composition root hands them plain values from here.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SECRET = "embedded-demo-secret-change-me"  # noqa: S105 - the marker production refuses
DEFAULT_WECHAT_TOKEN = "embedded-demo-token"  # noqa: S105
REPO_ROOT = Path(__file__).resolve().parent.parent


class AppMode(StrEnum):
    EMBEDDED = "embedded"
    PRODUCTION = "production"


class NluBackend(StrEnum):
    EMBEDDED = "embedded"
    RASA = "rasa"


class ConfigurationError(RuntimeError):
    """Raised when settings are unsafe or inconsistent for the chosen mode."""


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    """Every variable is listed with its default in ``config/production.env.example``."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    # --- process -------------------------------------------------------------------------------
    app_mode: AppMode = AppMode.EMBEDDED
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    log_level: str = "INFO"
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET)
    data_dir: Path = REPO_ROOT / "var"
    seed_demo_data: bool = True
    project_read_model_ttl_s: float = Field(default=30.0, ge=0)  # 0: public search always asks the database
    run_embedded_workers: bool = True  # start the bridge, dispatcher and other workers in the API process

    # --- storage and messaging -----------------------------------------------------------------
    database_url: str = ""  # empty means the embedded SQLite file under data_dir
    redis_url: str | None = None
    redis_key_prefix: str = "wl:"
    mqtt_url: str | None = None  # empty in embedded mode means the embedded broker below
    embedded_mqtt_port: int = Field(default=11883, ge=1, le=65535)
    media_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    media_max_pixels: int = Field(default=40_000_000, ge=10_000)

    # --- WeChat official account and mini-program ----------------------------------------------
    wechat_token: SecretStr = SecretStr(DEFAULT_WECHAT_TOKEN)
    wechat_appid: str = ""
    wechat_secret: SecretStr = SecretStr("")
    wechat_aes_key: SecretStr = SecretStr("")
    wechat_aes_key_previous: SecretStr = SecretStr("")
    wechat_api_base: str = "https://api.weixin.qq.com"
    wechat_timeout_s: float = Field(default=5.0, gt=0, le=30)
    wechat_reply_budget_s: float = Field(default=4.0, gt=0, le=4.8)
    wechat_max_clock_skew_s: int = Field(default=300, ge=1)
    wxa_appid: str = ""
    wxa_secret: SecretStr = SecretStr("")
    admin_alert_openids: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # --- NLU -------------------------------------------------------------------------------------
    nlu_backend: NluBackend = NluBackend.EMBEDDED
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: SecretStr = SecretStr("")
    rasa_timeout_s: float = Field(default=2.0, gt=0, le=30)
    nlu_fallback_threshold: float = Field(default=0.45, ge=0, le=1)

    # --- workers ---------------------------------------------------------------------------------
    iot_hj212_port: int = Field(default=9212, ge=0, le=65535)
    iot_shared_group: str = ""  # non-empty: subscribe through $share/<group>/...
    iot_client_id: str = Field(default="", max_length=64, pattern=r"^[A-Za-z0-9_.-]*$")
    vision_model_path: Path = REPO_ROOT.parent / "shared" / "models" / "hardhat.onnx"
    vision_intra_op_threads: int = Field(default=1, ge=1, le=64)
    # The model's classes in output order, comma-separated; a city's own model brings its own.
    vision_class_names: str = "head,helmet,person"
    vision_ignore_classes: str = "person"
    vision_score_threshold: float = Field(default=0.35, gt=0, lt=1)
    outbox_poll_interval_s: float = Field(default=1.0, gt=0)
    alert_escalation_minutes: int = Field(default=15, ge=1)
    open311_api_keys: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # How long Sanic's manager waits for every API worker (WORKERS>1) to report started before it
    # gives up on all of them; a worker imports the app and warms its NLU engine first.
    worker_startup_timeout_s: float = Field(default=120.0, ge=10, le=900)
    # The event relay (domain events from the event-outbox table to the bus): its idle poll, batch
    # size, leader lease, and how long published events stay in the table.
    event_relay_poll_s: float = Field(default=0.2, gt=0, le=10)
    event_relay_batch: int = Field(default=200, ge=1, le=5000)
    event_relay_lease_s: float = Field(default=10.0, ge=1, le=300)
    event_outbox_retention_days: int = Field(default=7, ge=1, le=365)
    # Media (photos, evidence snapshots, approval materials): an S3-compatible object store when
    # MEDIA_S3_ENDPOINT is set (SeaweedFS, MinIO, a cloud OSS), else the local disk under DATA_DIR.
    media_s3_endpoint: str = ""  # e.g. http://seaweedfs:8333
    media_s3_bucket: str = "wenling-media"
    media_s3_access_key: SecretStr = SecretStr("")
    media_s3_secret_key: SecretStr = SecretStr("")
    media_s3_region: str = "us-east-1"
    media_s3_prefix: str = "media/"
    # Production keeps media in the object store, shared by every host; local disk only on one host.
    media_allow_local_in_production: bool = False
    outbox_retry_horizon_s: float = Field(
        default=86_400.0,
        ge=60,
        description="how long a notification is retried after its first transient WeChat failure",
    )
    outbox_backoff_cap_s: float = Field(
        default=600.0, ge=1, description="longest wait between two retries of one notification"
    )
    wechat_account_id: str = Field(
        default="",
        max_length=64,
        description="the official account's original id (gh_...): callbacks to another ToUserName are "
        "refused; empty accepts any",
    )
    sms_provider: str = Field(
        default="recording",
        pattern=r"^(recording|aliyun)$",
        description="recording (embedded: kept and logged) or aliyun (Aliyun SMS SendSms)",
    )
    sms_aliyun_access_key_id: str = Field(default="", description="Aliyun AccessKeyId for SendSms")
    sms_aliyun_access_key_secret: SecretStr = Field(
        default=SecretStr(""), description="Aliyun AccessKey secret for SendSms"
    )
    sms_aliyun_endpoint: str = Field(
        default="https://dysmsapi.aliyuncs.com", description="Aliyun SMS API endpoint (tests: a stub)"
    )
    sms_sign_name: str = Field(default="", description="the approved SMS signature (签名), e.g. 温岭住建")
    sms_escalation_template_code: str = Field(
        default="", description="SMS template code (SMS_...) for escalations, variables site and alarm"
    )
    sms_timeout_s: float = Field(default=5.0, gt=0, le=30, description="SMS provider request timeout")
    escalation_delivery_deadline_s: float = Field(
        default=600.0,
        ge=30,
        description="an escalation not delivered by WeChat within this time alerts the admins and "
        "goes out by SMS",
    )
    # --- evidence log (区块链存证: a signed, append-only Merkle log) ------------------------------
    # A C2SP/Go-note private key "PRIVATE+KEY+<name>+<keyid>+<base64>"; empty in embedded mode
    # derives a development key from SECRET_KEY, production refuses to start without one.
    evidence_signing_key: SecretStr = SecretStr("")
    evidence_origin: str = ""  # the checkpoint's origin line; empty means the signing key's name
    evidence_hash_salt: SecretStr = SecretStr("")  # HMAC salt for openids/phones in leaves
    evidence_batch_size: int = Field(default=256, ge=1, le=10_000)  # leaves sequenced per pass
    evidence_sequence_interval_s: float = Field(default=1.0, gt=0)
    evidence_checkpoint_interval_s: float = Field(default=10.0, gt=0)  # an entry's wait for a checkpoint
    evidence_monitor_interval_s: float = Field(default=60.0, gt=0)
    iot_hj212_host: str = ""  # empty: HOST; production sets the address the site networks reach
    iot_hj212_max_connections: int = Field(default=5000, ge=1)
    iot_hj212_max_per_source: int = Field(default=50, ge=1)  # connections from one IP address
    iot_hj212_first_frame_timeout_s: float = Field(default=30.0, gt=0)  # until a stored frame, then 600 s
    iot_raw_frame_retention_days: int = Field(default=30, ge=1)  # raw HJ 212 frames (whole days dropped)
    # Cameras one vision worker may own; above it the rest wait for more workers (health shows it).
    vision_max_cameras_per_worker: int = Field(default=64, ge=1, le=100_000)
    # One batched inference service per worker: up to N frames or T ms per session.run.
    vision_batch_size: int = Field(default=8, ge=1, le=256)
    vision_batch_wait_ms: float = Field(default=20.0, ge=0, le=1000)
    # Comma-separated onnxruntime providers, best first; empty: TensorRT/CUDA/OpenVINO if present, else CPU.
    vision_execution_providers: str = ""
    # The model registry (vision_worker/registry.py); empty: DATA_DIR/models. Its current version, if
    # any, replaces VISION_MODEL_PATH; its shadow version runs beside it on this fraction of the
    # inferred frames (each one costs a second inference), never alarming.
    vision_model_registry_dir: Path | None = None
    vision_shadow_sample_fraction: float = Field(default=1.0, ge=0, le=1)
    # --- staff console (/console) and public pages (/p/...) ---------------------------------------
    # Secure cookies even when TLS ends at a proxy that does not forward the scheme.
    console_cookie_secure: bool = False
    console_session_ttl_s: int = Field(default=8 * 3600, ge=60)  # idle sessions end after this
    console_login_max_failures: int = Field(default=5, ge=1)  # wrong passwords before the lockout
    console_lockout_s: int = Field(default=900, ge=1)  # how long a locked username stays locked
    # The city's own tile server, e.g. https://tiles.gov.example/{z}/{x}/{y}.png; empty: the vector
    # fallback map shipped with the project (town outlines and roads), which needs no network.
    console_map_tile_url: str = ""
    # The public project page draws daily noise against this daytime limit (GB 12523-2011: 70 dB(A)).
    console_public_noise_day_limit_db: float = Field(default=70.0, gt=0)
    # Rendered public project pages are kept this long per worker (0: rendered at every visit).
    console_public_page_ttl_s: float = Field(default=30.0, ge=0)

    @field_validator("admin_alert_openids", "open311_api_keys", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return _split_csv(value)

    @property
    def is_production(self) -> bool:
        return self.app_mode is AppMode.PRODUCTION

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite://{self.data_dir / 'wenling.sqlite3'}"

    @property
    def wechat_configured(self) -> bool:
        """True when outbound WeChat calls can really be made (otherwise the outbox only records)."""
        return bool(self.wechat_appid and self.wechat_secret.get_secret_value())

    def validate_for_production(self) -> None:
        """Refuse settings that are only acceptable for a laptop demo."""
        if not self.is_production:
            return
        problems: list[str] = []
        if self.effective_database_url.startswith("sqlite"):
            problems.append("DATABASE_URL must point at PostgreSQL, not SQLite")
        if not self.redis_url:
            problems.append("REDIS_URL is required")
        if not self.mqtt_url:
            problems.append("MQTT_URL is required")
        if (
            self.secret_key.get_secret_value() in ("", DEFAULT_SECRET)
            or len(self.secret_key.get_secret_value()) < 32
        ):
            problems.append("SECRET_KEY must be set to a random value of at least 32 characters")
        if self.wechat_token.get_secret_value() in ("", DEFAULT_WECHAT_TOKEN):
            problems.append("WECHAT_TOKEN must be set to the token configured on the WeChat platform")
        if not self.media_s3_endpoint and not self.media_allow_local_in_production:
            problems.append(
                "MEDIA_S3_ENDPOINT must point at the object store: API processes and vision workers on "
                "other hosts cannot see one machine's disk (MEDIA_ALLOW_LOCAL_IN_PRODUCTION=true only "
                "when every process runs on a single host)"
            )
        if not self.evidence_signing_key.get_secret_value():
            problems.append("EVIDENCE_SIGNING_KEY must hold the evidence log's Ed25519 private key")
        if len(self.evidence_hash_salt.get_secret_value()) < 32:
            problems.append("EVIDENCE_HASH_SALT must be set to a random value of at least 32 characters")
        if problems:
            raise ConfigurationError("; ".join(problems))


def load_settings() -> Settings:
    """Read the environment once; called only by the composition root's ``main()``."""
    settings = Settings()
    settings.validate_for_production()
    return settings
