"""Account page (admins only): staff and admin accounts with role and department in Chinese, whether
each is active and whether its console login is locked after repeated wrong passwords, and the admin's
unlock. The lockout lives in the cache port (``console.sessions``), where the login page keeps it."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect
from sanic_ext import openapi

from console import sessions
from console.forms import arg_text
from console.guard import cache_of, page
from console.templating import render
from domain.accounts import services as accounts
from domain.accounts.rules import Role
from domain.errors import NotFound

console_accounts = Blueprint("console_accounts", url_prefix="/console/admin/accounts")
ADMINS = (Role.ADMIN,)
MAX_ACCOUNT_ID = 2**31 - 1


@console_accounts.get("/")
@openapi.exclude()
@page(*ADMINS)
async def accounts_page(request: Request) -> HTTPResponse:
    limit = int(request.app.ctx.settings.console_login_max_failures)
    rows = []
    for account in await accounts.list_staff_accounts():
        failures = (
            await sessions.failures(cache_of(request), account["username"]) if account["username"] else 0
        )
        rows.append(account | {"failures": failures, "locked": failures >= limit})
    return render(
        request,
        "accounts.html",
        rows=rows,
        max_failures=limit,
        unlocked=arg_text(request, "unlocked", max_length=64),
    )


@console_accounts.post("/<account_id:int>/unlock")
@openapi.exclude()
@page(*ADMINS)
async def unlock(request: Request, account_id: int) -> HTTPResponse:
    found = [
        account
        for account in await accounts.list_staff_accounts()
        if 0 < account_id <= MAX_ACCOUNT_ID and account["id"] == account_id and account["username"]
    ]
    if not found:
        raise NotFound("no such staff account", code="account_not_found")
    await sessions.clear_failures(cache_of(request), found[0]["username"])
    return redirect(f"/console/admin/accounts/?unlocked={found[0]['id']}", status=303)
