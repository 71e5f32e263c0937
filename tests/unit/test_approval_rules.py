"""Pure approval rules: the catalogue, the checklist, submit checks, outcomes, notices and SLA clocks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from adapters.config_files import load_approval_catalogue
from domain.accounts.rules import Department
from domain.approvals.catalogue import CatalogueInvalid, parse_catalogue
from domain.approvals.checks import StoredMaterial, checklist, clean_fields, field_problems, submit_problems
from domain.approvals.clocks import SlaState, due_at, paused_working_days, sla_state
from domain.approvals.inspection import FileFacts, upload_problems
from domain.approvals.rules import (
    ApplicationStatus,
    CorrectionRequest,
    TaskDecision,
    TaskStatus,
    consolidate,
    format_application_code,
    is_application_code,
    next_application_status,
    next_task_status,
    outcome_of,
)
from domain.calendar.rules import SHANGHAI, WorkingCalendar
from domain.errors import Conflict

CATALOGUE = load_approval_catalogue(Path(__file__).resolve().parents[2] / "config" / "approvals.yml")
CALENDAR = WorkingCalendar()
USCC = "91331081MA2AB1234B"
MB = 1024 * 1024
FIELDS = {
    "project_name": "城东安置房",
    "applicant_uscc": USCC,
    "area_m2": 12000.0,
    "investment_wan": 8000.0,
    "planned_start": "2026-03-01",
    "planned_end": "2027-12-31",
}


def pdf(key: str, version: int = 1) -> StoredMaterial:
    return StoredMaterial(key=key, kind="pdf", size=1000, pages=3, version=version)


def test_catalogue_has_the_four_stages_with_lead_departments() -> None:
    assert [s.name for s in CATALOGUE.stages] == ["立项用地规划许可", "工程建设许可", "施工许可", "竣工验收"]
    permit = CATALOGUE.stage("construction_permit")
    assert permit is not None and permit.lead is Department.HOUSING
    names = {item.name for item in permit.items}
    assert {"施工图审查", "质量安全监督登记"} <= names
    acceptance = CATALOGUE.stage("completion_acceptance")
    assert acceptance is not None and any("联合验收" in i.name for i in acceptance.items)
    assert any(i.name == "竣工验收备案" for i in acceptance.items)


def test_conditional_items_add_parallel_departments_only_when_they_apply() -> None:
    stage = CATALOGUE.stage("construction_permit")
    assert stage is not None
    assert stage.departments({"area_m2": 12000}) == (Department.HOUSING, Department.FIRE)
    assert stage.departments({"area_m2": 3000}) == (Department.HOUSING,)
    assert stage.department_limit(Department.FIRE, {"area_m2": 12000}) == 15


def test_checklist_merges_shared_materials_and_applies_conditions() -> None:
    stage = CATALOGUE.stage("construction_permit")
    assert stage is not None
    small = {**FIELDS, "area_m2": 3000.0, "investment_wan": 1000.0}
    lines = {
        line.key: line for line in checklist(stage, small, {"business_license": pdf("business_license")})
    }
    assert "fire_design" not in lines  # the fire item does not apply under 5000 m²
    assert lines["hazardous_works_list"].applies is False and not lines["hazardous_works_list"].missing
    assert lines["funding_proof"].applies is False
    assert lines["business_license"].uploaded_version == 1 and not lines["business_license"].missing
    assert lines["site_plan"].missing
    assert lines["site_photos"].required is False and not lines["site_photos"].missing
    big = {line.key: line for line in checklist(stage, FIELDS, {})}
    assert big["hazardous_works_list"].missing and big["funding_proof"].missing and big["fire_design"].missing
    assert "总建筑面积>5000平方米" in big["hazardous_works_list"].condition
    unknown = {line.key: line for line in checklist(stage, {}, {})}
    assert unknown["funding_proof"].applies is None and unknown["funding_proof"].missing


def test_submit_problems_lists_everything_at_once() -> None:
    bad_fields = {**FIELDS, "applicant_uscc": "91331081MA2AB1234C", "planned_end": "2026-02-01"}
    uploaded = {
        "survey_report": StoredMaterial(key="survey_report", kind="jpeg", size=10, pages=None, version=1)
    }
    problems = submit_problems(
        catalogue=CATALOGUE,
        stage_key="construction_permit",
        fields=bad_fields,
        uploaded=uploaded,
        max_bytes=10 * MB,
        today=dt.date(2026, 3, 1),
    )
    text = "\n".join(problems)
    assert "checksum" in text
    assert "planned_end: must be after planned_start" in text
    assert "survey_report: unsupported_type" in text
    assert "construction_drawings: 缺少必需材料" in text
    assert "fire_design: 缺少必需材料" in text
    assert len(problems) >= 10


def test_clean_fields_reports_every_bad_value() -> None:
    fields, problems = clean_fields(
        {"area_m2": "-5", "investment_wan": "abc", "planned_start": "2026-13-01", "colour": "red", "area": 1}
    )
    assert fields == {}
    assert len(problems) == 5
    fields, problems = clean_fields(
        {"area_m2": "5200.5", "planned_start": "2026-03-01", "applicant_uscc": "x"}
    )
    assert problems == [] and fields["area_m2"] == 5200.5 and fields["planned_start"] == "2026-03-01"
    assert clean_fields({"area_m2": float("nan")})[1] and clean_fields({"area_m2": True})[1]


def test_field_problems_on_a_good_form_is_empty() -> None:
    assert field_problems(FIELDS, today=dt.date(2026, 3, 1)) == []
    assert "area_m2: required" in field_problems({**FIELDS, "area_m2": None}, today=dt.date(2026, 3, 1))


def test_parallel_outcome_waits_for_every_department() -> None:
    approved, reviewing = TaskStatus.APPROVED, TaskStatus.IN_REVIEW
    assert outcome_of([approved, reviewing, approved]) is None
    assert outcome_of([approved, approved, approved]) is ApplicationStatus.APPROVED
    assert outcome_of([approved, TaskStatus.REJECTED, reviewing]) is ApplicationStatus.REJECTED
    assert outcome_of([TaskStatus.CORRECTION_REQUESTED, reviewing]) is None
    assert outcome_of([TaskStatus.CORRECTION_REQUESTED, approved]) is ApplicationStatus.CORRECTION_REQUIRED


def test_transition_tables_refuse_skips_and_second_decisions() -> None:
    with pytest.raises(Conflict):
        next_application_status(ApplicationStatus.DRAFT, ApplicationStatus.APPROVED)
    with pytest.raises(Conflict):
        next_application_status(ApplicationStatus.APPROVED, ApplicationStatus.SUBMITTED)
    assert next_task_status(TaskStatus.IN_REVIEW, TaskDecision.APPROVE) is TaskStatus.APPROVED
    with pytest.raises(Conflict):
        next_task_status(TaskStatus.APPROVED, TaskDecision.REJECT)


def test_consolidated_notice_merges_departments_and_materials() -> None:
    notice = consolidate(
        [
            CorrectionRequest("housing", "施工图缺少结构计算书", ("construction_drawings",)),
            CorrectionRequest("fire", "消防设计与施工图不一致", ("fire_design", "construction_drawings")),
        ]
    )
    assert [d["department"] for d in notice["departments"]] == ["housing", "fire"]
    by_key = {m["key"]: m["requested_by"] for m in notice["materials"]}
    assert by_key == {"construction_drawings": ["housing", "fire"], "fire_design": ["fire"]}


def test_application_codes() -> None:
    assert format_application_code(2026, 412) == "SP2026-0412"
    assert is_application_code("SP2026-0412") and not is_application_code("SP26-412")


def test_sla_across_spring_festival_and_a_pause() -> None:
    # Submitted Tue 2026-02-10 09:00 Shanghai, 5 working days: 11, 12, 13, 14 (Sat, adjusted), 24.
    start = dt.datetime(2026, 2, 10, 9, 0, tzinfo=SHANGHAI)
    due = due_at(CALENDAR, started_at=start, limit_days=5, paused_days=0)
    assert due.astimezone(SHANGHAI).date() == dt.date(2026, 2, 24)
    # An expert review from Wed 02-11 to Fri 02-13 stops the clock for two working days (12, 13).
    days = paused_working_days(
        CALENDAR,
        paused_at=dt.datetime(2026, 2, 11, 10, 0, tzinfo=SHANGHAI),
        resumed_at=dt.datetime(2026, 2, 13, 16, 0, tzinfo=SHANGHAI),
    )
    assert days == 2
    moved = due_at(CALENDAR, started_at=start, limit_days=5, paused_days=days)
    assert moved.astimezone(SHANGHAI).date() == dt.date(2026, 2, 26)


def test_sla_states() -> None:
    due = dt.datetime(2026, 2, 24, 23, 59, 59, tzinfo=SHANGHAI)

    def state(now: dt.datetime, **kwargs: bool) -> SlaState:
        return sla_state(
            CALENDAR,
            due=due,
            now=now,
            done=kwargs.get("done", False),
            paused=kwargs.get("paused", False),
            due_soon_days=2,
        )

    # 02-13 is 2 working days before 02-24 (14 and 24): due soon, despite 11 calendar days.
    assert state(dt.datetime(2026, 2, 13, 9, 0, tzinfo=SHANGHAI)) is SlaState.DUE_SOON
    assert state(dt.datetime(2026, 2, 11, 9, 0, tzinfo=SHANGHAI)) is SlaState.ON_TRACK
    assert state(dt.datetime(2026, 2, 25, 0, 0, 1, tzinfo=SHANGHAI)) is SlaState.OVERDUE
    assert state(dt.datetime(2026, 2, 25, 9, 0, tzinfo=SHANGHAI), paused=True) is SlaState.PAUSED
    assert state(dt.datetime(2026, 2, 25, 9, 0, tzinfo=SHANGHAI), done=True) is SlaState.DONE


@pytest.mark.parametrize(
    ("facts", "code"),
    [
        (FileFacts(size=0, kind=""), "empty_file"),
        (FileFacts(size=11 * MB, kind="pdf"), "file_too_large"),
        (FileFacts(size=100, kind="exe"), "unsupported_type"),
        (FileFacts(size=100, kind="zip"), "unsupported_type"),
        (FileFacts(size=100, kind="pdf", encrypted=True), "encrypted_pdf"),
        (FileFacts(size=100, kind="pdf", corrupt=True), "corrupt_pdf"),
        (FileFacts(size=100, kind="pdf", pages=0), "empty_pdf"),
    ],
)
def test_upload_problems(facts: FileFacts, code: str) -> None:
    problems = upload_problems(facts, accepted=("pdf", "dwg"), max_bytes=10 * MB)
    assert len(problems) == 1 and problems[0].startswith(code)


def test_upload_problems_accepts_a_good_file() -> None:
    assert upload_problems(FileFacts(size=100, kind="pdf", pages=2), accepted=("pdf",), max_bytes=MB) == []
    assert upload_problems(FileFacts(size=100, kind="dxf"), accepted=("dwg", "dxf"), max_bytes=MB) == []


@pytest.mark.parametrize(
    "document",
    [
        {},
        {"stages": [{"key": "s", "name": "n", "lead": "nobody", "time_limit_days": 5, "items": []}]},
        {"stages": [{"key": "s", "name": "n", "lead": "housing", "time_limit_days": 0, "items": []}]},
        {
            "stages": [
                {
                    "key": "s",
                    "name": "n",
                    "lead": "housing",
                    "time_limit_days": 5,
                    "items": [
                        {
                            "key": "i",
                            "name": "n",
                            "department": "housing",
                            "time_limit_days": 5,
                            "materials": [{"key": "m", "name": "n", "types": ["exe"]}],
                        }
                    ],
                }
            ]
        },
    ],
)
def test_broken_catalogues_fail_at_load(document: dict[str, object]) -> None:
    with pytest.raises(CatalogueInvalid):
        parse_catalogue(document)
