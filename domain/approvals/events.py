"""Events the approvals context publishes (stream ``events.<name>``); payloads are JSON-serialisable.

- ``ApplicationSubmitted``: ``{"code", "project_code", "stage", "round", "departments",
  "material_versions", "file_refs", "at"}``
- ``CorrectionNoticeIssued``: ``{"code", "project_code", "material_versions", "file_refs", "round",
  "departments", "at"}``
- ``ApplicationDecided``: ``{"code", "project_code", "material_versions", "file_refs", "stage",
  "status", "reason", "at"}``

``material_versions`` maps each material key to the version decided on; ``file_refs`` are those
versions' media refs, which the evidence log binds by SHA-256.
"""

from __future__ import annotations

APPLICATION_SUBMITTED = "ApplicationSubmitted"
CORRECTION_NOTICE_ISSUED = "CorrectionNoticeIssued"
APPLICATION_DECIDED = "ApplicationDecided"
