"""Account use cases: staff password login, mini-program login by openid, token verification."""

from __future__ import annotations

import datetime as dt
from typing import Any

from domain.accounts.models import Account
from domain.accounts.rules import Principal, Role, check_password, issue_token, verify_token
from domain.errors import Unauthorized


def principal_of(account: Account) -> Principal:
    return Principal(
        subject=str(account.id),
        role=account.role,
        department=account.department,
        enterprise_uscc=account.enterprise_uscc,
        openid=account.openid or "",
    )


async def login_with_password(
    username: str, password: str, *, secret: bytes, now: dt.datetime
) -> tuple[str, Principal]:
    account = await Account.filter(username=username, active=True).first()
    # Hash even for unknown users so timing does not reveal which usernames exist.
    stored = account.password_hash if account else "scrypt$AAAAAAAAAAAAAAAAAAAAAA$AAAA"
    if not check_password(password, stored) or account is None:
        raise Unauthorized("wrong username or password", code="bad_credentials")
    await Account.filter(id=account.id).update(last_login_at=now)
    principal = principal_of(account)
    return issue_token(principal, secret=secret, now=now), principal


async def login_with_openid(openid: str, *, secret: bytes, now: dt.datetime) -> tuple[str, Principal]:
    """A mini-program user: existing accounts keep their role; a new openid becomes a citizen."""
    account, _created = await Account.get_or_create(openid=openid, defaults={"role": Role.CITIZEN})
    if not account.active:
        raise Unauthorized("account disabled", code="account_disabled")
    principal = principal_of(account)
    return issue_token(principal, secret=secret, now=now), principal


def authenticate(token: str, *, secret: bytes, now: dt.datetime) -> Principal:
    return verify_token(token, secret=secret, now=now)


async def openids_of_departments(departments: list[str]) -> dict[str, list[str]]:
    """Active staff with a WeChat openid, by department: who is told when a department is alerted."""
    rows = await Account.filter(
        department__in=departments, role__in=[Role.STAFF, Role.ADMIN], active=True, openid__isnull=False
    ).values("department", "openid")
    found: dict[str, list[str]] = {department: [] for department in departments}
    for row in rows:
        found[row["department"]].append(row["openid"])
    return found


async def enterprise_of_openid(openid: str) -> str | None:
    """Credit code of the enterprise this WeChat user acts for (an active enterprise account bound to
    the openid), or None. Looking never creates an account."""
    if not openid:
        return None
    account = await Account.filter(openid=openid, role=Role.ENTERPRISE, active=True).first()
    return account.enterprise_uscc if account is not None and account.enterprise_uscc else None


async def list_staff_accounts() -> list[dict[str, Any]]:
    """Staff and admin accounts for the admins' account page: never the password hash, and only
    whether a WeChat openid is bound, not the openid."""
    rows = await Account.filter(role__in=[Role.STAFF, Role.ADMIN]).order_by("department", "username", "id")
    return [
        {
            "id": row.id,
            "username": row.username or "",
            "display_name": row.display_name,
            "role": row.role.value,
            "department": row.department,
            "active": row.active,
            "wechat_bound": bool(row.openid),
            "created_at": row.created_at,
            "last_login_at": row.last_login_at,
        }
        for row in rows
    ]
