"""Reading the audit trail (entries are written by the services that change records)."""

from __future__ import annotations

from typing import Any

from domain.audit.models import AuditEntry


async def entries(*, entity: str, key: str, limit: int) -> list[dict[str, Any]]:
    query = AuditEntry.all()
    if entity:
        query = query.filter(entity=entity)
    if key:
        query = query.filter(key=key)
    rows = (
        await query.order_by("-id")
        .limit(limit)
        .values("id", "at", "actor", "entity", "key", "action", "before", "after", "source")
    )
    return [row | {"at": row["at"].isoformat()} for row in rows]
