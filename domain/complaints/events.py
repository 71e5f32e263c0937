"""Events the complaints context publishes (consumers are idempotent on ``event_id``).

``ComplaintUpheld``: staff confirmed a violation behind a complaint. Payload:
``{"ticket_id", "project_code", "site_code", "nuisance_type", "upheld_by", "at"}``; the event id is
``complaint-upheld-<ticket_no>``, so a ticket is upheld against a site at most once.
"""

from __future__ import annotations

COMPLAINT_UPHELD = "ComplaintUpheld"
UPHELD_PAYLOAD_KEYS = ("ticket_id", "project_code", "site_code", "nuisance_type", "upheld_by", "at")
