"""Shared by the approval use cases: the environment they run in, who may see what, the timeline."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q

from domain.accounts import services as accounts
from domain.accounts.rules import Principal, Role
from domain.approvals.catalogue import Catalogue, Stage
from domain.approvals.models import Application, ReviewTask, TimelineEntry
from domain.approvals.rules import ApplicationStatus
from domain.calendar.rules import SHANGHAI, WorkingCalendar
from domain.errors import Conflict, Forbidden, NotFound
from domain.ports import EventBus

EDITABLE = (ApplicationStatus.DRAFT, ApplicationStatus.CORRECTION_REQUIRED)


class BlobStore(Protocol):
    """The media store port (``adapters.media_store.MediaStore``): content-addressed, idempotent."""

    async def put(self, data: bytes, *, content_type: str) -> str: ...

    async def get(self, ref: str) -> bytes: ...


@dataclass(frozen=True, slots=True)
class ApprovalsEnv:
    """What the use cases need from the composition root."""

    catalogue: Catalogue
    calendar: WorkingCalendar
    media: BlobStore
    bus: EventBus
    max_file_bytes: int


def shanghai_iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(SHANGHAI).isoformat(timespec="seconds") if moment else None


# --- access ------------------------------------------------------------------------------------------


def enterprise_of(principal: Principal) -> str:
    if principal.role is not Role.ENTERPRISE or not principal.enterprise_uscc:
        raise Forbidden(
            "only an enterprise account bound to an enterprise may do this", code="not_enterprise"
        )
    return principal.enterprise_uscc


async def load_visible(
    principal: Principal, code: str, *, conn: BaseDBAsyncClient | None = None, lock: bool = False
) -> Application:
    """The application if this principal may see it; otherwise 404 (existence is not revealed)."""
    query = Application.filter(code=code.strip().upper())
    if conn is not None:
        query = query.using_db(conn)
    if lock:
        query = query.select_for_update()
    application = await query.first()
    if application is None or not await _may_see(principal, application):
        raise NotFound("no such application", code="application_not_found")
    return application


async def _may_see(principal: Principal, application: Application) -> bool:
    if principal.role is Role.ADMIN:
        return True
    if principal.role is Role.ENTERPRISE:
        return bool(principal.enterprise_uscc) and principal.enterprise_uscc == application.enterprise_uscc
    if principal.role is Role.STAFF and principal.department:
        return await ReviewTask.filter(
            application_id=application.id, department=principal.department
        ).exists()
    return False


async def list_own(principal: Principal, *, limit: int = 200) -> list[Application]:
    uscc = enterprise_of(principal)
    return await Application.filter(enterprise_uscc=uscc).order_by("-id").limit(limit)


async def find_by_code(code: str) -> Application | None:
    """For the public progress query (办件查询) by application number: no identity needed."""
    return await Application.filter(code=code.strip().upper()).first()


async def find_by_openid(openid: str, *, limit: int = 5) -> list[Application]:
    """The applications of this WeChat user: those notified at this openid, and those of the enterprise
    the account with this openid is bound to. Newest first."""
    if not openid:
        return []
    uscc = await accounts.enterprise_of_openid(openid)
    usccs = [uscc] if uscc else []
    query = Application.filter(Q(notify_openid=openid) | Q(enterprise_uscc__in=usccs))
    return await query.order_by("-id").limit(limit)


async def add_timeline(
    application: Application,
    *,
    actor: str,
    action: str,
    at: dt.datetime,
    conn: BaseDBAsyncClient,
    **detail: Any,
) -> None:
    await TimelineEntry.create(
        application=application, actor=actor, action=action, at=at, detail=detail, using_db=conn
    )


def actor_of(principal: Principal) -> str:
    if principal.role is Role.ENTERPRISE:
        return f"enterprise:{principal.enterprise_uscc}"
    return f"{principal.role.value}:{principal.department or '-'}:{principal.subject}"


def stage_of(env: ApprovalsEnv, application: Application) -> Stage:
    stage = env.catalogue.stage(application.stage)
    if stage is None:
        raise Conflict(f"stage {application.stage} is no longer in the catalogue", code="unknown_stage")
    return stage
