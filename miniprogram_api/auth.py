"""Authentication and role checks for every endpoint.

``@require(Role.STAFF, Role.ADMIN)`` verifies the bearer token and the role before the handler runs,
and puts the ``Principal`` on ``request.ctx.principal``. Department scoping is the handler's job (it
passes ``principal.department`` to the service), because only the service knows what a department owns.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Awaitable, Callable
from typing import Any, cast

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext import openapi

from domain.accounts import services as accounts
from domain.accounts.rules import Principal, Role, authorize
from domain.errors import Unauthorized, ValidationFailed
from miniprogram_api.context import settings_of
from miniprogram_api.params import body_text

Handler = Callable[..., Awaitable[HTTPResponse]]

auth = Blueprint("auth", url_prefix="/api/v1/auth")


def _secret(request: Request) -> bytes:
    return settings_of(request).secret_key.get_secret_value().encode()


def principal_from(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("a bearer token is required", code="missing_token")
    return accounts.authenticate(token.strip(), secret=_secret(request), now=dt.datetime.now(dt.UTC))


def require(*roles: Role) -> Callable[[Handler], Handler]:
    """Allow only these roles (admin is always allowed)."""
    allowed = frozenset(roles)

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            request.ctx.principal = authorize(principal_from(request), allowed)
            return await handler(request, *args, **kwargs)

        return cast(Handler, openapi.secured("bearer")(guarded))

    return decorate


def current(request: Request) -> Principal:
    return cast(Principal, request.ctx.principal)


def json_body(request: Request) -> dict[str, Any]:
    """The JSON object body, or a 400 for anything else (broken JSON, a list, a string)."""
    try:
        body = request.json
    except Exception as error:
        raise ValidationFailed("the body must be a JSON object", code="invalid_json") from error
    if not isinstance(body, dict):
        raise ValidationFailed("the body must be a JSON object", code="invalid_json")
    return body


@auth.post("/staff-login")
@openapi.summary("Staff, enterprise and site-manager login with username and password")
@openapi.body({"application/json": {"username": str, "password": str}})
@openapi.response(200, {"application/json": {"token": str, "role": str}})
@openapi.response(400, {"application/json": {"code": str, "message": str}})
@openapi.response(401, {"application/json": {"code": str, "message": str}})
async def staff_login(request: Request) -> HTTPResponse:
    body = json_body(request)
    username = body_text(body, "username", max_length=64)
    password = body_text(body, "password", max_length=200)
    token, principal = await accounts.login_with_password(
        username, password, secret=_secret(request), now=dt.datetime.now(dt.UTC)
    )
    return json({"token": token, "role": principal.role.value, "department": principal.department})
