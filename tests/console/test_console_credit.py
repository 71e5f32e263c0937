"""The credit pages over real HTTP: the staff list and one enterprise's file with why its score moved,
records added and reviewed, appeals decided with CSRF by the deciding departments only (the API's
rule), and the public lookup without login or personal data. Outcomes are checked through the domain."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from console import labels
from domain.accounts.models import Account
from domain.accounts.rules import Role, hash_password
from domain.credit import queries, services
from domain.credit.catalogue import Category
from domain.credit.models import CreditAppeal, CreditRecord
from domain.credit.rules import AppealStatus, ChangeKind, RecordState, RecordStatus, SubjectKind
from domain.credit.tabular import RecordDraft
from domain.projects.rules import uscc_check_char
from tests.console.helpers import PASSWORD, XSS_IMG, XSS_SCRIPT, form_token, login

GOOD = "91331081MA0000101" + uscc_check_char("91331081MA0000101")
SHADY = "91331081MA0000102" + uscc_check_char("91331081MA0000102")
GOOD_NAME = "温岭市诚信建设有限公司"
SHADY_NAME = f"温岭市{XSS_SCRIPT}{XSS_IMG}工程公司"
PERSONAL_NOTE = "现场负责人张三 13800000000 拒不整改"
APPEAL_REASON = "整改已于当日完成，附整改照片，请求撤销"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def _add(
    uscc: str, name: str, record_type: str, source_ref: str, *, days_ago: int = 3, pending: bool = False
) -> int:
    draft = RecordDraft(
        subject_kind=SubjectKind.ENTERPRISE,
        subject_id=uscc,
        subject_name=name,
        record_type=record_type,
        effective_on=services.local_day(_now()) - dt.timedelta(days=days_ago),
        source_ref=source_ref,
        project_code="WL-2026-0031",
        summary=PERSONAL_NOTE,
    )
    record = await services.add_record(
        draft, catalogue=services.rule_catalogue(), actor="staff:1", now=_now(), needs_review=pending
    )
    return int(record.id)


async def seed_credit() -> dict[str, int]:
    """GOOD: an award (103, B). SHADY: a major hazard (94, C) with an open appeal, and a pending record."""
    await _add(GOOD, GOOD_NAME, "award_municipal", "台建奖〔2026〕7号", days_ago=40)
    hazard = await _add(SHADY, SHADY_NAME, "inspection_major_hazard", "温建检〔2026〕88号")
    pending = await _add(SHADY, SHADY_NAME, "complaint_upheld", "投诉工单 D2026", pending=True)
    appeal = await services.file_appeal(
        hazard, enterprise_uscc=SHADY, actor="enterprise:21", reason=APPEAL_REASON, attachments=[], now=_now()
    )
    return {"hazard": hazard, "pending": pending, "appeal": int(appeal.id)}


async def score_of(uscc: str) -> int:
    standing = await queries.subject_standing(
        SubjectKind.ENTERPRISE, uscc, as_of=services.local_day(_now()), catalogue=services.rule_catalogue()
    )
    return int(standing["score"])


def anonymous(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=str(app.ctx.http.base_url), timeout=30)


async def signed_in(app: Any, username: str) -> httpx.AsyncClient:
    client = anonymous(app)
    response = await login(client, username)
    assert response.status_code == 303, response.text
    return client


def assert_escaped(text: str) -> None:
    assert XSS_SCRIPT not in text and XSS_IMG not in text
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in text


async def test_list_search_filter_and_escaping(console_app: Any) -> None:
    await seed_credit()
    housing = await signed_in(console_app, "housing1")
    try:
        listing = await housing.get("/console/credit")
        assert listing.status_code == 200
        assert GOOD_NAME in listing.text and GOOD in listing.text and "103" in listing.text
        assert "94" in listing.text and "合格" in listing.text and "良好" in listing.text
        assert 'href="/console/credit"' in listing.text and "信用评价" in listing.text  # the nav link
        assert_escaped(listing.text)

        by_name = await housing.get("/console/credit", params={"q": "诚信"})
        assert GOOD_NAME in by_name.text and SHADY not in by_name.text
        by_code = await housing.get("/console/credit", params={"q": SHADY.lower()})
        assert SHADY in by_code.text and GOOD not in by_code.text
        grade_c = await housing.get("/console/credit", params={"grade": "C"})
        assert SHADY in grade_c.text and GOOD not in grade_c.text
        grade_a = await housing.get("/console/credit", params={"grade": "a"})
        assert "没有符合条件的企业" in grade_a.text
    finally:
        await housing.aclose()


async def test_enterprise_file_shows_records_reasons_and_why_the_score_moved(console_app: Any) -> None:
    ids = await seed_credit()
    housing = await signed_in(console_app, "housing1")
    try:
        page = await housing.get(f"/console/credit/{SHADY}")
        assert page.status_code == 200
        assert 'id="credit-score">94' in page.text and "C · 合格" in page.text
        # Each record with its reason (type and document), its points and its state, in Chinese.
        records = page.text.split('id="credit-records"')[1].split("</table>")[0]
        assert "执法检查发现重大隐患" in records and "温建检〔2026〕88号" in records and "-6" in records
        assert "投诉经核实成立" in records and "执法检查" in records  # the type and its category
        assert "计分中" in records and "待审核" in records and "待处理" in records  # states and the appeal
        # Why the score moved: the record that started counting.
        changes = page.text.split('id="credit-changes"')[1].split("</ol>")[0]
        assert "-6" in changes and "计入" in changes and "执法检查发现重大隐患" in changes
        assert f'action="/console/credit/records/{ids["pending"]}/review"' in page.text
        assert 'id="add-record-form"' in page.text
        assert_escaped(page.text)
        good = await housing.get(f"/console/credit/{GOOD.lower()}")
        assert good.status_code == 200 and "市级奖项" in good.text and "+3" in good.text
    finally:
        await housing.aclose()


async def test_deciding_an_appeal_needs_csrf_and_revokes_the_record(console_app: Any) -> None:
    ids = await seed_credit()
    housing = await signed_in(console_app, "housing1")
    decision = f"/console/credit/appeals/{ids['appeal']}/decision"
    try:
        queue = await housing.get("/console/credit/appeals", params={"status": "filed"})
        assert queue.status_code == 200 and APPEAL_REASON in queue.text and "待处理" in queue.text
        assert f'action="{decision}"' in queue.text
        assert_escaped(queue.text)
        filed = await CreditAppeal.get(id=ids["appeal"])
        # The filing time in Beijing time, as the enterprise filed it.
        assert filed.filed_at.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M") in (
            queue.text
        )

        no_token = await housing.post(decision, data={"decision": "uphold", "note": "整改属实"})
        assert no_token.status_code == 403 and "csrf_failed" in no_token.text
        no_reason = await housing.post(
            decision, data={"decision": "uphold", "csrf_token": form_token(queue.text)}
        )
        assert no_reason.status_code == 400
        bad_choice = await housing.post(
            decision, data={"decision": "maybe", "note": "x", "csrf_token": form_token(queue.text)}
        )
        assert bad_choice.status_code == 400
        assert (await CreditAppeal.get(id=ids["appeal"])).status is AppealStatus.FILED
        assert await score_of(SHADY) == 94

        upheld = await housing.post(
            decision,
            data={"decision": "uphold", "note": "整改属实，撤销记录", "csrf_token": form_token(queue.text)},
        )
        assert upheld.status_code == 303
        assert upheld.headers["location"] == "/console/credit/appeals?done=uphold"
        appeal = await CreditAppeal.get(id=ids["appeal"])
        assert appeal.status is AppealStatus.UPHELD and appeal.decision_note == "整改属实，撤销记录"
        assert appeal.decided_by.startswith("staff:")
        record = await CreditRecord.get(id=ids["hazard"])
        assert record.status is RecordStatus.REVOKED
        assert record.revoked_on == services.local_day(_now())
        assert await score_of(SHADY) == 100  # revoked from today: it no longer counts

        again = await housing.post(
            decision, data={"decision": "dismiss", "note": "重复", "csrf_token": form_token(queue.text)}
        )
        assert again.status_code == 409
        after = await housing.get("/console/credit/appeals")
        assert "异议成立" in after.text and "整改属实，撤销记录" in after.text
        file_page = await housing.get(f"/console/credit/{SHADY}")
        assert "已撤销（异议成立）" in file_page.text and 'id="credit-score">100' in file_page.text
    finally:
        await housing.aclose()


async def test_adding_and_reviewing_records_from_the_file(console_app: Any) -> None:
    ids = await seed_credit()
    environment = await signed_in(console_app, "env1")  # a deciding department, like the API's
    try:
        page = await environment.get(f"/console/credit/{GOOD}")
        token = form_token(page.text)
        added = await environment.post(
            f"/console/credit/{GOOD}/records",
            data={
                "csrf_token": token,
                "record_type": "dust_penalty",
                "effective_on": services.local_day(_now()).isoformat(),
                "source_ref": "温综执罚〔2026〕5号",
                "project_code": "WL-2026-0031",
                "summary": "裸土未覆盖",
            },
        )
        assert added.status_code == 303 and added.headers["location"] == f"/console/credit/{GOOD}?done=added"
        record = await CreditRecord.get(subject_id=GOOD, record_type="dust_penalty")
        assert record.status is RecordStatus.EFFECTIVE and record.points == -5
        assert await score_of(GOOD) == 98
        refused = await environment.post(
            f"/console/credit/{GOOD}/records",
            data={"csrf_token": token, "record_type": "no_such", "effective_on": "2026-13-01"},
        )
        assert refused.status_code == 400 and "source_ref is required" in refused.text

        approved = await environment.post(
            f"/console/credit/records/{ids['pending']}/review",
            data={"csrf_token": token, "decision": "approve", "note": "核实属实"},
        )
        assert approved.status_code == 303
        assert approved.headers["location"] == f"/console/credit/{SHADY}?done=approve"
        assert (await CreditRecord.get(id=ids["pending"])).status is RecordStatus.EFFECTIVE
        assert await score_of(SHADY) == 93
        revoke = await environment.post(
            f"/console/credit/records/{ids['hazard']}/review",
            data={"csrf_token": token, "decision": "revoke"},
        )
        assert revoke.status_code == 400  # only an upheld appeal revokes, as in the API
        assert (await CreditRecord.get(id=ids["hazard"])).status is RecordStatus.EFFECTIVE
    finally:
        await environment.aclose()


async def test_anonymous_and_refused_roles(console_app: Any) -> None:
    ids = await seed_credit()
    await Account.create(
        username="planning1", role=Role.STAFF, department="planning", password_hash=hash_password(PASSWORD)
    )
    planning = await signed_in(console_app, "planning1")
    try:
        async with anonymous(console_app) as nobody:
            for path in ("/console/credit", f"/console/credit/{SHADY}", "/console/credit/appeals"):
                response = await nobody.get(path)
                assert response.status_code == 303 and "/console/login" in response.headers["location"]
            posted = await nobody.post(
                f"/console/credit/appeals/{ids['appeal']}/decision", data={"decision": "uphold", "note": "x"}
            )
            assert posted.status_code == 303 and "/console/login" in posted.headers["location"]

        # Planning reads credit files but does not decide them (the API says 403 too).
        queue = await planning.get("/console/credit/appeals")
        assert queue.status_code == 200 and APPEAL_REASON in queue.text
        assert 'name="decision"' not in queue.text
        file_page = await planning.get(f"/console/credit/{SHADY}")
        assert file_page.status_code == 200 and 'id="add-record-form"' not in file_page.text
        token = form_token(queue.text)
        for path, data in (
            (f"/console/credit/appeals/{ids['appeal']}/decision", {"decision": "uphold", "note": "越权"}),
            (f"/console/credit/records/{ids['pending']}/review", {"decision": "approve"}),
            (
                f"/console/credit/{SHADY}/records",
                {"record_type": "award_county", "effective_on": "2026-01-05", "source_ref": "X1"},
            ),
        ):
            refused = await planning.post(path, data={"csrf_token": token, **data})
            assert refused.status_code == 403 and "forbidden_department" in refused.text, path
        assert (await CreditAppeal.get(id=ids["appeal"])).status is AppealStatus.FILED
        assert (await CreditRecord.get(id=ids["pending"])).status is RecordStatus.PENDING
        assert await CreditRecord.filter(subject_id=SHADY).count() == 2

    finally:
        await planning.aclose()
    # An enterprise account is not staff: no console session at all, so no credit page either.
    async with anonymous(console_app) as builder:
        assert (await login(builder, "builder1")).status_code == 403
        response = await builder.get("/console/credit/appeals")
        assert response.status_code == 303 and "/console/login" in response.headers["location"]


async def test_public_search_needs_no_login_and_shows_no_personal_data(console_app: Any) -> None:
    await seed_credit()
    async with anonymous(console_app) as citizen:
        empty = await citizen.get("/p/credit")
        assert empty.status_code == 200 and 'name="q"' in empty.text

        found = await citizen.get("/p/credit", params={"q": "工程公司"})
        assert found.status_code == 200
        assert SHADY in found.text and "C</span> 合格" in found.text
        assert "执法检查发现重大隐患" in found.text and "温建检〔2026〕88号" in found.text
        assert_escaped(found.text)
        # Pending records, internal notes, appeals and people are never public.
        for private in ("投诉工单 D2026", "张三", "13800000000", APPEAL_REASON, "staff:", "enterprise:21"):
            assert private not in found.text, private
        assert "退出登录" not in found.text and "csrf" not in found.text

        by_code = await citizen.get("/p/credit", params={"q": GOOD})
        assert GOOD_NAME in by_code.text and "市级奖项" in by_code.text
        none = await citizen.get("/p/credit", params={"q": "<b>无此企业</b>"})
        assert none.status_code == 200 and "&lt;b&gt;无此企业&lt;/b&gt;" in none.text

        for params in ({"q": "温"}, {"q": "温" * 65}, {"q": "温岭\x00"}):
            response = await citizen.get("/p/credit", params=params)
            assert response.status_code == 400, params
            assert "请求有误" in response.text


async def test_bad_input_is_a_4xx_page(console_app: Any) -> None:
    ids = await seed_credit()
    housing = await signed_in(console_app, "housing1")
    try:
        for path, params in (
            ("/console/credit", {"grade": "Z"}),
            ("/console/credit", {"page": "abc"}),
            ("/console/credit", {"page": "0"}),
            ("/console/credit", {"q": "x" * 65}),
            ("/console/credit", {"q": "温岭\x00"}),
            ("/console/credit/appeals", {"status": "bogus"}),
            ("/console/credit/appeals", {"page": "-1"}),
        ):
            response = await housing.get(path, params=params)
            assert response.status_code == 400, (path, params, response.status_code)
            assert "请求有误" in response.text
        missing = await housing.get("/console/credit/91331081MA00009999")
        assert missing.status_code == 404 and "未找到" in missing.text
        hostile = await housing.get("/console/credit/%3Cscript%3Ealert(1)%3C%2Fscript%3E")
        assert hostile.status_code == 404 and "<script>alert(1)" not in hostile.text
        token = form_token((await housing.get("/console/credit/appeals")).text)
        for path in (
            "/console/credit/appeals/0/decision",
            "/console/credit/appeals/99999999999/decision",
            "/console/credit/appeals/987654/decision",
            "/console/credit/records/99999999999/review",
        ):
            response = await housing.post(path, data={"csrf_token": token, "decision": "uphold", "note": "x"})
            assert response.status_code == 404, (path, response.status_code)
        assert (await CreditAppeal.get(id=ids["appeal"])).status is AppealStatus.FILED
    finally:
        await housing.aclose()


def test_every_credit_value_has_a_chinese_label() -> None:
    for catalog, values in (
        ("credit_status", RecordStatus),
        ("credit_state", RecordState),
        ("appeal_status", AppealStatus),
        ("credit_change", ChangeKind),
        ("credit_category", Category),
    ):
        for value in values:
            assert labels.label(catalog, value.value) != value.value, (catalog, value)
