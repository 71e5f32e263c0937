"""The night-work permit check the noise rules need, guarded: if the permits context is not there
(or its query fails), the bridge treats the site as having no permit, which raises the stricter
alarm, and says so in the log once."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Stretch = tuple[dt.datetime, dt.datetime]
Lookup = Callable[[str, dt.datetime, dt.datetime], Awaitable[list[Stretch]]]
_lookup: Lookup | None
try:
    from domain.permits.services import permitted_stretches as _imported

    _lookup = _imported
except ImportError:  # the permits context is optional for the bridge
    _lookup = None
_warned = False


async def night_permit_lookup(site_code: str, since: dt.datetime, until: dt.datetime) -> list[Stretch]:
    """The site's permitted night stretches within ``[since, until)``; none when unknown."""
    global _warned  # noqa: PLW0603 - warn once per process
    if _lookup is None:
        if not _warned:
            log.warning("domain.permits is not available: night noise is judged as without a permit")
            _warned = True
        return []
    try:
        return await _lookup(site_code, since, until)
    except Exception:
        # Fail closed towards the stricter alarm; the permit check is advisory for severity only.
        log.exception("night permit lookup failed for %s", site_code)
        return []
