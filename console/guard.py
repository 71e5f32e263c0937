"""Every console page goes through ``@page(roles)``: a session is required (otherwise the login page),
the role rule is the API's (``authorize``), and every POST must carry the session's CSRF token.

Domain errors raised by the services (another department's ticket, a transition the state does not
allow) are shown as a Chinese error page with the error's own HTTP status.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, cast
from urllib.parse import quote

from sanic import Request
from sanic.response import HTTPResponse, redirect

from console import labels, sessions
from console.templating import render
from domain.accounts import services as accounts
from domain.accounts.rules import Principal, Role, authorize
from domain.errors import DomainError, Forbidden
from domain.ports import Cache

Handler = Callable[..., Awaitable[HTTPResponse]]
SESSION_COOKIE = "wl_console"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
log = logging.getLogger(__name__)


def cache_of(request: Request) -> Cache:
    return cast(Cache, request.app.ctx.infra.cache)


def secret_of(request: Request) -> bytes:
    return cast(bytes, request.app.ctx.settings.secret_key.get_secret_value().encode())


async def session_principal(request: Request) -> tuple[sessions.Session, Principal] | None:
    """The signed-in session and who it acts as, or None (no cookie, unknown, ended or expired)."""
    sid = str(request.cookies.get(SESSION_COOKIE) or "")
    session = await sessions.load_session(cache_of(request), sid) if sid else None
    if session is None:
        return None
    try:
        principal = accounts.authenticate(
            session.token, secret=secret_of(request), now=dt.datetime.now(dt.UTC)
        )
    except DomainError:
        await sessions.close_session(cache_of(request), sid)
        return None
    return session, principal


def error_page(request: Request, error: DomainError) -> HTTPResponse:
    status = int(error.status)
    title = labels.ERRORS.get(status, "操作失败")
    return render(request, "error.html", status=status, title=title, code=error.code, message=str(error))


def _csrf_given(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return str(header)
    form = (
        request.form
        if (request.content_type or "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        )
        else None
    )
    value = form.get(CSRF_FIELD) if form else None
    return str(value) if value is not None else None


def _to_login(request: Request) -> HTTPResponse:
    target = f"/console/login?next={quote(request.path)}"
    if request.headers.get("hx-request"):
        # htmx follows HX-Redirect with a full page load instead of swapping the login page in.
        return HTTPResponse(status=401, headers={"HX-Redirect": target})
    return redirect(target, status=303)


def page(*roles: Role) -> Callable[[Handler], Handler]:
    """Allow signed-in principals with one of ``roles`` (admin always), CSRF-checked on POST."""
    allowed = frozenset(roles)

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            found = await session_principal(request)
            if found is None:
                return _to_login(request)
            session, principal = found
            request.ctx.principal = principal
            request.ctx.csrf_token = session.csrf
            try:
                authorize(principal, allowed)
                if request.method == "POST" and not sessions.token_matches(
                    session.csrf, _csrf_given(request)
                ):
                    raise Forbidden(
                        "the form is missing its security token; reload the page", code="csrf_failed"
                    )
                return await handler(request, *args, **kwargs)
            except DomainError as error:
                log.info("console %s %s refused: %s", request.method, request.path, error.code)
                return error_page(request, error)

        return guarded

    return decorate


def current(request: Request) -> Principal:
    return cast(Principal, request.ctx.principal)
