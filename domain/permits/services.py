"""Night-work permit use cases: register, list, revoke, and the question every noise check asks:
"does this site have a night permit right now?" (``active_night_permit``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from domain.errors import Conflict, NotFound, ValidationFailed
from domain.permits.models import NightWorkPermit
from domain.permits.rules import CERTIFICATE_RE, PermitWindow, parse_hhmm
from domain.projects.models import Site


def _window(permit: NightWorkPermit) -> PermitWindow:
    return PermitWindow(
        permit.valid_from, permit.valid_to, parse_hhmm(permit.night_start), parse_hhmm(permit.night_end)
    )


def permit_view(permit: NightWorkPermit) -> dict[str, Any]:
    return {
        "id": permit.id,
        "certificate_no": permit.certificate_no,
        "site_code": permit.site_code,
        "valid_from": permit.valid_from.isoformat(),
        "valid_to": permit.valid_to.isoformat(),
        "night_start": permit.night_start,
        "night_end": permit.night_end,
        "works": permit.works,
        "issued_by": permit.issued_by,
        "notice_posted": permit.notice_posted,
        "notice_ref": permit.notice_ref,
        "revoked": permit.revoked_at is not None,
    }


async def register_permit(
    *,
    certificate_no: str,
    site_code: str,
    window: PermitWindow,
    works: str,
    issued_by: str,
    notice_posted: bool,
    notice_ref: str,
    created_by: str,
) -> dict[str, Any]:
    certificate_no = certificate_no.strip()
    if not CERTIFICATE_RE.match(certificate_no):
        raise ValidationFailed(
            "certificate_no: 4-40 letters, digits or dashes", code="invalid_certificate_no"
        )
    if not await Site.exists(code=site_code):
        raise NotFound(f"no site with code {site_code}", code="site_not_found")
    if await NightWorkPermit.exists(certificate_no=certificate_no):
        raise Conflict(f"permit {certificate_no} is already registered", code="permit_exists")
    permit = await NightWorkPermit.create(
        certificate_no=certificate_no,
        site_code=site_code,
        valid_from=window.valid_from,
        valid_to=window.valid_to,
        night_start=window.start.strftime("%H:%M"),
        night_end=window.end.strftime("%H:%M"),
        works=works[:200],
        issued_by=issued_by,
        notice_posted=notice_posted,
        notice_ref=notice_ref[:80],
        created_by=created_by,
    )
    return permit_view(permit)


async def list_permits(*, site_code: str = "", limit: int = 50) -> list[dict[str, Any]]:
    queryset = NightWorkPermit.all()
    if site_code:
        queryset = queryset.filter(site_code=site_code)
    return [permit_view(p) for p in await queryset.order_by("-valid_from", "-id").limit(limit)]


MAX_ID = 2**31 - 1


async def _permit(permit_id: int) -> NightWorkPermit:
    permit = await NightWorkPermit.get_or_none(id=permit_id) if 1 <= permit_id <= MAX_ID else None
    if permit is None:
        raise NotFound("no such permit", code="permit_not_found")
    return permit


async def get_permit(permit_id: int) -> dict[str, Any]:
    return permit_view(await _permit(permit_id))


async def revoke_permit(permit_id: int, *, now: dt.datetime) -> dict[str, Any]:
    permit = await _permit(permit_id)
    if permit.revoked_at is None:
        permit.revoked_at = now
        await permit.save(update_fields=["revoked_at"])
    return permit_view(permit)


async def permitted_stretches(
    site_code: str, since: dt.datetime, until: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Every stretch of ``[since, until)`` when a valid permit lets this site work at night (UTC,
    half-open, possibly overlapping): what the hot paths cache to answer many readings by one query."""
    return (await permitted_stretches_by_site([site_code], since, until)).get(site_code, [])


async def permitted_stretches_by_site(
    site_codes: Iterable[str], since: dt.datetime, until: dt.datetime
) -> dict[str, list[tuple[dt.datetime, dt.datetime]]]:
    """The same for many sites in one query (a bridge warming its cache at start): every site asked
    for is in the answer, those without a permit with no stretch."""
    codes = sorted(set(site_codes))
    if not codes:
        return {}
    candidates = await NightWorkPermit.filter(
        site_code__in=codes,
        revoked_at__isnull=True,
        valid_from__lte=until.astimezone(dt.UTC).date() + dt.timedelta(days=1),
        valid_to__gte=since.astimezone(dt.UTC).date() - dt.timedelta(days=2),
    ).order_by("id")
    stretches: dict[str, list[tuple[dt.datetime, dt.datetime]]] = {code: [] for code in codes}
    for permit in candidates:
        stretches[permit.site_code].extend(_window(permit).nights_between(since, until))
    return {code: sorted(found) for code, found in stretches.items()}


async def active_night_permit(site_code: str, at: dt.datetime) -> dict[str, Any] | None:
    """The permit covering ``at`` at this site, or None. A night in Asia/Shanghai can start the day before.
    ``covers_from`` and ``covers_until`` bound tonight's window: no cache may trust the answer outside it."""
    utc_day = at.astimezone(dt.UTC).date()
    # Candidates by a generous date range first (the Shanghai night may have begun the UTC day before),
    # then the exact window in Asia/Shanghai.
    candidates = await NightWorkPermit.filter(
        site_code=site_code,
        revoked_at__isnull=True,
        valid_from__lte=utc_day + dt.timedelta(days=1),
        valid_to__gte=utc_day - dt.timedelta(days=2),
    ).order_by("id")
    for permit in candidates:
        window = _window(permit)
        if window.covers(at):
            bounds = {
                "covers_from": window.night_start(at).isoformat(),
                "covers_until": window.night_end(at).isoformat(),
            }
            return permit_view(permit) | bounds
    return None
