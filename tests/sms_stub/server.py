"""A local HTTP server that answers like Aliyun's ``dysmsapi`` ``SendSms`` and checks requests as it does.

It recomputes the signature v1 (HMAC-SHA1 over the sorted, percent-encoded parameters, key
``secret + "&"``) with its own encoder, written from the documented rule rather than shared with the
adapter, and answers with Aliyun's real error codes and HTTP statuses:
- unknown AccessKeyId: HTTP 404 ``InvalidAccessKeyId.NotFound``;
- wrong signature: HTTP 400 ``SignatureDoesNotMatch``; reused nonce: HTTP 400 ``SignatureNonceUsed``;
- timestamp more than 15 minutes off: HTTP 400 ``InvalidTimeStamp.Expired``;
- HTTP 200 with ``isv.MOBILE_NUMBER_ILLEGAL``, ``isv.SMS_TEMPLATE_ILLEGAL``, ``isv.SMS_SIGNATURE_ILLEGAL``,
  ``isv.TEMPLATE_MISSING_PARAMETERS``, or an injected code (``isv.BUSINESS_LIMIT_CONTROL``...);
- ``OK`` with a ``BizId`` for a good request.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import itertools
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"
PHONE = re.compile(r"^1\d{10}$")
MAX_SKEW = dt.timedelta(minutes=15)


def encode(text: str) -> str:
    return "".join(chr(b) if b in UNRESERVED else f"%{b:02X}" for b in text.encode("utf-8"))


def expected_signature(method: str, params: dict[str, str], secret: str) -> str:
    canonical = "&".join(f"{encode(k)}={encode(v)}" for k, v in sorted(params.items()))
    to_sign = f"{method}&{encode('/')}&{encode(canonical)}"
    return base64.b64encode(
        hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1).digest()
    ).decode()


@dataclass
class AliyunSmsStub:
    keys: dict[str, str] = field(default_factory=lambda: {"LTAI-test": "test-secret"})
    sign_names: set[str] = field(default_factory=lambda: {"温岭住建"})
    templates: dict[str, set[str]] = field(default_factory=lambda: {"SMS_ESCALATION": {"site", "alarm"}})
    sent: list[dict[str, Any]] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    _nonces: set[str] = field(default_factory=set)
    _injected: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(900619746936498440))

    def __post_init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="sms-stub", daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def inject(self, code: str, times: int = 1) -> None:
        with self._lock:
            self._injected.extend([code] * times)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def answer(self, method: str, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            status, body = self._check(method, params)
            if body["Code"] != "OK":
                self.refusals.append(body["Code"])
            return status, body | {"RequestId": str(uuid.uuid4()).upper()}

    def _check(self, method: str, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        secret = self.keys.get(params.get("AccessKeyId", ""))
        if secret is None:
            return 404, {
                "Code": "InvalidAccessKeyId.NotFound",
                "Message": "Specified access key is not found.",
            }
        given = params.pop("Signature", "")
        if not hmac.compare_digest(given, expected_signature(method, params, secret)):
            msg = "Specified signature is not matched with our calculation."
            return 400, {"Code": "SignatureDoesNotMatch", "Message": msg}
        if params.get("SignatureNonce", "") in self._nonces:
            return 400, {
                "Code": "SignatureNonceUsed",
                "Message": "Specified signature nonce was used already.",
            }
        self._nonces.add(params.get("SignatureNonce", ""))
        try:
            at = dt.datetime.strptime(params.get("Timestamp", ""), "%Y-%m-%dT%H:%M:%SZ").replace(
                tzinfo=dt.UTC
            )
        except ValueError:
            return 400, {"Code": "InvalidTimeStamp.Format", "Message": "Specified time stamp is malformed."}
        if abs(dt.datetime.now(dt.UTC) - at) > MAX_SKEW:
            msg = "Specified time stamp or date value is expired."
            return 400, {"Code": "InvalidTimeStamp.Expired", "Message": msg}
        return self._business(params)

    def _business(self, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if params.get("Action") != "SendSms" or params.get("Version") != "2017-05-25":
            return 404, {"Code": "InvalidAction.NotFound", "Message": "Specified api is not found."}
        if self._injected:
            return 200, {"Code": self._injected.pop(0), "Message": "injected"}
        if not PHONE.match(params.get("PhoneNumbers", "")):
            return 200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"}
        if params.get("SignName") not in self.sign_names:
            return 200, {"Code": "isv.SMS_SIGNATURE_ILLEGAL", "Message": "该账号下找不到对应签名"}
        needed = self.templates.get(params.get("TemplateCode", ""))
        if needed is None:
            return 200, {"Code": "isv.SMS_TEMPLATE_ILLEGAL", "Message": "该账号下找不到对应模板"}
        values = json.loads(params.get("TemplateParam") or "{}")
        if not needed <= set(values):
            return 200, {"Code": "isv.TEMPLATE_MISSING_PARAMETERS", "Message": "模板缺少变量"}
        biz_id = f"{next(self._ids)}^0"
        self.sent.append(
            {"phone": params["PhoneNumbers"], "params": values, "out_id": params.get("OutId", "")}
        )
        return 200, {"Code": "OK", "Message": "OK", "BizId": biz_id}


def _handler_for(stub: AliyunSmsStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length).decode("utf-8") if length else ""
            status, body = stub.answer("POST", dict(parse_qsl(raw, keep_blank_values=True)))
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler
