"""Events the approvals context publishes (stream ``events.<name>``); payloads are JSON-serialisable.

- ``ApplicationSubmitted``: ``{"code", "project_code", "stage", "round", "departments", "at"}``
- ``CorrectionNoticeIssued``: ``{"code", "project_code", "round", "departments", "at"}``
- ``ApplicationDecided``: ``{"code", "project_code", "stage", "status", "reason", "at"}``
"""

from __future__ import annotations

APPLICATION_SUBMITTED = "ApplicationSubmitted"
CORRECTION_NOTICE_ISSUED = "CorrectionNoticeIssued"
APPLICATION_DECIDED = "ApplicationDecided"
