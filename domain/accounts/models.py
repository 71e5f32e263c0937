"""Accounts: staff and enterprise logins, WeChat users (by openid) and their roles."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from domain.accounts.rules import Role


class Account(Model):
    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=64, unique=True, null=True)
    password_hash = fields.CharField(max_length=200, default="")
    openid = fields.CharField(max_length=64, unique=True, null=True, description="mini-program openid")
    role = fields.CharEnumField(Role, max_length=16)
    department = fields.CharField(max_length=32, default="")
    enterprise_uscc = fields.CharField(max_length=18, default="")
    display_name = fields.CharField(max_length=64, default="")
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_login_at = fields.DatetimeField(null=True, description="latest password login (staff)")

    class Meta:
        table = "account"
