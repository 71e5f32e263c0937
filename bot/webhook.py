"""``GET|POST /wechat/callback``: the official account's server URL.

GET answers WeChat's URL verification with ``echostr``. POST checks the timestamp (±
``wechat_max_clock_skew_s``), the signature (constant time), refuses a replayed nonce and bodies over
64 KB, refuses plaintext bodies when safe mode is configured, decrypts safe-mode messages, checks
``ToUserName`` against ``WECHAT_ACCOUNT_ID`` when it is set, then hands the message to the responder
(dedup, deadline). Anything refused gets a 4xx and a log line with the reason; nothing a client sends
causes a 5xx.
"""

from __future__ import annotations

import hmac
import logging
import time
from dataclasses import dataclass
from typing import Any, Protocol

from sanic import Blueprint, Request, Sanic
from sanic.response import HTTPResponse, text
from sanic_ext import openapi

from adapters.infrastructure import Infrastructure
from adapters.media_store import MediaStore
from adapters.wechat.client import WeChatClient
from bot.crypto import CallbackCrypto, Rejected, check_timestamp
from bot.dialogue import BotDeps, DialogueEngine, IntentTable, load_dialogues
from bot.handling import MessageHandler
from bot.inbound import MAX_BODY_BYTES, parse_fields, to_message
from bot.keyword_nlu import KeywordNlu
from bot.replies import SUCCESS, render_text_reply
from bot.responder import Responder
from config.settings import Settings
from domain.approvals.access import ApprovalsEnv
from nlu.interface import NluEngine

log = logging.getLogger(__name__)

wechat = Blueprint("wechat_callback", url_prefix="/wechat")

MAX_ARG_CHARS = 128


class BotRuntime(Protocol):
    """What the bot takes from ``config.container.Runtime`` (doors sit below the composition root)."""

    infra: Infrastructure
    media: MediaStore
    wechat: WeChatClient
    approvals: ApprovalsEnv


@dataclass(slots=True)
class WeChatBot:
    settings: Settings
    infra: Infrastructure
    crypto: CallbackCrypto
    responder: Responder


def build_bot(app: Sanic[Any, Any], *, table: IntentTable | None = None) -> WeChatBot:
    settings: Settings = app.ctx.settings
    runtime: BotRuntime = app.ctx.runtime
    infra = runtime.infra
    nlu: NluEngine | None = getattr(app.ctx, "nlu", None)
    deps = BotDeps(
        settings=settings,
        infra=infra,
        nlu=nlu or KeywordNlu(),
        media=runtime.media,
        wechat=runtime.wechat if settings.wechat_configured else None,
        approvals=runtime.approvals,
        hooks=app.ctx.bot_hooks,
    )
    engine = DialogueEngine(deps, table or load_dialogues())
    crypto = CallbackCrypto(
        token=settings.wechat_token.get_secret_value(),
        appid=settings.wechat_appid,
        aes_key=settings.wechat_aes_key.get_secret_value(),
        previous_aes_key=settings.wechat_aes_key_previous.get_secret_value(),
    )
    responder = Responder(MessageHandler(engine), budget_s=settings.wechat_reply_budget_s)
    return WeChatBot(settings=settings, infra=infra, crypto=crypto, responder=responder)


def bot_of(app: Sanic[Any, Any]) -> WeChatBot:
    """Built on first use, after the runtime (ports, NLU, WeChat client) is on ``app.ctx``; rebuilt
    when the runtime is reopened (Sanic's test client restarts it per request). The intent table is
    kept, so dialogues registered at run time stay."""
    bot: WeChatBot | None = getattr(app.ctx, "wechat_bot", None)
    if bot is None or bot.infra is not app.ctx.infra:
        table = bot.responder.handler.engine.table if bot is not None else None
        bot = build_bot(app, table=table)
        app.ctx.wechat_bot = bot
    return bot


@wechat.before_server_stop
async def drain_pushes(app: Sanic[Any, Any]) -> None:
    bot: WeChatBot | None = getattr(app.ctx, "wechat_bot", None)
    if bot is not None:
        await bot.responder.drain()


def _arg(request: Request, name: str) -> str:
    value = request.args.get(name, "")
    if not isinstance(value, str) or not value or len(value) > MAX_ARG_CHARS:
        raise Rejected(400, f"missing_{name}")
    return value


def _authenticate(bot: WeChatBot, request: Request) -> tuple[str, str]:
    timestamp, nonce = _arg(request, "timestamp"), _arg(request, "nonce")
    check_timestamp(timestamp, now_s=time.time(), max_skew_s=bot.settings.wechat_max_clock_skew_s)
    bot.crypto.check_signature(_arg(request, "signature"), timestamp=timestamp, nonce=nonce)
    return timestamp, nonce


def _refused(rejection: Rejected, request: Request) -> HTTPResponse:
    log.warning(
        "wechat callback refused: %s (%s %s from %s)",
        rejection.reason,
        request.method,
        request.path,
        request.ip,
    )
    return text(rejection.reason, status=rejection.status)


