"""``python -m config doctor``: the go-live checklist, checked against the real services.

Each check answers in one plain line what is right or what is missing and how to fix it; the command
exits non-zero when any required check fails. Embedded mode skips what a laptop demo does not need
(WeChat credentials, real template ids); production requires everything.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import yaml
from tortoise.exceptions import DBConnectionError

from adapters import memory
from adapters.wechat.client import WeChatApiError, client_from_settings
from config.container import close_database, open_database, open_media, readiness
from config.settings import DEFAULT_SECRET, DEFAULT_WECHAT_TOKEN, REPO_ROOT, ConfigurationError, Settings
from domain.errors import DomainError

TEMPLATES_FILE = REPO_ROOT / "config" / "wechat_templates.yml"
MAX_CLOCK_SKEW_S = 5.0


class Verdict(StrEnum):
    OK = "ok"
    SKIPPED = "skipped"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class Finding:
    check: str
    verdict: Verdict
    detail: str

    def line(self) -> str:
        return f"[{self.verdict.value:>7}] {self.check}: {self.detail}"


def _ok(check: str, detail: str) -> Finding:
    return Finding(check, Verdict.OK, detail)


def _failed(check: str, detail: str) -> Finding:
    return Finding(check, Verdict.FAILED, detail)


def check_secrets(settings: Settings) -> list[Finding]:
    findings: list[Finding] = []
    secret = settings.secret_key.get_secret_value()
    if secret in ("", DEFAULT_SECRET) or len(secret) < 32:
        findings.append(
            _failed("signing key", "SECRET_KEY is the demo default or shorter than 32 characters")
        )
    else:
        findings.append(_ok("signing key", "SECRET_KEY is set"))
    if settings.wechat_token.get_secret_value() in ("", DEFAULT_WECHAT_TOKEN):
        findings.append(
            _failed("webhook token", "WECHAT_TOKEN is the demo default; use the platform's Token")
        )
    else:
        findings.append(_ok("webhook token", "WECHAT_TOKEN is set"))
    aes_key = settings.wechat_aes_key.get_secret_value()
    if aes_key and len(aes_key) != 43:
        findings.append(
            _failed("safe mode", "WECHAT_AES_KEY must be the platform's 43-character EncodingAESKey")
        )
    elif aes_key:
        findings.append(_ok("safe mode", "WECHAT_AES_KEY is set: messages are encrypted"))
    else:
        findings.append(
            _failed("safe mode", "WECHAT_AES_KEY is empty: the platform must use safe mode (安全模式)")
        )
    return findings


async def check_services(settings: Settings) -> list[Finding]:
    """Database, Redis and MQTT through the same checks as /readyz."""
    names = {
        "database": settings.effective_database_url.split("://", 1)[0],
        "redis": "REDIS_URL",
        "mqtt": "MQTT_URL",
    }
    try:
        await open_database(settings)
    except (OSError, ValueError, DBConnectionError) as error:
        return [_failed("database", f"cannot open {names['database']}: {type(error).__name__}: {error}")]
    try:
        results = await readiness(settings)
        findings = [
            _ok(name, "answers")
            if result == "ok"
            else _failed(name, f"{names[name]} does not answer ({result})")
            for name, result in results.items()
        ]
        if results.get("database") == "ok":
            findings.append(await _check_clock())
    finally:
        await close_database()
    if settings.is_production:
        for name, variable in (("redis", "REDIS_URL"), ("mqtt", "MQTT_URL")):
            if name not in results:
                findings.append(_failed(name, f"{variable} is not set (production needs it)"))
    return findings


async def _check_clock() -> Finding:
    from tortoise import connections  # noqa: PLC0415 - only once the database is open

    before = dt.datetime.now(dt.UTC)
    _, rows = await connections.get("default").execute_query("SELECT CURRENT_TIMESTAMP AS now")
    after = dt.datetime.now(dt.UTC)
    server = rows[0]["now"]
    if isinstance(server, str):  # SQLite answers text in UTC
        server = dt.datetime.fromisoformat(server).replace(tzinfo=dt.UTC)
    midpoint = before + (after - before) / 2
    skew_s = abs((server - midpoint).total_seconds())
    if skew_s > MAX_CLOCK_SKEW_S:
        return _failed("clock", f"this machine and the database differ by {skew_s:.1f} s; check NTP")
    return _ok("clock", f"within {MAX_CLOCK_SKEW_S:.0f} s of the database ({skew_s:.2f} s)")


async def check_media(settings: Settings) -> Finding:
    """A probe object written, read back and found, in whichever store the settings choose."""
    where = settings.media_s3_endpoint or str(settings.data_dir / "media")
    probe = b"wenling doctor probe"
    try:
        store, close = await open_media(settings)
        try:
            ref = await store.put(probe, content_type="application/octet-stream")
            if await store.get(ref) != probe or not await store.exists(ref):
                return _failed("media store", f"{where} did not give back what was written")
        finally:
            if close is not None:
                await close()
    except (OSError, DomainError) as error:
        return _failed("media store", f"{where} cannot be written: {type(error).__name__}: {error}")
    except Exception as error:  # S3 clients raise their own kinds (auth, bucket, endpoint): all reported
        return _failed("media store", f"{where} cannot be written: {type(error).__name__}")
    return _ok("media store", f"writes and reads back at {where}")


async def check_wechat(settings: Settings) -> list[Finding]:
    """A real access-token fetch for each configured app (the IP whitelist and secrets are checked
    by the platform itself)."""
    findings: list[Finding] = []
    client = client_from_settings(settings, cache=memory.MemoryCache(), lock=memory.MemoryLock())
    apps = (("official account", settings.wechat_appid, False), ("mini-program", settings.wxa_appid, True))
    for label, appid, mini in apps:
        check = f"WeChat {label}"
        if not appid:
            verdict = Verdict.FAILED if settings.is_production else Verdict.SKIPPED
            findings.append(Finding(check, verdict, "no app id configured"))
            continue
        try:
            await client.access_token(mini=mini)
        except WeChatApiError as error:
            findings.append(_failed(check, f"the platform refused the token request: {error}"))
        except (OSError, TimeoutError) as error:
            findings.append(
                _failed(check, f"{settings.wechat_api_base} cannot be reached: {type(error).__name__}")
            )
        else:
            findings.append(_ok(check, f"access token fetched for {appid}"))
    return findings


def check_templates(settings: Settings, path: Path = TEMPLATES_FILE) -> Finding:
    catalog = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    placeholders = sorted(
        {
            key
            for key, entry in catalog.items()
            for field in ("template_id", "subscribe_template_id")
            if "REPLACE-ME" in str((entry or {}).get(field, ""))
        }
    )
    if not placeholders:
        return _ok("template ids", f"{len(catalog)} templates configured")
    verdict = Verdict.FAILED if settings.is_production else Verdict.SKIPPED
    return Finding("template ids", verdict, f"placeholder ids in {path.name} for: {', '.join(placeholders)}")


async def run_checks(settings: Settings) -> list[Finding]:
    steps: list[Callable[[], Awaitable[list[Finding]]]] = [
        lambda: check_services(settings),
        lambda: check_wechat(settings),
    ]
    findings = [*check_secrets(settings), await check_media(settings), check_templates(settings)]
    try:
        settings.validate_for_production()
    except ConfigurationError as refused:
        findings.append(_failed("production settings", str(refused)))
    for step in steps:
        async with asyncio.timeout(30):
            findings.extend(await step())
    if not settings.is_production:
        # A demo keeps demo secrets on purpose; they are reported, not counted as failures.
        findings = [
            Finding(f.check, Verdict.SKIPPED, f.detail + " (fine for embedded mode)")
            if f.verdict is Verdict.FAILED and f.check in {"signing key", "webhook token", "safe mode"}
            else f
            for f in findings
        ]
    return findings


def doctor(settings: Settings) -> int:
    findings = asyncio.run(run_checks(settings))
    for finding in findings:
        print(finding.line())
    failed = [f for f in findings if f.verdict is Verdict.FAILED]
    passed = len(findings) - len(failed)
    print(f"\n{passed} of {len(findings)} checks passed or were skipped; {len(failed)} failed.")
    return 1 if failed else 0
