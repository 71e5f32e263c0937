"""Issuing device MQTT logins and writing the broker's password and ACL files from them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from domain.audit.models import AuditEntry
from domain.errors import NotFound
from domain.projects.device_credentials_rules import (
    DeviceLogin,
    acl_file,
    mosquitto_hash,
    new_hj212_password,
    new_password,
    password_file,
)
from domain.projects.models import Device, DeviceCredential
from domain.projects.services import set_device_password


@dataclass(frozen=True, slots=True)
class IssuedLogin:
    """Returned once: the password is not stored anywhere."""

    device_code: str
    site_code: str
    username: str
    password: str
    topic: str


async def _existing_device(device_code: str) -> Device:
    """The device, or NotFound: a code that cannot be a device's (too long for the column, control
    characters) is not looked up at all, since the ORM refuses such a value with an internal error."""
    code_length = Device._meta.fields_map["code"].max_length  # type: ignore[attr-defined]
    device = None
    if 0 < len(device_code) <= code_length and device_code.isprintable():
        device = await Device.get_or_none(code=device_code).prefetch_related("site")
    if device is None:
        raise NotFound(f"设备 {device_code[:40]!r} 不存在", code="registry_record_not_found")
    return device


async def issue_mqtt_login(device_code: str, *, actor: str, now: dt.datetime) -> IssuedLogin:
    """A new password for the device (the old one stops working once the broker files are rewritten)."""
    device = await _existing_device(device_code)
    password = new_password()
    username = f"dev-{device.code}"
    async with in_transaction():
        await DeviceCredential.update_or_create(
            defaults={"mqtt_username": username, "mqtt_password_hash": mosquitto_hash(password),
                      "issued_at": now, "issued_by": actor[:64]},
            device_code=device.code,
        )  # fmt: skip
        await AuditEntry.create(
            at=now, actor=actor[:64], entity="devices", key=device.code, action="credentials",
            after={"mqtt_username": username}, source="api",
        )  # fmt: skip
    login = DeviceLogin(username, "", device.site.code, device.device_type.value, device.code)
    return IssuedLogin(
        device.code, device.site.code, username, password, login.topic_filter.removesuffix("#")
    )


async def issue_hj212_password(device_code: str, *, actor: str, now: dt.datetime) -> str:
    """A new HJ 212 PW for the device, returned once and stored sealed (the old one stops working)."""
    device = await _existing_device(device_code)
    password = new_hj212_password()
    async with in_transaction():
        await set_device_password(device.code, password)
        await AuditEntry.create(
            at=now, actor=actor[:64], entity="devices", key=device.code, action="credentials",
            after={"hj212_password": "issued"}, source="api",
        )  # fmt: skip
    return password


async def device_logins() -> list[DeviceLogin]:
    hashes = {c.device_code: c for c in await DeviceCredential.all()}
    devices = await Device.filter(code__in=list(hashes), enabled=True).prefetch_related("site")
    return [
        DeviceLogin(hashes[d.code].mqtt_username, hashes[d.code].mqtt_password_hash, d.site.code,
                    d.device_type.value, d.code)
        for d in sorted(devices, key=lambda d: d.code)
    ]  # fmt: skip


async def broker_files(*, bridge_username: str, bridge_password_hash: str) -> tuple[str, str]:
    """(password_file, acl_file) for Mosquitto; retired devices are left out, so they are locked out."""
    logins = await device_logins()
    return (
        password_file(logins, services=[(bridge_username, bridge_password_hash)]),
        acl_file(logins, bridge_username=bridge_username),
    )
