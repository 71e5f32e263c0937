"""Site-manager bindings: staff or the enterprise admin issue a one-time code for a site; a site
manager binds with project code + code (bot, mini-program, or a ``bind:<token>`` QR scene)."""

from __future__ import annotations

import contextlib
import datetime as dt

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from domain.alerts.models import BindingCode, SiteBinding
from domain.alerts.rules import BINDING_CODE_TTL, hash_binding_code, new_binding_code
from domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from domain.projects.models import Site
from domain.projects.rules import normalise_project_code


async def issue_binding_code(
    *, site_code: str, issued_by: str, at: dt.datetime, enterprise_uscc: str | None = None
) -> dict[str, str]:
    """Returns the plain code once; only its hash is stored. ``enterprise_uscc`` set means an
    enterprise admin issues it, who may do so only for sites of projects their enterprise builds."""
    site = (
        await Site.filter(code=site_code.strip().upper())
        .select_related("project", "project__developer", "project__contractor")
        .first()
    )
    if site is None:
        raise NotFound(f"no site {site_code}", code="site_not_found")
    if enterprise_uscc is not None:
        owners = {e.uscc for e in (site.project.developer, site.project.contractor) if e is not None}
        if enterprise_uscc not in owners:
            raise Forbidden("your enterprise does not build this site", code="site_not_yours")
    code = new_binding_code()
    await BindingCode.create(
        code_hash=hash_binding_code(code),
        project_code=site.project.code,
        site_code=site.code,
        issued_by=issued_by,
        issued_at=at,
        expires_at=at + BINDING_CODE_TTL,
    )
    return {
        "code": code,
        "site_code": site.code,
        "project_code": site.project.code,
        "expires_at": (at + BINDING_CODE_TTL).isoformat(),
        "qr_scene": f"bind:{code}",
    }


async def bind_site(
    *, openid: str, code: str, at: dt.datetime, project_code: str | None = None
) -> dict[str, str]:
    """Consume the code (exactly once, even under concurrent use) and bind the manager to its site."""
    if not openid:
        raise ValidationFailed("an openid is required", code="invalid_openid")
    code_hash = hash_binding_code(code)
    async with in_transaction():
        row = await BindingCode.filter(code_hash=code_hash).select_for_update().first()
        if row is None or (project_code and normalise_project_code(project_code) != row.project_code):
            raise NotFound("no such binding code for this project", code="binding_code_not_found")
        if row.used_at is not None:
            raise Conflict("this binding code has already been used", code="binding_code_used")
        if row.expires_at <= at:
            raise Conflict("this binding code has expired", code="binding_code_expired")
        used = await BindingCode.filter(id=row.id, used_at__isnull=True).update(used_at=at, used_by=openid)
        if not used:
            raise Conflict("this binding code has already been used", code="binding_code_used")
    # Already bound to this site: binding twice is a no-op for the manager.
    if not await SiteBinding.exists(site_code=row.site_code, openid=openid):
        with contextlib.suppress(IntegrityError):  # a concurrent bind of the same manager won
            await SiteBinding.create(
                site_code=row.site_code, project_code=row.project_code, openid=openid, bound_at=at
            )
    return {"site_code": row.site_code, "project_code": row.project_code}


async def unbind_site(*, openid: str, site_code: str) -> bool:
    return bool(await SiteBinding.filter(openid=openid, site_code=site_code.strip().upper()).delete())


async def sites_of(openid: str) -> list[str]:
    rows = await SiteBinding.filter(openid=openid).order_by("site_code").values_list("site_code", flat=True)
    return [str(row) for row in rows]
