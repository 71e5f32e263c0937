"""Pure identity rules: roles, the principal a request acts as, signed bearer tokens, password hashes.

Tokens are JWTs (HS256, through PyJWT, which compares signatures in constant time): stateless, so
any API process can verify them. Expiry is checked against the ``now`` handed in, so the rule stays a
pure function of its arguments.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import asdict, dataclass
from enum import StrEnum

import jwt

from domain.errors import Forbidden, Unauthorized

TOKEN_TTL = dt.timedelta(hours=12)
TOKEN_ALGORITHM = "HS256"  # noqa: S105 - an algorithm name, not a secret


class Role(StrEnum):
    CITIZEN = "citizen"
    ENTERPRISE = "enterprise"
    SITE_MANAGER = "site_manager"
    STAFF = "staff"
    ADMIN = "admin"


class Department(StrEnum):
    """Departments that staff belong to; queues and review tasks are scoped by these."""

    HOUSING = "housing"  # 住建局
    PLANNING = "planning"  # 自然资源和规划局
    DEVELOPMENT = "development"  # 发改局
    ENVIRONMENT = "environment"  # 生态环境局
    FIRE = "fire"  # 消防救援
    CIVIL_DEFENCE = "civil_defence"  # 人防办
    ARCHIVES = "archives"  # 档案馆
    TRANSPORT = "transport"  # 交通运输局
    POLICE = "police"  # 公安
    EMERGENCY = "emergency"  # 应急管理局
    HEALTH = "health"  # 卫生健康局 (120 急救)
    URBAN_MANAGEMENT = "urban_management"  # 综合行政执法局


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts as. ``subject`` is an account id or a masked-at-log-time openid."""

    subject: str
    role: Role
    department: str = ""
    enterprise_uscc: str = ""
    openid: str = ""
    expires_at: int = 0

    def is_staff(self) -> bool:
        return self.role in (Role.STAFF, Role.ADMIN)

    def may_edit_registry(self) -> bool:
        """The registry (projects, sites, devices, cameras) is the housing bureau's (住建局) to keep;
        other departments read it."""
        return self.role is Role.ADMIN or (self.role is Role.STAFF and self.department == Department.HOUSING)


def authorize(principal: Principal, roles: frozenset[Role] | set[Role] | tuple[Role, ...]) -> Principal:
    """The one role rule of every door (API bearer tokens and console sessions): the principal's role
    must be one of ``roles``; an admin may do everything. Department scoping stays in the services."""
    if principal.role is not Role.ADMIN and principal.role not in roles:
        raise Forbidden("your role may not do this", code="forbidden_role")
    return principal


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def token_signing_key(secret: bytes) -> bytes:
    # A key of its own for tokens (domain separation from the other uses of SECRET_KEY), and always
    # the 32 bytes HS256 wants, whatever the configured secret's length.
    return hmac.new(secret, b"wenling bearer token v1", hashlib.sha256).digest()


def issue_token(principal: Principal, *, secret: bytes, now: dt.datetime) -> str:
    claims = asdict(principal) | {"exp": int((now + TOKEN_TTL).timestamp())}
    claims.pop("expires_at")
    return jwt.encode(claims, token_signing_key(secret), algorithm=TOKEN_ALGORITHM)


def verify_token(token: str, *, secret: bytes, now: dt.datetime) -> Principal:
    try:
        # Only HS256 is accepted (no "none", no algorithm confusion); expiry is judged against ``now``.
        claims = jwt.decode(
            token,
            token_signing_key(secret),
            algorithms=[TOKEN_ALGORITHM],
            options={"verify_exp": False, "require": ["exp"]},
        )
        expires_at = int(claims.pop("exp"))
        principal = Principal(**{**claims, "role": Role(claims["role"]), "expires_at": expires_at})
    except (jwt.InvalidTokenError, ValueError, TypeError, KeyError) as error:
        raise Unauthorized("invalid token", code="invalid_token") from error
    if principal.expires_at < now.timestamp():
        raise Unauthorized("token expired", code="token_expired")
    return principal


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${_b64(salt)}${_b64(digest)}"


def check_password(password: str, stored: str) -> bool:
    scheme, _, rest = stored.partition("$")
    salt_text, _, digest_text = rest.partition("$")
    if scheme != "scrypt" or not digest_text:
        return False
    digest = hashlib.scrypt(password.encode(), salt=_unb64(salt_text), n=2**14, r=8, p=1)
    return hmac.compare_digest(digest, _unb64(digest_text))


def mask_openid(openid: str) -> str:
    """Logs show enough of an openid to correlate lines, never the whole identifier."""
    if len(openid) <= 8:
        return "***"
    return f"{openid[:4]}***{openid[-4:]}"
