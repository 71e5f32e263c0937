"""Pure rules for device credentials: one-time passwords, the Mosquitto password-file hash, and the
ACL that lets each device publish only under its own topic.

The database keeps only the hash (Mosquitto's ``$7$`` PBKDF2-SHA512 format, which the broker reads
directly), so the password is shown once, when it is issued, and a leaked database signs in nobody.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

MOSQUITTO_ITERATIONS = 101  # mosquitto_passwd's default for $7$
MOSQUITTO_SALT_BYTES = 12
TOPIC_ROOT = "wenling"


def new_password() -> str:
    """24 URL-safe characters (144 bits): typed once into a monitor's configuration page."""
    return secrets.token_urlsafe(18)


# Letters and digits that cannot be misread on a screen (no 0/O, 1/l/I).
HJ212_PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"  # noqa: S105


def new_hj212_password() -> str:
    """Nine letters and digits (about 52 bits): monitors' configuration screens often take no more,
    and none of HJ 212's separators (; , = &) can appear."""
    return "".join(secrets.choice(HJ212_PASSWORD_ALPHABET) for _ in range(9))


def mosquitto_hash(password: str, *, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(MOSQUITTO_SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, MOSQUITTO_ITERATIONS)
    encoded_salt = base64.b64encode(salt).decode()
    return f"$7${MOSQUITTO_ITERATIONS}${encoded_salt}${base64.b64encode(digest).decode()}"


@dataclass(frozen=True, slots=True)
class DeviceLogin:
    username: str
    password_hash: str
    site_code: str
    device_type: str
    device_code: str

    @property
    def topic_filter(self) -> str:
        return f"{TOPIC_ROOT}/{self.site_code}/{self.device_type}/{self.device_code}/#"


def password_file(logins: Iterable[DeviceLogin], *, services: Iterable[tuple[str, str]] = ()) -> str:
    """``username:hash`` lines for Mosquitto's ``password_file``; services are (username, hash)."""
    lines = [f"{name}:{hashed}" for name, hashed in services]
    lines += [f"{login.username}:{login.password_hash}" for login in logins]
    return "\n".join(lines) + "\n"


def acl_file(logins: Iterable[DeviceLogin], *, bridge_username: str) -> str:
    """The bridge reads every device topic; each device writes only its own."""
    blocks = [f"user {bridge_username}\ntopic read {TOPIC_ROOT}/#\n"]
    blocks += [f"user {login.username}\ntopic write {login.topic_filter}\n" for login in logins]
    return "\n".join(blocks)
