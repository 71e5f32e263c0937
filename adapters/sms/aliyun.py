"""Aliyun SMS ``SendSms`` (API version 2017-05-25) over its signed RPC HTTP API.

Signature v1, exactly as Aliyun documents it for RPC APIs:
1. every parameter but ``Signature`` sorted by name; names and values percent-encoded in UTF-8 where
   only ``A-Z a-z 0-9 - _ . ~`` stay literal (a space is ``%20``, never ``+``);
2. ``StringToSign = METHOD & percentEncode("/") & percentEncode(canonicalized query)``;
3. ``Signature = Base64(HMAC-SHA1(AccessKeySecret + "&", StringToSign))``.
The unit tests check it against Aliyun's published example (``OLeaidS1JvxuMvnyHOwuJ+uX5qY=``).

The request is a form-encoded POST, so phone numbers stay out of URLs and proxy logs.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import httpx

from adapters.sms.recording import mask_phone
from domain.notifications.ports import DeliveryTransient, SmsRejected

log = logging.getLogger(__name__)

API_VERSION = "2017-05-25"
DEFAULT_ENDPOINT = "https://dysmsapi.aliyuncs.com"
# Codes worth another try later: throttling and the provider's own trouble. Everything else
# (a bad number, template, signature or key) would fail the same way again.
RETRYABLE_CODES = frozenset(
    {"isv.BUSINESS_LIMIT_CONTROL", "isp.SYSTEM_ERROR", "Throttling", "ServiceUnavailable"}
)


def percent_encode(value: str) -> str:
    return quote(value.encode("utf-8"), safe="-_.~")


def string_to_sign(method: str, params: Mapping[str, str]) -> str:
    canonical = "&".join(
        f"{percent_encode(key)}={percent_encode(value)}" for key, value in sorted(params.items())
    )
    return f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"


def signature(method: str, params: Mapping[str, str], *, secret: str) -> str:
    digest = hmac.new(f"{secret}&".encode(), string_to_sign(method, params).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _utc_timestamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class AliyunSms:
    """Implements ``domain.notifications.ports.SmsSender``."""

    def __init__(
        self,
        *,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        endpoint: str = DEFAULT_ENDPOINT,
        timeout_s: float = 5.0,
        region_id: str = "cn-hangzhou",
        timestamp: Callable[[], str] = _utc_timestamp,
    ) -> None:
        self._key_id = access_key_id
        self._secret = access_key_secret
        self._sign_name = sign_name
        self._endpoint = endpoint.rstrip("/") + "/"
        self._timeout_s = timeout_s
        self._region_id = region_id
        self._timestamp = timestamp

    def signed_params(
        self, phone: str, *, template_code: str, params: Mapping[str, str], out_id: str
    ) -> dict[str, str]:
        request = {
            "AccessKeyId": self._key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "OutId": out_id,
            "PhoneNumbers": phone,
            "RegionId": self._region_id,
            "SignName": self._sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": template_code,
            "TemplateParam": json.dumps(dict(params), ensure_ascii=False, separators=(",", ":")),
            "Timestamp": self._timestamp(),
            "Version": API_VERSION,
        }
        request["Signature"] = signature("POST", request, secret=self._secret)
        return request

    async def send(self, phone: str, *, template_code: str, params: Mapping[str, str], out_id: str) -> str:
        form = self.signed_params(phone, template_code=template_code, params=params, out_id=out_id)
        try:
            async with httpx.AsyncClient(timeout=self._timeout_s) as client:
                response = await client.post(self._endpoint, data=form)
        except httpx.HTTPError as error:
            raise DeliveryTransient(f"{type(error).__name__} calling SendSms") from error
        if response.status_code >= 500:
            raise DeliveryTransient(f"HTTP {response.status_code} from SendSms")
        return _outcome(response, phone)


def _outcome(response: httpx.Response, phone: str) -> str:
    try:
        body: Any = response.json()
    except ValueError as error:
        raise DeliveryTransient(f"SendSms answered HTTP {response.status_code} without JSON") from error
    code = str(body.get("Code", "")) if isinstance(body, dict) else ""
    if code == "OK":
        log.info("SMS sent to %s (BizId %s)", mask_phone(phone), body.get("BizId", ""))
        return str(body.get("BizId", ""))
    message = str(body.get("Message", "")) if isinstance(body, dict) else ""
    log.warning("SMS to %s refused: %s %s", mask_phone(phone), code, message[:120])
    raise SmsRejected(code or f"HTTP{response.status_code}", message, retryable=code in RETRYABLE_CODES)
