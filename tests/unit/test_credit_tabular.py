"""Campaign sheets: Chinese headers, GBK CSV, every problem of a row reported; export round trip."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook

from domain.credit import tabular
from domain.credit.catalogue import Catalogue, parse_catalogue
from domain.credit.rules import SubjectKind
from domain.errors import ValidationFailed
from domain.projects.rules import uscc_check_char
from domain.tabular import rows_from_csv

RULES = Path(__file__).resolve().parents[2] / "config" / "credit_rules.yml"
USCC = "91331081MA0000501" + uscc_check_char("91331081MA0000501")


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return parse_catalogue(yaml.safe_load(RULES.read_text(encoding="utf-8")))


def test_gbk_csv_with_chinese_headers(catalogue: Catalogue) -> None:
    text = (
        "主体类型,统一社会信用代码,主体名称,记录类型,生效日期,文书编号,项目编号,处罚期限(月)\n"
        f"企业,{USCC.lower()},温岭市某建设有限公司,noise_penalty,2026-02-03,温综执罚〔2026〕9号,wl-2026-0031,9\n"
        "项目,WL-2026-0040,,award_county,2026-02-03,县表彰-1,,\n"
        ",,,,,,\n"
    )
    drafts, rejected = tabular.drafts_from_rows(rows_from_csv(text.encode("gb18030")), catalogue)
    assert not rejected
    (_, first), (_, second) = drafts
    assert (first.subject_id, first.project_code, first.penalty_months) == (USCC, "WL-2026-0031", 9)
    assert first.effective_on == dt.date(2026, 2, 3)
    assert (second.subject_kind, second.subject_id, second.project_code) == (
        SubjectKind.PROJECT,
        "WL-2026-0040",
        "WL-2026-0040",
    )


def test_every_problem_of_a_row_is_reported(catalogue: Catalogue) -> None:
    rows = [
        ["subject_kind", "subject_id", "record_type", "effective_on", "source_ref", "penalty_months"],
        ["company", "x", "nope", "yesterday", "doc", "-1"],
        ["person", "12a", "award_county", "2026-01-01", "doc", ""],
        ["enterprise", "", "award_county", "2026-01-01", "doc", ""],
    ]
    drafts, rejected = tabular.drafts_from_rows(rows, catalogue)
    assert not drafts
    assert [r.row for r in rejected] == [2, 3, 4]
    assert len(rejected[0].problems) == 4  # kind, type, date and penalty, all at once
    assert rejected[1].problems == ("a person is referenced by numeric person id",)
    assert rejected[2].problems == ("subject_id is required",)


def test_sheet_level_errors(catalogue: Catalogue) -> None:
    with pytest.raises(ValidationFailed) as missing:
        tabular.drafts_from_rows([["name"], ["x"]], catalogue)
    assert missing.value.code == "import_missing_columns"
    with pytest.raises(ValidationFailed) as empty:
        tabular.drafts_from_rows([], catalogue)
    assert empty.value.code == "empty_import"
    with pytest.raises(ValidationFailed) as broken:
        tabular.rows_from_xlsx(b"PK\x03\x04 not really a workbook")
    assert broken.value.code == "unreadable_file"


def test_export_round_trip() -> None:
    rows = [(USCC, "温岭市某建设有限公司", 97, "C", "是", "2026-03-01")]
    assert (
        tabular.export_csv(rows).decode("utf-8-sig").splitlines()[1]
        == f"{USCC},温岭市某建设有限公司,97,C,是,2026-03-01"
    )
    sheet = load_workbook(io.BytesIO(tabular.export_xlsx(rows))).active
    assert sheet is not None
    assert [cell.value for cell in sheet[2]] == list(rows[0])
