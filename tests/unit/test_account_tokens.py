"""Bearer tokens: what any API process accepts, and every way a forged or stale one is refused."""

from __future__ import annotations

import base64
import datetime as dt
import json

import jwt
import pytest

from domain.accounts.rules import TOKEN_TTL, Principal, Role, issue_token, token_signing_key, verify_token
from domain.errors import Unauthorized

SECRET = b"s" * 32
NOW = dt.datetime(2026, 12, 4, 8, 0, tzinfo=dt.UTC)
STAFF = Principal(subject="staff:7", role=Role.STAFF, department="housing")


def refused_code(token: str, *, now: dt.datetime = NOW, secret: bytes = SECRET) -> str:
    with pytest.raises(Unauthorized) as caught:
        verify_token(token, secret=secret, now=now)
    return caught.value.code


def test_a_token_round_trips_with_role_department_and_expiry() -> None:
    principal = verify_token(issue_token(STAFF, secret=SECRET, now=NOW), secret=SECRET, now=NOW)
    assert (principal.subject, principal.role, principal.department) == ("staff:7", Role.STAFF, "housing")
    assert principal.expires_at == int((NOW + TOKEN_TTL).timestamp())


def test_an_expired_token_is_refused_as_expired() -> None:
    token = issue_token(STAFF, secret=SECRET, now=NOW)
    assert refused_code(token, now=NOW + TOKEN_TTL + dt.timedelta(seconds=1)) == "token_expired"


def test_another_servers_secret_and_a_changed_claim_are_refused() -> None:
    token = issue_token(STAFF, secret=SECRET, now=NOW)
    assert refused_code(token, secret=b"x" * 32) == "invalid_token"
    header, body, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["role"] = "admin"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert refused_code(f"{header}.{forged}.{signature}") == "invalid_token"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        "a.b.c",
        jwt.encode({"subject": "x", "role": "admin", "exp": 4102444800}, key="", algorithm="none"),
        jwt.encode({"subject": "x", "role": "admin", "exp": 4102444800}, SECRET, algorithm="HS512"),
        jwt.encode(
            {"subject": "x", "role": "admin", "exp": 4102444800}, SECRET, algorithm="HS256"
        ),  # raw key
        jwt.encode({"subject": "x", "role": "admin"}, token_signing_key(SECRET), algorithm="HS256"),  # no exp
        jwt.encode({"subject": "x", "role": "emperor", "exp": 4102444800}, token_signing_key(SECRET)),
    ],
)
def test_forged_or_malformed_tokens_are_refused(token: str) -> None:
    assert refused_code(token) == "invalid_token"
