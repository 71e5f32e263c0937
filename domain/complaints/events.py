"""Events the complaints context publishes (consumers are idempotent on ``event_id``).

``ComplaintUpheld``: staff confirmed a violation behind a complaint. Payload:
``{"ticket_id", "project_code", "site_code", "nuisance_type", "upheld_by", "at"}``; the event id is
``complaint-upheld-<ticket_no>``, so a ticket is upheld against a site at most once.

``ComplaintRecorded``: a step a citizen may later dispute (a reply, a closure, a refusal, a rating or a
reopening), written with the step for the evidence log. Payload: ``{"ticket_id", "action", "state",
"actor_role", "actor_id", "note_sha256", "at"}``; ``actor_id`` is pseudonymised in the leaf, and the note
(the reply's words) is bound by its SHA-256 only.
"""

from __future__ import annotations

COMPLAINT_UPHELD = "ComplaintUpheld"
COMPLAINT_RECORDED = "ComplaintRecorded"
UPHELD_PAYLOAD_KEYS = ("ticket_id", "project_code", "site_code", "nuisance_type", "upheld_by", "at")
