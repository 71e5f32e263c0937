"""Shared builders for the approvals integration tests: principals, files, a full set of materials."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from pypdf import PdfWriter

from adapters.config_files import load_approval_catalogue
from adapters.media_store import LocalMediaStore
from adapters.memory import MemoryEventBus
from adapters.uploads import sniff_type
from config.settings import REPO_ROOT
from domain.accounts.rules import Principal, Role
from domain.approvals.services import ApprovalsEnv, Upload
from domain.calendar.rules import SHANGHAI, WorkingCalendar

USCC_A = "91331081MA2AB1234B"
USCC_B = "91331081MA2AC56787"
OPENID_A = "oENTERPRISE-A-0000001"
PROJECT = "WL-2026-0031"
MB = 1024 * 1024
FIELDS = {
    "project_name": "城东安置房二期",
    "applicant_uscc": USCC_A,
    "area_m2": 12000,
    "investment_wan": 8000,
    "planned_start": "2026-03-01",
    "planned_end": "2027-12-31",
}
# Tuesday 2026-02-10, 09:00 in Wenling: the Spring Festival break (02-15..02-23) is ahead.
T0 = dt.datetime(2026, 2, 10, 9, 0, tzinfo=SHANGHAI).astimezone(dt.UTC)

ENTERPRISE_A = Principal(subject="11", role=Role.ENTERPRISE, enterprise_uscc=USCC_A, openid=OPENID_A)
ENTERPRISE_B = Principal(subject="12", role=Role.ENTERPRISE, enterprise_uscc=USCC_B)


def staff(department: str, subject: str = "21") -> Principal:
    return Principal(subject=subject, role=Role.STAFF, department=department)


def make_env(tmp_path: Path, *, max_file_bytes: int = 10 * MB) -> ApprovalsEnv:
    return ApprovalsEnv(
        catalogue=load_approval_catalogue(REPO_ROOT / "config" / "approvals.yml"),
        calendar=WorkingCalendar(),
        media=LocalMediaStore(tmp_path / "media"),
        bus=MemoryEventBus(),
        max_file_bytes=max_file_bytes,
    )


def make_pdf(title: str, *, pages: int = 1, password: str | None = None) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Title": title})
    if password:
        writer.encrypt(password)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def upload(key: str, data: bytes, filename: str | None = None) -> Upload:
    return Upload(key=key, filename=filename or f"{key}.pdf", data=data, sniffed_kind=sniff_type(data))


PERMIT_MATERIALS = (
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


def permit_uploads(version: str = "v1") -> list[Upload]:
    return [upload(key, make_pdf(f"{key}-{version}")) for key in PERMIT_MATERIALS]
