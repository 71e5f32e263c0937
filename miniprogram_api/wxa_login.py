"""Mini-program login: ``POST /api/v1/auth/login {code}``.

The ``wx.login`` code is exchanged through WeChat ``jscode2session``; the user gets the app's own bearer
token. ``session_key`` never leaves the server (we do not keep it either: nothing here decrypts the
mini-program's user data).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from http import HTTPStatus

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext import openapi

from adapters.wechat.client import (
    WeChatApiError,
    WeChatNotConfigured,
    WeChatTransientError,
)
from domain.accounts import services as accounts
from domain.accounts.rules import mask_openid
from domain.errors import DomainError, Unauthorized, ValidationFailed
from miniprogram_api.auth import json_body
from miniprogram_api.context import runtime_of, settings_of
from miniprogram_api.openapi_errors import error_responses

log = logging.getLogger(__name__)

wxa_login = Blueprint("wxa_login", url_prefix="/api/v1/auth")

_CODE = re.compile(r"^[A-Za-z0-9_\-]{1,128}$")
INVALID_CODE_ERRCODES = frozenset({40029, 40163, 40226})  # unknown, already used, blocked user
RATE_LIMITED = 45011


class LoginRateLimited(DomainError):
    code = "login_rate_limited"
    status = HTTPStatus.TOO_MANY_REQUESTS


class WeChatUnavailable(DomainError):
    code = "wechat_unavailable"
    status = HTTPStatus.SERVICE_UNAVAILABLE


@wxa_login.post("/login")
@openapi.summary("Mini-program login: exchange a wx.login code for the app's bearer token")
@openapi.body({"application/json": {"code": str}})
@openapi.response(200, {"application/json": {"token": str, "role": str}})
@error_responses(400, 401, 429, 503)
async def login(request: Request) -> HTTPResponse:
    code = json_body(request).get("code")
    if not isinstance(code, str) or not _CODE.match(code):
        raise ValidationFailed("code must be the wx.login code", code="invalid_code_format")
    client = runtime_of(request).wechat
    try:
        session = await client.code_to_session(code)
    except WeChatNotConfigured as error:
        raise WeChatUnavailable(
            "mini-program credentials are not configured", code="wechat_not_configured"
        ) from error
    except WeChatTransientError as error:
        raise WeChatUnavailable("WeChat did not answer, try again") from error
    except WeChatApiError as error:
        if error.errcode == RATE_LIMITED:
            raise LoginRateLimited("too many logins, try again in a minute") from error
        if error.errcode in INVALID_CODE_ERRCODES:
            raise Unauthorized("the login code is invalid or already used", code="invalid_code") from error
        log.warning("jscode2session refused with %s", error.errcode)
        raise Unauthorized("WeChat refused the login", code="wechat_login_refused") from error
    secret = settings_of(request).secret_key.get_secret_value().encode()
    now = dt.datetime.now(dt.UTC)
    token, principal = await accounts.login_with_openid(session.openid, secret=secret, now=now)
    log.info("mini-program login for %s", mask_openid(session.openid))
    return json({"token": token, "role": principal.role.value})
