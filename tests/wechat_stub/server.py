"""A local HTTP server that behaves like the WeChat API, for integration tests.

It is a real server (stdlib ``ThreadingHTTPServer`` in a background thread, on a free port), so the
real client, its timeouts and its token handling are exercised over real sockets.

Behaviour copied from WeChat:
- ``/cgi-bin/token`` issues a new token per call and invalidates the previous one; ``/cgi-bin/stable_token``
  returns the same token to every caller until it expires or ``force_refresh`` is asked for.
- Every API checks ``access_token``: missing -> 41001, unknown -> 40001, expired -> 42001.
- Template sends are idempotent on ``client_msg_id`` for 10 minutes (same msgid, nothing re-sent).
- ``/sns/jscode2session`` codes are one-use (40163 on reuse, 40029 when unknown).

Faults: ``inject(api, errcode, times)`` answers that errcode for the next ``times`` calls of ``api``;
an errcode from 500 to 599 answers that HTTP status instead. ``slow(api, seconds, times)`` delays answers.
API names: token, stable_token, custom, template, subscribe, bizsend, media, menu, jscode2session.
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TEMPLATE_DEDUP_S = 600
TOKEN_TTL_S = 7200

ROUTES: dict[str, str] = {
    "/cgi-bin/token": "token",
    "/cgi-bin/stable_token": "stable_token",
    "/cgi-bin/message/custom/send": "custom",
    "/cgi-bin/message/template/send": "template",
    "/cgi-bin/message/subscribe/send": "subscribe",
    "/cgi-bin/message/subscribe/bizsend": "bizsend",
    "/cgi-bin/media/get": "media",
    "/cgi-bin/menu/create": "menu",
    "/sns/jscode2session": "jscode2session",
}
NO_TOKEN_APIS = frozenset({"token", "stable_token", "jscode2session"})


@dataclass
class _Fault:
    errcode: int
    remaining: int


@dataclass
class _Token:
    value: str
    appid: str
    expires_at: float


@dataclass
class StubState:
    apps: dict[str, str]  # appid -> secret
    sent: list[dict[str, Any]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    menus: list[dict[str, Any]] = field(default_factory=list)
    faults: dict[str, list[_Fault]] = field(default_factory=dict)
    delays: dict[str, list[tuple[float, int]]] = field(default_factory=dict)
    tokens: dict[str, _Token] = field(default_factory=dict)  # value -> token (valid or expired)
    stable: dict[str, str] = field(default_factory=dict)  # appid -> current stable token value
    codes: dict[str, str] = field(default_factory=dict)  # js_code -> openid (unused codes)
    used_codes: set[str] = field(default_factory=set)
    template_dedup: dict[str, tuple[int, float]] = field(default_factory=dict)
    clock_offset_s: float = 0.0
    force_refresh_count: int = 0


class WeChatStub:
    """The handle tests use: ``base_url``, ``sent``, ``inject``, ``slow``, ``reset`` and helpers."""

    def __init__(self, apps: dict[str, str] | None = None) -> None:
        self._apps = apps or {"wx-test": "s3cret", "wxa-test": "wxa-s3cret"}
        self._lock = threading.RLock()
        self._msgids = itertools.count(1000)
        self.state = StubState(apps=dict(self._apps))
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="wechat-stub", daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # --- what tests read ------------------------------------------------------------------------
    @property
    def sent(self) -> list[dict[str, Any]]:
        """Every delivered message: ``{"api", "openid", "content", "body"}`` (a copy)."""
        with self._lock:
            return list(self.state.sent)

    def calls_to(self, api: str) -> int:
        with self._lock:
            return sum(1 for call in self.state.calls if call["api"] == api)

    @property
    def force_refresh_count(self) -> int:
        with self._lock:
            return self.state.force_refresh_count

    @property
    def menus(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.state.menus)

    # --- what tests set up ------------------------------------------------------------------------
    def inject(self, api: str, errcode: int, times: int = 1) -> None:
        with self._lock:
            self.state.faults.setdefault(api, []).append(_Fault(errcode, times))

    def slow(self, api: str, seconds: float, times: int = 1) -> None:
        with self._lock:
            self.state.delays.setdefault(api, []).append((seconds, times))

    def reset(self) -> None:
        with self._lock:
            self.state = StubState(apps=dict(self._apps))

    def add_media(self, media_id: str, data: bytes, content_type: str = "image/jpeg") -> None:
        with self._lock:
            self.state.media[media_id] = (data, content_type)

    def issue_code(self, openid: str | None = None) -> str:
        """A one-use ``wx.login`` code that ``jscode2session`` exchanges for ``openid``."""
        code = secrets.token_hex(8)
        with self._lock:
            self.state.codes[code] = openid or "o" + secrets.token_hex(13)
        return code

    def expire_tokens(self) -> None:
        """Every issued token expires now (the next call with one gets 42001)."""
        with self._lock:
            for token in self.state.tokens.values():
                token.expires_at = self.now() - 1

    def advance(self, seconds: float) -> None:
        """Move the stub's clock (template dedup window, token expiry)."""
        with self._lock:
            self.state.clock_offset_s += seconds

    def now(self) -> float:
        return time.monotonic() + self.state.clock_offset_s

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # --- request handling (called on server threads) ---------------------------------------------
    def _take_fault(self, api: str) -> int | None:
        with self._lock:
            faults = self.state.faults.get(api, [])
            if not faults:
                return None
            fault = faults[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                faults.pop(0)
            return fault.errcode

    def _take_delay(self, api: str) -> float:
        with self._lock:
            delays = self.state.delays.get(api, [])
            if not delays:
                return 0.0
            seconds, remaining = delays[0]
            if remaining <= 1:
                delays.pop(0)
            else:
                delays[0] = (seconds, remaining - 1)
            return seconds

    def _new_token(self, appid: str) -> str:
        value = "TOKEN-" + secrets.token_hex(12)
        self.state.tokens[value] = _Token(value, appid, self.now() + TOKEN_TTL_S)
        return value

    def _check_token(self, params: dict[str, str]) -> int:
        value = params.get("access_token", "")
        if not value:
            return 41001
        token = self.state.tokens.get(value)
        if token is None:
            return 40001
        if token.expires_at <= self.now():
            return 42001
        return 0

    def handle(
        self, api: str, params: dict[str, str], body: dict[str, Any]
    ) -> tuple[int, dict[str, Any] | bytes, str]:
        """Returns (http status, JSON dict or raw bytes, content type)."""
        with self._lock:
            self.state.calls.append({"api": api, "params": dict(params), "body": body})
            if api not in NO_TOKEN_APIS:
                errcode = self._check_token(params)
                if errcode:
                    return 200, {"errcode": errcode, "errmsg": "access_token invalid"}, ""
            handler = getattr(self, f"_api_{api}")
            result: tuple[int, dict[str, Any] | bytes, str] = handler(params, body)
            return result

    def _api_token(self, params: dict[str, str], body: dict[str, Any]) -> tuple[int, Any, str]:
        appid, secret = params.get("appid", ""), params.get("secret", "")
        if self.state.apps.get(appid) is None:
            return 200, {"errcode": 40013, "errmsg": "invalid appid"}, ""
        if self.state.apps[appid] != secret:
            return 200, {"errcode": 40125, "errmsg": "invalid appsecret"}, ""
        # /cgi-bin/token invalidates the previous token (WeChat keeps it 5 more minutes; we do not).
        for token in list(self.state.tokens.values()):
            if token.appid == appid:
                del self.state.tokens[token.value]
        self.state.stable.pop(appid, None)
        return 200, {"access_token": self._new_token(appid), "expires_in": TOKEN_TTL_S}, ""

    def _api_stable_token(self, params: dict[str, str], body: dict[str, Any]) -> tuple[int, Any, str]:
        appid, secret = str(body.get("appid", "")), str(body.get("secret", ""))
        if body.get("grant_type") != "client_credential":
            return 200, {"errcode": 40002, "errmsg": "invalid grant_type"}, ""
        if self.state.apps.get(appid) is None:
            return 200, {"errcode": 40013, "errmsg": "invalid appid"}, ""
        if self.state.apps[appid] != secret:
            return 200, {"errcode": 40125, "errmsg": "invalid appsecret"}, ""
        current = self.state.tokens.get(self.state.stable.get(appid, ""))
        if body.get("force_refresh"):
            self.state.force_refresh_count += 1
            current = None
        if current is None or current.expires_at <= self.now():
            value = self._new_token(appid)
            self.state.stable[appid] = value
            current = self.state.tokens[value]
        expires_in = max(1, int(current.expires_at - self.now()))
        return 200, {"access_token": current.value, "expires_in": expires_in}, ""

    def _record(self, api: str, openid: str, content: Any, body: dict[str, Any]) -> None:
        self.state.sent.append({"api": api, "openid": openid, "content": content, "body": body})

    def _api_custom(self, params: dict[str, str], body: dict[str, Any]) -> tuple[int, Any, str]:
        msgtype = body.get("msgtype")
        content = body.get(str(msgtype), {})
        if not body.get("touser") or msgtype not in ("text", "image", "news", "link"):
            return 200, {"errcode": 40008, "errmsg": "invalid message type"}, ""
        text = content.get("content", "") if isinstance(content, dict) else ""
        if msgtype == "text" and len(str(text).encode()) > 2048:
            return 200, {"errcode": 45002, "errmsg": "content size out of limit"}, ""
        self._record("custom", str(body["touser"]), text if msgtype == "text" else content, body)
        return 200, {"errcode": 0, "errmsg": "ok"}, ""

    def _api_template(self, params: dict[str, str], body: dict[str, Any]) -> tuple[int, Any, str]:
        if not body.get("touser") or not body.get("template_id"):
            return 200, {"errcode": 40037, "errmsg": "invalid template_id"}, ""
        client_msg_id = str(body.get("client_msg_id") or "")
        if client_msg_id:
            seen = self.state.template_dedup.get(client_msg_id)
            if seen is not None and self.now() - seen[1] < TEMPLATE_DEDUP_S:
                return 200, {"errcode": 0, "errmsg": "ok", "msgid": seen[0]}, ""
        msgid = next(self._msgids)
        if client_msg_id:
            self.state.template_dedup[client_msg_id] = (msgid, self.now())
        self._record("template", str(body["touser"]), body.get("data", {}), body)
        return 200, {"errcode": 0, "errmsg": "ok", "msgid": msgid}, ""

    def _subscribe(self, api: str, body: dict[str, Any]) -> tuple[int, Any, str]:
        if not body.get("touser") or not body.get("template_id"):
            return 200, {"errcode": 40037, "errmsg": "invalid template_id"}, ""
        self._record(api, str(body["touser"]), body.get("data", {}), body)
        return 200, {"errcode": 0, "errmsg": "ok"}, ""

    def _api_subscribe(self, params: dict[str, str], body: dict[str, Any]) -> tuple[int, Any, str]:
        return self._subscribe("subscribe", body)

    def _api_bizsend(self, params: dict[str, str], body: dict[str, Any]) -> tuple[int, Any, str]:
        return self._subscribe("bizsend", body)

    def _api_media(self, params: dict[str, str], body: dict[str, Any]) -> tuple[int, Any, str]:
        item = self.state.media.get(params.get("media_id", ""))
        if item is None:
            return 200, {"errcode": 40007, "errmsg": "invalid media_id"}, ""
        return 200, item[0], item[1]

    def _api_menu(self, params: dict[str, str], body: dict[str, Any]) -> tuple[int, Any, str]:
        if not isinstance(body.get("button"), list) or not body["button"]:
            return 200, {"errcode": 40016, "errmsg": "invalid button size"}, ""
        self.state.menus.append(body)
        return 200, {"errcode": 0, "errmsg": "ok"}, ""

    def _api_jscode2session(self, params: dict[str, str], body: dict[str, Any]) -> tuple[int, Any, str]:
        appid = params.get("appid", "")
        if (
            self.state.apps.get(appid) != params.get("secret")
            or params.get("grant_type") != "authorization_code"
        ):
            return 200, {"errcode": 40013, "errmsg": "invalid appid"}, ""
        code = params.get("js_code", "")
        if code in self.state.used_codes:
            return 200, {"errcode": 40163, "errmsg": "code been used"}, ""
        openid = self.state.codes.pop(code, None)
        if openid is None:
            return 200, {"errcode": 40029, "errmsg": "invalid code"}, ""
        self.state.used_codes.add(code)
        return 200, {"openid": openid, "session_key": secrets.token_urlsafe(16)}, ""


def _handler_for(stub: WeChatStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return  # keep test output quiet

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            api = ROUTES.get(parts.path.rstrip("/"))
            params = {key: values[0] for key, values in parse_qs(parts.query).items()}
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            if api is None:
                self._reply(404, {"errcode": 404, "errmsg": "not found"}, "")
                return
            delay = stub._take_delay(api)
            if delay:
                time.sleep(delay)
            fault = stub._take_fault(api)
            if fault is not None:
                with stub._lock:
                    stub.state.calls.append({"api": api, "params": params, "fault": fault})
                if 500 <= fault <= 599:
                    self._reply(fault, b"<html>server error</html>", "text/html")
                else:
                    self._reply(200, {"errcode": fault, "errmsg": f"injected {fault}"}, "")
                return
            try:
                body = json.loads(raw.decode("utf-8")) if raw else {}
            except (UnicodeDecodeError, json.JSONDecodeError):
                self._reply(200, {"errcode": 47001, "errmsg": "data format error"}, "")
                return
            status, payload, content_type = stub.handle(api, params, body if isinstance(body, dict) else {})
            self._reply(status, payload, content_type)

        def _reply(self, status: int, payload: dict[str, Any] | bytes, content_type: str) -> None:
            if isinstance(payload, bytes):
                data = payload
            else:
                data = json.dumps(payload, ensure_ascii=False).encode()
                content_type = "application/json; charset=utf-8"
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                return  # the client timed out first (a slow answer): nobody is listening any more

        do_GET = _serve
        do_POST = _serve

    return Handler
