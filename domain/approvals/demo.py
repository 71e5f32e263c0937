"""Demo data for embedded mode: application SP2026-0412 (施工许可) under parallel review, so that the
bot's "SP2026-0412 办到哪了" and the staff queues have something real to show."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import logging

from pypdf import PdfWriter

from domain.accounts.rules import Principal, Role
from domain.approvals import materials, services
from domain.approvals.access import ApprovalsEnv
from domain.approvals.models import Application, ApplicationSequence
from domain.calendar.rules import SHANGHAI

log = logging.getLogger(__name__)

DEMO_CODE = "SP2026-0412"
DEMO_SUBMITTED_AT = dt.datetime(2026, 11, 16, 9, 30, tzinfo=SHANGHAI)
DEMO_FIELDS = {
    "project_name": "城东安置房二期",
    "area_m2": 12800,
    "investment_wan": 9600,
    "planned_start": "2026-12-01",
    "planned_end": "2028-06-30",
}
DEMO_MATERIALS = (
    "business_license",
    "construction_drawings",
    "survey_report",
    "site_plan",
    "fire_design",
    "construction_contract",
    "supervision_contract",
    "safety_license",
    "hazardous_works_list",
    "building_permit",
    "funding_proof",
)


def _demo_pdfs() -> list[tuple[str, bytes]]:
    files = []
    for key in DEMO_MATERIALS:
        writer = PdfWriter()
        writer.add_blank_page(width=595, height=842)
        writer.add_metadata({"/Title": f"demo {key}"})
        buffer = io.BytesIO()
        writer.write(buffer)
        files.append((key, buffer.getvalue()))
    return files


async def seed_demo_applications(env: ApprovalsEnv, *, enterprise_uscc: str, project_code: str) -> str | None:
    """Idempotent: creates SP2026-0412 once; returns its code, or None when it exists or cannot be made."""
    if await Application.filter(code=DEMO_CODE).exists():
        return None
    sequence, _ = await ApplicationSequence.get_or_create(year=2026)
    if sequence.last_number > 411:
        log.info("demo application skipped: SP2026 numbers are already past 0411")
        return None
    sequence.last_number = 411
    await sequence.save()
    enterprise = Principal(subject="demo", role=Role.ENTERPRISE, enterprise_uscc=enterprise_uscc)
    now = DEMO_SUBMITTED_AT.astimezone(dt.UTC)
    fields = DEMO_FIELDS | {"applicant_uscc": enterprise_uscc}
    draft = await services.create_draft(
        env, enterprise, project_code=project_code, stage="construction_permit", fields=fields, now=now
    )
    uploads = [
        materials.Upload(key=key, filename=f"{key}.pdf", data=data, sniffed_kind="pdf")
        for key, data in await asyncio.to_thread(_demo_pdfs)
    ]
    await materials.upload_materials(env, enterprise, draft.code, uploads=uploads, now=now)
    await services.submit(env, enterprise, draft.code, now=now)
    log.info("demo application %s seeded for project %s", draft.code, project_code)
    return draft.code
