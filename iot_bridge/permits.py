"""The night-work permit check the noise rules need, guarded: if the permits context is not there
(or its query fails), the bridge treats the site as having no permit, which raises the stricter
alarm, and says so in the log once."""

from __future__ import annotations

import datetime as dt
import logging

from domain.permits.cache import BulkStretchLookup, Stretch, StretchLookup

log = logging.getLogger(__name__)

_lookup: StretchLookup | None
_bulk_lookup: BulkStretchLookup | None
try:
    from domain.permits.services import permitted_stretches, permitted_stretches_by_site

    _lookup, _bulk_lookup = permitted_stretches, permitted_stretches_by_site
except ImportError:  # the permits context is optional for the bridge
    _lookup = _bulk_lookup = None
_warned = False


def _warn_once() -> None:
    global _warned  # noqa: PLW0603 - warn once per process
    if not _warned:
        log.warning("domain.permits is not available: night noise is judged as without a permit")
        _warned = True


async def night_permit_lookup(site_code: str, since: dt.datetime, until: dt.datetime) -> list[Stretch]:
    """The site's permitted night stretches within ``[since, until)``; none when unknown."""
    if _lookup is None:
        _warn_once()
        return []
    try:
        return await _lookup(site_code, since, until)
    except Exception:
        # Fail closed towards the stricter alarm; the permit check is advisory for severity only.
        log.exception("night permit lookup failed for %s", site_code)
        return []


async def night_permit_bulk_lookup(
    site_codes: list[str], since: dt.datetime, until: dt.datetime
) -> dict[str, list[Stretch]]:
    """The same for many sites in one query (none without the permits context). A failed query
    raises: the caller caches nothing, and each site asks alone when its reading comes."""
    if _bulk_lookup is None:
        _warn_once()
        return {}
    return await _bulk_lookup(site_codes, since, until)
