"""Tortoise configuration: one Tortoise app per bounded context, each with its own migrations.

Contexts never share tables, so they reference each other by code or id, not by foreign key.
"""

from __future__ import annotations

from typing import Any

# Each context that owns tables: its models module and its migrations package. Order matters only
# for readability.
CONTEXT_APPS: dict[str, str] = {
    "accounts": "domain.accounts",
    "projects": "domain.projects",
    "alerts": "domain.alerts",
    "credit": "domain.credit",
    "notifications": "domain.notifications",
    "approvals": "domain.approvals",
    "complaints": "domain.complaints",
    "permits": "domain.permits",
    "emergency": "domain.emergency",
    "conversations": "domain.conversations",
    "exchange": "domain.exchange",
    "audit": "domain.audit",
    "outbox": "domain.outbox",
    "evidence": "domain.evidence",
    "iot": "domain.iot",
    "vision": "domain.vision",
}


def tortoise_config(database_url: str) -> dict[str, Any]:
    url = database_url
    if url.startswith(("postgresql://", "postgres://")):
        url = "asyncpg://" + url.split("://", 1)[1]
    return {
        "connections": {"default": url},
        "apps": {
            label: {
                "models": [f"{package}.models"],
                "migrations": f"{package}.migrations",
                "default_connection": "default",
            }
            for label, package in CONTEXT_APPS.items()
        },
        "use_tz": True,
        "timezone": "UTC",
    }
