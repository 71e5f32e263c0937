"""Build what WeChat POSTs to the callback, signed and (in safe mode) encrypted with wechatpy's real
crypto, and read what the callback answers. Shared by the unit, integration, e2e tests and the bench."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import secrets
import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from wechatpy.crypto import PrpCrypto, WeChatCrypto

TOKEN = "callback-token-for-tests"
APPID = "wx-test"
ACCOUNT = "gh_wenling_test"
_msg_ids = itertools.count(int(time.time() * 1000) % 10**9 * 1000)


def new_aes_key() -> str:
    """A 43-character EncodingAESKey, as the WeChat console generates."""
    return base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def sha1_sorted(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def _cdata(value: str) -> str:
    return f"<![CDATA[{value}]]>"


@dataclass
class WeChatSender:
    """One WeChat server talking to our callback (``aes_key`` set: safe mode)."""

    token: str = TOKEN
    appid: str = APPID
    aes_key: str = ""
    openid: str = field(default_factory=lambda: "o" + secrets.token_hex(13))

    # --- message bodies ---------------------------------------------------------------------------
    def _xml(
        self, msg_type: str, fields: dict[str, Any], *, openid: str | None, create_time: int | None
    ) -> str:
        parts = [
            f"<ToUserName>{_cdata(ACCOUNT)}</ToUserName>",
            f"<FromUserName>{_cdata(openid or self.openid)}</FromUserName>",
            f"<CreateTime>{create_time or int(time.time())}</CreateTime>",
            f"<MsgType>{_cdata(msg_type)}</MsgType>",
        ]
        for name, value in fields.items():
            parts.append(
                f"<{name}>{value if isinstance(value, int | float) else _cdata(str(value))}</{name}>"
            )
        return "<xml>" + "".join(parts) + "</xml>"

    def text(
        self,
        content: str,
        *,
        msg_id: int | None = None,
        openid: str | None = None,
        create_time: int | None = None,
    ) -> str:
        return self._xml(
            "text",
            {"Content": content, "MsgId": msg_id or next(_msg_ids)},
            openid=openid,
            create_time=create_time,
        )

    def location(self, lat: float, lng: float, *, label: str = "", msg_id: int | None = None) -> str:
        fields = {
            "Location_X": lat,
            "Location_Y": lng,
            "Scale": 15,
            "Label": label,
            "MsgId": msg_id or next(_msg_ids),
        }
        return self._xml("location", fields, openid=None, create_time=None)

    def image(self, media_id: str, *, msg_id: int | None = None) -> str:
        fields = {"PicUrl": "http://mmbiz.qpic.cn/x", "MediaId": media_id, "MsgId": msg_id or next(_msg_ids)}
        return self._xml("image", fields, openid=None, create_time=None)

    def voice(self, media_id: str, *, recognition: str | None = None) -> str:
        fields: dict[str, Any] = {"MediaId": media_id, "Format": "amr", "MsgId": next(_msg_ids)}
        if recognition is not None:
            fields["Recognition"] = recognition
        return self._xml("voice", fields, openid=None, create_time=None)

    def event(self, event: str, *, key: str = "", create_time: int | None = None, **extra: Any) -> str:
        fields: dict[str, Any] = {"Event": event}
        if key:
            fields["EventKey"] = key
        fields.update(extra)
        return self._xml("event", fields, openid=None, create_time=create_time or int(time.time()))

    # --- requests ---------------------------------------------------------------------------------
    def request(
        self, xml: str, *, timestamp: str | None = None, nonce: str | None = None, safe: bool | None = None
    ) -> tuple[dict[str, str], bytes]:
        """Query parameters and body exactly as WeChat sends them."""
        timestamp = timestamp or str(int(time.time()))
        nonce = nonce or str(secrets.randbelow(10**10))
        params = {
            "signature": sha1_sorted(self.token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "openid": self.openid,
        }
        if not (self.aes_key if safe is None else safe):
            return params, xml.encode()
        encrypted = PrpCrypto(base64.b64decode(self.aes_key + "=")).encrypt(xml, self.appid).decode()
        params |= {
            "encrypt_type": "aes",
            "msg_signature": sha1_sorted(self.token, timestamp, nonce, encrypted),
        }
        body = f"<xml><ToUserName>{_cdata(ACCOUNT)}</ToUserName><Encrypt>{_cdata(encrypted)}</Encrypt></xml>"
        return params, body.encode()

    def verification(self, echostr: str = "echo-123") -> dict[str, str]:
        timestamp, nonce = str(int(time.time())), str(secrets.randbelow(10**10))
        return {
            "signature": sha1_sorted(self.token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "echostr": echostr,
        }

    # --- replies ----------------------------------------------------------------------------------
    def read_reply(self, body: bytes | str) -> dict[str, str]:
        """The fields of a passive reply ({} for ``success``), decrypting and checking a safe-mode one."""
        raw = body.decode() if isinstance(body, bytes) else body
        if raw in ("success", ""):
            return {}
        fields = {child.tag: child.text or "" for child in ET.fromstring(raw)}
        if "Encrypt" in fields:
            crypto = WeChatCrypto(self.token, self.aes_key, self.appid)
            expected = sha1_sorted(self.token, fields["TimeStamp"], fields["Nonce"], fields["Encrypt"])
            assert fields["MsgSignature"] == expected, "the reply's MsgSignature does not verify"
            inner = crypto.decrypt_message(raw, fields["MsgSignature"], fields["TimeStamp"], fields["Nonce"])
            fields = {child.tag: child.text or "" for child in ET.fromstring(inner)}
            fields["_encrypted"] = "yes"
        return fields


# --- the app served in this process on a real port (one lifecycle, unlike Sanic's asgi_client) --------


@contextlib.asynccontextmanager
async def serving(app: Any) -> AsyncIterator[Any]:
    """Start ``app`` on a free port in this event loop; ``app.ctx.http`` is an httpx client for it."""
    import httpx  # noqa: PLC0415

    from tests.wechat_servers import free_port  # noqa: PLC0415

    port = free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    await server.startup()
    await server.before_start()
    await server.after_start()
    client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30)
    app.ctx.http = client
    try:
        yield app
    finally:
        await client.aclose()
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()


async def post(app: Any, sender: WeChatSender, xml: str, **request: Any) -> tuple[int, dict[str, str], str]:
    """POST one message as WeChat does: (status, reply fields ({} for success), raw text)."""
    params, body = sender.request(xml, **request)
    response = await app.ctx.http.post("/wechat/callback", params=params, content=body)
    fields = sender.read_reply(response.content) if response.status_code == 200 else {}
    return response.status_code, fields, response.text


# --- a real server in a subprocess, with an optional probe dialogue -----------------------------------
# ``python -m tests.wechat_inbound`` serves the whole app (settings from the environment, like
# production). With WECHAT_PROBE_KEY set, the "greet" intent (text "你好") is replaced by a probe that
# counts its runs in Redis under that key and takes WECHAT_PROBE_DELAY_S seconds: the side effect
# that retries must never repeat, and the slow handler of the deadline path.

PROBE_REPLY = "probe done"


def _install_probe(app: Any) -> None:
    import asyncio  # noqa: PLC0415
    import os  # noqa: PLC0415

    from redis.asyncio import Redis  # noqa: PLC0415

    from bot.dialogue import IntentSpec, Reply, Turn  # noqa: PLC0415
    from bot.webhook import bot_of  # noqa: PLC0415

    key = os.environ.get("WECHAT_PROBE_KEY", "")
    delay_s = float(os.environ.get("WECHAT_PROBE_DELAY_S", "0"))
    if not key:
        return

    async def register_probe(app: Any) -> None:
        client = Redis.from_url(os.environ["REDIS_URL"], decode_responses=True)
        app.ctx.probe_redis = client

        async def probe(turn: Turn) -> Reply:
            await client.incr(key)
            await asyncio.sleep(delay_s)
            return Reply(PROBE_REPLY)

        bot_of(app).responder.handler.engine.table.register(IntentSpec("greet", probe), replace=True)

    app.register_listener(register_probe, "after_server_start")


def serve_from_environment() -> None:
    import logging  # noqa: PLC0415

    from config.app import create_app  # noqa: PLC0415
    from config.heap import settle_after_start  # noqa: PLC0415
    from config.settings import load_settings  # noqa: PLC0415

    settings = load_settings()
    logging.basicConfig(level=settings.log_level)
    app = create_app(settings, name="wechat_test_server", run_workers=settings.run_embedded_workers)
    _install_probe(app)
    # As production's server processes do (config.cli.server_app): the heap settled once started.
    app.register_listener(settle_after_start, "after_server_start")
    app.run(host="127.0.0.1", port=settings.port, single_process=True, access_log=False, motd=False)


if __name__ == "__main__":
    serve_from_environment()