@wechat.get("/callback")
@openapi.summary("WeChat server URL verification (answers echostr)")
@openapi.parameter("signature", str, "query", required=True)
@openapi.parameter("timestamp", str, "query", required=True)
@openapi.parameter("nonce", str, "query", required=True)
@openapi.parameter("echostr", str, "query", required=True)
@openapi.response(200, {"text/plain": str}, "the echostr, verbatim")
@openapi.response(400, {"text/plain": str}, "missing or malformed parameter")
@openapi.response(403, {"text/plain": str}, "bad signature or stale timestamp")
async def verify(request: Request) -> HTTPResponse:
    try:
        _authenticate(bot_of(request.app), request)
        return text(_arg(request, "echostr"))
    except Rejected as rejection:
        return _refused(rejection, request)


async def _read_capped(request: Request) -> bytes:
    """Read at most 64 KB: a bigger body is refused without being buffered."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise Rejected(413, "body_too_large")
    chunks: list[bytes] = []
    size = 0
    while (chunk := await request.stream.read()) is not None:  # type: ignore[union-attr]
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise Rejected(413, "body_too_large")
        chunks.append(chunk)
    return b"".join(chunks)


async def _check_replay(bot: WeChatBot, *, timestamp: str, nonce: str, dedup_key: str) -> None:
    """A nonce is good for one message. WeChat's retries of that message may carry it again; a
    different message under a seen nonce is a replay (in plaintext mode the body is not signed)."""
    ttl_s = 2 * bot.settings.wechat_max_clock_skew_s + 60
    key = f"wx:nonce:{timestamp}:{nonce}"
    # The nonce is leased to the message for its lifetime: claiming it and binding it to the message
    # is one round trip (SET NX with the message's key as owner); only a seen nonce needs a second.
    if await bot.infra.lock.acquire(key, dedup_key, ttl_s):
        return
    bound = await bot.infra.lock.owner(key)
    if bound is not None and bound != dedup_key:
        raise Rejected(403, "replayed_nonce")


def _check_account(bot: WeChatBot, to_user: str) -> None:
    """A message for another official account (a misrouted or replayed body) is not ours to answer.

    With ``WECHAT_ACCOUNT_ID`` unset any ToUserName is accepted (see docs/notifications.md)."""
    expected = bot.settings.wechat_account_id
    if expected and not hmac.compare_digest(to_user.encode(), expected.encode()):
        raise Rejected(403, "wrong_account")


async def _receive(bot: WeChatBot, request: Request, started: float) -> HTTPResponse:
    timestamp, nonce = _authenticate(bot, request)
    body = await _read_capped(request)
    encrypted = request.args.get("encrypt_type", "raw").lower() == "aes"
    if bot.crypto.safe_mode and not encrypted:
        # The plaintext body is not covered by the URL signature: in safe mode only the encrypted
        # (authenticated) envelope is trusted, so a forged body cannot pass as WeChat's.
        raise Rejected(403, "plaintext_refused")
    fields = parse_fields(body)
    key_index = 0
    if encrypted:
        envelope = fields.get("Encrypt", "")
        if not envelope:
            raise Rejected(400, "missing_Encrypt")
        decrypted = bot.crypto.decrypt(
            envelope, msg_signature=_arg(request, "msg_signature"), timestamp=timestamp, nonce=nonce
        )
        key_index = decrypted.key_index
        fields = parse_fields(decrypted.xml.encode())
    message = to_message(fields)
    _check_account(bot, message.to_user)
    await _check_replay(bot, timestamp=timestamp, nonce=nonce, dedup_key=message.dedup_key)
    answer = await bot.responder.respond(message, started=started)
    if not answer:
        return text(SUCCESS)
    now_s = str(int(time.time()))
    xml = render_text_reply(
        to_user=message.from_user, from_user=message.to_user, text=answer, create_time=int(now_s)
    )
    if encrypted:
        xml = bot.crypto.encrypt(xml, nonce=nonce, timestamp=now_s, key_index=key_index)
    return HTTPResponse(xml, content_type="application/xml; charset=utf-8")


@wechat.post("/callback", stream=True)
@openapi.summary("WeChat message and event push (plaintext or safe mode)")
@openapi.parameter("signature", str, "query", required=True)
@openapi.parameter("timestamp", str, "query", required=True)
@openapi.parameter("nonce", str, "query", required=True)
@openapi.parameter("openid", str, "query")
@openapi.parameter("encrypt_type", str, "query")
@openapi.parameter("msg_signature", str, "query")
@openapi.body({"application/xml": str})
@openapi.response(200, {"application/xml": str}, "a passive reply, or the text 'success'")
@openapi.response(400, {"text/plain": str}, "malformed or hostile XML, missing parameter")
@openapi.response(
    403,
    {"text/plain": str},
    "bad signature, stale timestamp, replayed nonce, plaintext in safe mode or another account",
)
@openapi.response(413, {"text/plain": str}, "body over 64 KB")
async def receive(request: Request) -> HTTPResponse:
    started = time.monotonic()
    try:
        return await _receive(bot_of(request.app), request, started)
    except Rejected as rejection:
        return _refused(rejection, request)
