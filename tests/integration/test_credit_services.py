"""Credit services on SQLite and PostgreSQL: lifecycle, as-of scoring across appeals, imports, export."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import Workbook, load_workbook

from domain.credit import queries, services, tabular
from domain.credit.catalogue import Catalogue
from domain.credit.models import CreditAudit, CreditRecord
from domain.credit.rules import AppealAction, RecordAction, RecordStatus, SubjectKind
from domain.credit.tabular import RecordDraft
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.projects.rules import uscc_check_char
from domain.tabular import rows_from_csv

STAFF = "staff:1"
NOW = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC)  # 10:00 in Wenling


def uscc(seed: int) -> str:
    body = f"91331081MA{seed:07d}"
    return body + uscc_check_char(body)


@pytest.fixture
async def catalogue() -> Catalogue:
    return services.rule_catalogue()


def draft(subject: str, record_type: str, effective_on: dt.date, ref: str, **extra: object) -> RecordDraft:
    return RecordDraft(
        subject_kind=SubjectKind.ENTERPRISE,
        subject_id=subject,
        subject_name=str(extra.pop("name", "温岭市测试建设有限公司")),
        record_type=record_type,
        effective_on=effective_on,
        source_ref=ref,
        project_code=str(extra.pop("project_code", "WL-2026-0031")),
    )


async def test_appeal_upheld_revokes_from_the_decision_day(database: str, catalogue: Catalogue) -> None:
    company = uscc(1)
    record = await services.add_record(
        draft(company, "inspection_major_hazard", dt.date(2026, 2, 20), "温建检〔2026〕7号"),
        catalogue=catalogue,
        actor=STAFF,
        now=NOW,
        needs_review=False,
    )
    assert record.expires_on == dt.date(2027, 2, 20)
    before = await queries.subject_standing(
        SubjectKind.ENTERPRISE, company, as_of=dt.date(2026, 3, 1), catalogue=catalogue
    )
    assert (before["score"], before["grade"]) == (94, "C")
    assert before["explanation"][0]["source_ref"] == "温建检〔2026〕7号"
    assert before["explanation"][0]["expires_on"] == "2027-02-20"

    appeal = await services.file_appeal(
        record.id,
        enterprise_uscc=company,
        actor="enterprise:9",
        reason="隐患已于当日整改完毕，附整改照片",
        attachments=["a" * 64 + ".jpg"],
        now=NOW,
    )
    with pytest.raises(Conflict):
        await services.file_appeal(
            record.id,
            enterprise_uscc=company,
            actor="enterprise:9",
            reason="再次申诉一下",
            attachments=[],
            now=NOW,
        )
    decided_at = dt.datetime(2026, 3, 10, 1, 0, tzinfo=dt.UTC)
    await services.decide_appeal(
        appeal.id, action=AppealAction.UPHOLD, actor=STAFF, note="核实", now=decided_at
    )

    as_of = {
        day: await queries.subject_standing(SubjectKind.ENTERPRISE, company, as_of=day, catalogue=catalogue)
        for day in (dt.date(2026, 3, 9), dt.date(2026, 3, 10))
    }
    assert as_of[dt.date(2026, 3, 9)]["score"] == 94  # history is not rewritten
    assert as_of[dt.date(2026, 3, 10)]["score"] == 100
    assert as_of[dt.date(2026, 3, 10)]["records"][0]["state"] == "revoked"
    actions = [row["action"] for row in await queries.audit_trail(record.id)]
    assert actions == ["add_record", "file_appeal", "appeal_uphold", "revoke_record"]


async def test_dismissed_appeal_keeps_the_record_and_others_cannot_appeal(
    database: str, catalogue: Catalogue
) -> None:
    company, other = uscc(2), uscc(3)
    record = await services.add_record(
        draft(company, "noise_penalty", dt.date(2026, 2, 1), "温综执罚〔2026〕15号"),
        catalogue=catalogue,
        actor=STAFF,
        now=NOW,
        needs_review=False,
    )
    with pytest.raises(NotFound):
        await services.file_appeal(
            record.id,
            enterprise_uscc=other,
            actor="enterprise:8",
            reason="不是我们的记录吧",
            attachments=[],
            now=NOW,
        )
    appeal = await services.file_appeal(
        record.id,
        enterprise_uscc=company,
        actor="enterprise:9",
        reason="夜间施工有许可证",
        attachments=[],
        now=NOW,
    )
    await services.decide_appeal(appeal.id, action=AppealAction.DISMISS, actor=STAFF, now=NOW)
    with pytest.raises(Conflict):
        await services.decide_appeal(appeal.id, action=AppealAction.UPHOLD, actor=STAFF, now=NOW)
    standing = await queries.subject_standing(
        SubjectKind.ENTERPRISE, company, as_of=dt.date(2026, 3, 2), catalogue=catalogue
    )
    assert standing["score"] == 97
    assert standing["records"][0]["appeal_status"] == "dismissed"


async def test_pending_counts_only_after_approval_and_cannot_be_decided_twice(
    database: str, catalogue: Catalogue
) -> None:
    company = uscc(4)
    record = await services.add_record(
        draft(company, "award_provincial", dt.date(2026, 1, 15), "浙建〔2026〕3号"),
        catalogue=catalogue,
        actor=STAFF,
        now=NOW,
        needs_review=True,
    )
    assert (
        await queries.subject_standing(
            SubjectKind.ENTERPRISE, company, as_of=dt.date(2026, 3, 1), catalogue=catalogue
        )
    )["score"] == 100
    approved = await services.review_record(record.id, action=RecordAction.APPROVE, actor=STAFF, now=NOW)
    assert approved.status is RecordStatus.EFFECTIVE and approved.approved_on == dt.date(2026, 3, 1)
    standing = await queries.subject_standing(
        SubjectKind.ENTERPRISE, company, as_of=dt.date(2026, 3, 1), catalogue=catalogue
    )
    assert (standing["score"], standing["grade"]) == (105, "A")
    assert standing["records"][0]["expires_on"] == "2029-01-15"  # good records last three years
    with pytest.raises(Conflict):
        await services.review_record(record.id, action=RecordAction.REJECT, actor=STAFF, now=NOW)


async def test_duplicate_document_is_a_conflict(database: str, catalogue: Catalogue) -> None:
    company = uscc(5)
    one = draft(company, "dust_penalty", dt.date(2026, 2, 1), "温综执罚〔2026〕20号")
    await services.add_record(one, catalogue=catalogue, actor=STAFF, now=NOW, needs_review=False)
    with pytest.raises(Conflict):
        await services.add_record(one, catalogue=catalogue, actor=STAFF, now=NOW, needs_review=False)
    assert await CreditRecord.filter(subject_id=company).count() == 1


async def test_csv_import_reports_each_rejected_row(database: str, catalogue: Catalogue) -> None:
    good, bad_code = uscc(6), "913310810000000000"
    text = (
        "主体类型,统一社会信用代码,主体名称,记录类型,生效日期,文书编号,项目编号\n"
        f"企业,{good},温岭市好建设有限公司,inspection_hazard,2026-02-03,检查单-001,WL-2026-0031\n"
        f"企业,{bad_code},坏代码公司,inspection_hazard,2026-02-03,检查单-002,WL-2026-0031\n"
        f"企业,{good},温岭市好建设有限公司,no_such_type,2026-13-01,检查单-003,\n"
        f"企业,{good},温岭市好建设有限公司,inspection_hazard,2026-02-03,检查单-001,WL-2026-0031\n"
    )
    rows = rows_from_csv(text.encode("gb18030"))
    created, rejected = await services.import_records(rows, catalogue=catalogue, actor=STAFF, now=NOW)
    assert len(created) == 1
    assert [r.row for r in rejected] == [3, 4, 5]
    assert "unified social credit code" in rejected[0].problems[0]
    assert len(rejected[1].problems) == 2  # unknown type and bad date, both reported
    assert "already exists" in rejected[2].problems[0]
    assert (await CreditRecord.get(id=created[0])).status is RecordStatus.PENDING


async def test_xlsx_import_and_bidding_export(database: str, catalogue: Catalogue) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(
        [
            "subject_kind",
            "subject_id",
            "subject_name",
            "record_type",
            "effective_on",
            "source_ref",
            "project_code",
        ]
    )
    blacklisted = uscc(7)
    for number, day in enumerate((dt.date(2026, 1, 5), dt.date(2026, 1, 20), dt.date(2026, 2, 5)), start=1):
        sheet.append(
            [
                "enterprise",
                blacklisted,
                "温岭市扬尘建设有限公司",
                "dust_penalty",
                day,
                f"温综执罚-{number}",
                "WL-2026-0040",
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    created, rejected = await services.import_records(
        tabular.rows_from_xlsx(buffer.getvalue()), catalogue=catalogue, actor=STAFF, now=NOW
    )
    assert len(created) == 3 and not rejected
    for record_id in created:
        await services.review_record(record_id, action=RecordAction.APPROVE, actor=STAFF, now=NOW)
    await services.register_subjects(
        [services.SubjectRef(SubjectKind.ENTERPRISE, uscc(8), "温岭市清白建设有限公司")]
    )
    rows = await queries.enterprise_grades(as_of=dt.date(2026, 3, 2), catalogue=catalogue)
    assert rows == [
        (blacklisted, "温岭市扬尘建设有限公司", 85, "E", "否", "2026-03-02"),
        (uscc(8), "温岭市清白建设有限公司", 100, "B", "是", "2026-03-02"),
    ]
    # Approved on 2026-03-01: the day before, nothing counted yet.
    earlier = dict(
        (r[0], r[3]) for r in await queries.enterprise_grades(as_of=dt.date(2026, 2, 28), catalogue=catalogue)
    )
    assert earlier[blacklisted] == "B"
    sheet_back = load_workbook(io.BytesIO(tabular.export_xlsx(rows))).active
    assert sheet_back is not None
    assert [cell.value for cell in sheet_back[1]][:4] == [
        "统一社会信用代码",
        "企业名称",
        "信用分",
        "信用等级",
    ]
    csv_text = tabular.export_csv(rows).decode("utf-8-sig")
    assert f"{blacklisted},温岭市扬尘建设有限公司,85,E,否,2026-03-02" in csv_text


async def test_import_refuses_a_sheet_without_required_columns(database: str, catalogue: Catalogue) -> None:
    with pytest.raises(ValidationFailed) as raised:
        await services.import_records(
            [["名称", "分数"], ["x", "1"]], catalogue=catalogue, actor=STAFF, now=NOW
        )
    assert raised.value.code == "import_missing_columns"
    assert await CreditAudit.all().count() == 0
