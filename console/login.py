"""Doors into the console: ``/`` and ``/console`` redirects, login with a staff account (the same
password service as ``POST /api/v1/auth/staff-login``), lockout after repeated failures, logout, and
the vendored static assets."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect
from sanic_ext import openapi

from console import sessions
from console.guard import SESSION_COOKIE, cache_of, page, secret_of, session_principal
from console.templating import STATIC_DIR, render
from domain.accounts import services as accounts
from domain.accounts.rules import Role
from domain.errors import DomainError

console_login = Blueprint("console_login")
console_static = Blueprint("console_static", url_prefix="/console")
console_static.static("/static", str(STATIC_DIR), name="files")

LOGIN_CSRF_COOKIE = "wl_console_login"
HOME = "/console/complaints"
STAFF_ROLES = (Role.STAFF,)


def _secure(request: Request) -> bool:
    return bool(request.app.ctx.settings.console_cookie_secure) or request.scheme == "https"


def _set_cookie(response: HTTPResponse, request: Request, name: str, value: str, *, max_age: int) -> None:
    response.add_cookie(
        name, value, path="/", max_age=max_age, httponly=True, secure=_secure(request), samesite="Lax"
    )


def _safe_next(target: str) -> str:
    # Only paths inside the console: never an open redirect to another site ("//evil", "https://").
    if target.startswith("/console") and not target.startswith("//") and "\\" not in target:
        return target
    return HOME


@console_login.get("/")
@openapi.exclude()
async def root(request: Request) -> HTTPResponse:
    return redirect("/console", status=302)


@console_login.get("/console")
@console_login.get("/admin", name="admin_door")
@console_login.get("/staff", name="staff_door")
@openapi.exclude()
async def console_home(request: Request) -> HTTPResponse:
    found = await session_principal(request)
    return redirect(HOME if found else "/console/login", status=302)


def _login_form(request: Request, *, status: int = 200, error: str = "", username: str = "") -> HTTPResponse:
    token = secrets.token_urlsafe(32)
    response = render(
        request,
        "login.html",
        status=status,
        login_token=token,
        error=error,
        username=username,
        next=_safe_next(request.args.get("next", HOME)),
    )
    _set_cookie(response, request, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


@console_login.get("/console/login")
@openapi.exclude()
async def login_page(request: Request) -> HTTPResponse:
    return _login_form(request)


async def _check_login(request: Request, form: Any) -> tuple[str, str] | HTTPResponse:
    """The (username, password) of a well-formed login post, or the page that refuses it."""
    username = str(form.get("username") or "").strip()[:64]
    password = str(form.get("password") or "")[:200]
    if not sessions.token_matches(str(request.cookies.get(LOGIN_CSRF_COOKIE) or ""), form.get("csrf_token")):
        return _login_form(request, status=403, error="页面已过期，请重新登录", username=username)
    if not username or not password:
        return _login_form(request, status=400, error="请输入用户名和密码", username=username)
    settings = request.app.ctx.settings
    if await sessions.failures(cache_of(request), username) >= settings.console_login_max_failures:
        minutes = max(1, settings.console_lockout_s // 60)
        return _login_form(
            request,
            status=429,
            error=f"密码错误次数过多，账户已锁定，请 {minutes} 分钟后再试",
            username=username,
        )
    return username, password


@console_login.post("/console/login")
@openapi.exclude()
async def login(request: Request) -> HTTPResponse:
    form: Any = request.form or {}
    checked = await _check_login(request, form)
    if isinstance(checked, HTTPResponse):
        return checked
    username, password = checked
    settings = request.app.ctx.settings
    cache = cache_of(request)
    try:
        token, principal = await accounts.login_with_password(
            username, password, secret=secret_of(request), now=dt.datetime.now(dt.UTC)
        )
    except DomainError:
        await sessions.record_failure(cache, username, lockout_s=settings.console_lockout_s)
        return _login_form(request, status=401, error="用户名或密码错误", username=username)
    if not principal.is_staff():
        return _login_form(request, status=403, error="控制台仅供工作人员使用", username=username)
    await sessions.clear_failures(cache, username)
    session = await sessions.open_session(cache, token=token, ttl_s=settings.console_session_ttl_s)
    response = redirect(_safe_next(str(form.get("next") or HOME)), status=303)
    _set_cookie(response, request, SESSION_COOKIE, session.sid, max_age=settings.console_session_ttl_s)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@console_login.post("/console/logout")
@openapi.exclude()
@page(*STAFF_ROLES)
async def logout(request: Request) -> HTTPResponse:
    await sessions.close_session(cache_of(request), str(request.cookies.get(SESSION_COOKIE) or ""))
    response = redirect("/console/login", status=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
