"""The emergency board over real HTTP with staff sessions: the incident list with its reporting clocks,
one incident with its plan and nearest resources, one-click dispatch recorded through the domain, and
the same rules as ``/api/v1/emergency`` (every staff member reads, the emergency and housing
departments command, other roles are refused). CSRF, unknown codes and hostile text as elsewhere."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import httpx

from console import sessions
from console.guard import SESSION_COOKIE
from domain.accounts import services as accounts
from domain.accounts.rules import Role
from domain.emergency import queries as emergency_queries
from domain.emergency import services as emergency
from domain.emergency.models import EmergencyResource
from domain.emergency.rules import IncidentReport, IncidentType
from tests.console.conftest import SECRET
from tests.console.helpers import PASSWORD, XSS_IMG, XSS_SCRIPT, form_token, login

INCIDENT_AT = (28.3745, 121.3800)
# Each has a capability of the crane-collapse plan; the hospital's name is hostile text.
RESOURCES = (
    ("FIRE-1", "太平消防站", "fire_station", ["fire", "rescue", "collapse_rescue"], 28.3750, 121.3815),
    ("HOSP-1", f"第一人民医院{XSS_IMG}", "hospital", ["medical", "trauma"], 28.3700, 121.3700),
)


async def seed_resources(app: Any) -> None:
    """The registry rows, then the app's geo index rebuilt from them (as at start-up)."""
    for code, name, kind, capabilities, lat, lng in RESOURCES:
        await EmergencyResource.create(
            code=code, name=name, kind=kind, capabilities=capabilities, lat=lat, lng=lng,
            contact_name="值班员", contact_phone="0576-86000000", contact_openid=f"o-{code.lower()}",
        )  # fmt: skip
    await emergency.index_resources(app.ctx.infra.geo)


async def report(
    *, title: str = "塔吊倒塌", description: str = "", hours_ago: float = 0, ref: str = "req-1"
) -> str:
    occurred = dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours_ago)
    incident, _created = await emergency.report_incident(
        IncidentReport(
            source="staff", source_ref=ref, incident_type=IncidentType.CRANE_COLLAPSE, title=title,
            description=description, occurred_at=occurred, lat=INCIDENT_AT[0], lng=INCIDENT_AT[1],
            address="太平街道万昌中路工地", serious_injuries=2,
        ),
        actor="staff:test",
    )  # fmt: skip
    return str(incident.code)


async def signed_in(app: Any, username: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=str(app.ctx.http.base_url), timeout=30)
    response = await login(client, username)
    assert response.status_code == 303, response.text
    return client


async def enterprise_session(app: Any) -> httpx.AsyncClient:
    """The console never signs an enterprise in; a session holding its token tests the page rule."""
    token, principal = await accounts.login_with_password(
        "builder1", PASSWORD, secret=SECRET.encode(), now=dt.datetime.now(dt.UTC)
    )
    assert principal.role is Role.ENTERPRISE
    session = await sessions.open_session(app.ctx.infra.cache, token=token, ttl_s=600)
    return httpx.AsyncClient(
        base_url=str(app.ctx.http.base_url), timeout=30, cookies={SESSION_COOKIE: session.sid}
    )


def map_config(page: str) -> dict[str, Any]:
    found = re.search(r'id="incident-map-config">(.*?)</script>', page, re.S)
    assert found, "the incident page has no map data"
    return dict(json.loads(found.group(1)))


async def dispatched_targets(code: str) -> set[str]:
    return {row["target"] for row in (await emergency_queries.detail(code))["dispatches"]}


async def test_board_lists_open_incidents_first_with_their_clocks(console_app: Any) -> None:
    closed = await report(title="已处置的物体打击", ref="req-closed", hours_ago=0.5)
    await emergency.close_incident(
        closed, summary="处置完毕", actor="staff:test", now=dt.datetime.now(dt.UTC)
    )
    late = await report(title="塔吊倒塌未报县级", ref="req-late", hours_ago=2)
    fresh = await report(title="基坑边塔吊倾斜", ref="req-fresh")
    client = await signed_in(console_app, "housing1")
    try:
        board = await client.get("/console/emergency")
        assert board.status_code == 200
        text = board.text
        assert 'href="/console/emergency"' in text and "应急指挥" in text
        assert text.index(fresh) < text.index(late) < text.index(closed)  # open first, newest first
        assert "塔吊倒塌" in text and "一般事故" in text and "已结案" in text
        assert 'hx-get="/console/emergency/rows"' in text and "every 20s" in text
        late_row = re.search(rf'data-code="{late}">(.*?)</tr>', text, re.S)
        fresh_row = re.search(rf'data-code="{fresh}">(.*?)</tr>', text, re.S)
        assert late_row and fresh_row
        assert "超时未报县级" in late_row.group(1)  # an hour past the county deadline, unreported
        assert "超时" not in fresh_row.group(1) and "向县级报告：剩" in fresh_row.group(1)
        # The polled fragment alone picks up an incident reported after the page loaded.
        newer = await report(title="脚手架旁塔吊报警", ref="req-newer")
        rows = await client.get("/console/emergency/rows")
        assert rows.status_code == 200 and newer in rows.text and "<html" not in rows.text
    finally:
        await client.aclose()


async def test_incident_shows_plan_nearest_resources_and_dispatches_once(console_app: Any) -> None:
    await seed_resources(console_app)
    code = await report()
    client = await signed_in(console_app, "housing1")
    try:
        page = await client.get(f"/console/emergency/{code}")
        assert page.status_code == 200
        assert "塔吊倒塌专项应急预案" in page.text and "立即停止所有起重作业" in page.text
        assert "太平消防站" in page.text and "坍塌搜救" in page.text and "医疗急救" in page.text
        assert "附近缺少" in page.text and "起重吊装" in page.text  # no crane in the registry
        features = map_config(page.text)["features"]["features"]
        assert [f["properties"]["kind"] for f in features] == ["incident", "resource", "resource"]
        assert {f["properties"]["code"] for f in features[1:]} == {"FIRE-1", "HOSP-1"}
        assert features[0]["geometry"]["coordinates"] == [INCIDENT_AT[1], INCIDENT_AT[0]]
        assert 'name="resource" value="FIRE-1"' in page.text

        posted = await client.post(
            f"/console/emergency/{code}/dispatch",
            data={"csrf_token": form_token(page.text), "resource": "FIRE-1"},
        )
        assert posted.status_code == 303
        assert posted.headers["location"] == f"/console/emergency/{code}?done=dispatched"
        # The resource and the plan's linked departments, through the domain's one-click dispatch.
        assert await dispatched_targets(code) == {"FIRE-1", "dept:fire", "dept:health", "dept:police"}
        assert (await emergency_queries.detail(code))["status"] == "dispatched"
        again = await client.post(
            f"/console/emergency/{code}/dispatch",
            data={"csrf_token": form_token(page.text), "resource": "FIRE-1"},
        )
        assert again.headers["location"].endswith("?done=already")
        after = await client.get(posted.headers["location"])
        assert "已调度，通知已发出" in after.text
        assert 'name="resource" value="FIRE-1"' not in after.text  # shown as dispatched instead
        assert 'data-target="FIRE-1"' in after.text and "消防救援（部门值班）" in after.text
        assert map_config(after.text)["dispatched"] == ["FIRE-1", "dept:fire", "dept:health", "dept:police"]
    finally:
        await client.aclose()


async def test_report_up_arrival_and_close(console_app: Any) -> None:
    code = await report()
    client = await signed_in(console_app, "housing1")
    try:
        token = form_token((await client.get(f"/console/emergency/{code}")).text)
        marked = await client.post(
            f"/console/emergency/{code}/reported", data={"csrf_token": token, "level": "county"}
        )
        assert marked.status_code == 303
        assert "county" in (await emergency_queries.get_incident(code)).reported_levels
        arrived = await client.post(f"/console/emergency/{code}/on_scene", data={"csrf_token": token})
        assert arrived.status_code == 303
        assert (await emergency_queries.detail(code))["status"] == "on_scene"
        empty = await client.post(f"/console/emergency/{code}/close", data={"csrf_token": token})
        assert empty.status_code == 400 and "summary" in empty.text
        closed = await client.post(
            f"/console/emergency/{code}/close", data={"csrf_token": token, "summary": "被困人员全部救出"}
        )
        assert closed.headers["location"].endswith("?done=closed")
        page = await client.get(closed.headers["location"])
        assert "被困人员全部救出" in page.text and "已向上级报告" in page.text and "结案" in page.text
        assert 'action="/console/emergency/' + code + '/close"' not in page.text
        # A closed incident dispatches nothing more (the domain's rule, shown as a 400 page).
        late = await client.post(
            f"/console/emergency/{code}/dispatch", data={"csrf_token": token, "resource": "FIRE-1"}
        )
        assert late.status_code == 400 and "incident_closed" in late.text
    finally:
        await client.aclose()


async def test_sessions_roles_csrf_and_bad_input(console_app: Any) -> None:
    await seed_resources(console_app)
    code = await report()
    anonymous = httpx.AsyncClient(base_url=str(console_app.ctx.http.base_url), timeout=30)
    builder = await enterprise_session(console_app)
    environment = await signed_in(console_app, "env1")
    housing = await signed_in(console_app, "housing1")
    try:
        for path in ("/console/emergency", f"/console/emergency/{code}"):
            gone = await anonymous.get(path)
            assert gone.status_code == 303 and gone.headers["location"].startswith("/console/login?next=")
        # The API refuses an enterprise the board, and so does the console: no login, and a session
        # holding an enterprise token is refused by the pages' role rule.
        refused_login = await login(anonymous, "builder1")
        assert refused_login.status_code == 403 and "wl_console" not in anonymous.cookies
        assert (await builder.get("/console/emergency")).status_code == 403
        assert (await builder.get(f"/console/emergency/{code}")).status_code == 403

        # Another department reads the incident, but dispatching is not theirs (as in the API).
        page = await environment.get(f"/console/emergency/{code}")
        assert page.status_code == 200 and "太平消防站" in page.text
        assert "一键调度" not in page.text and map_config(page.text)["dispatch_url"] == ""
        refused = await environment.post(
            f"/console/emergency/{code}/dispatch",
            data={"csrf_token": form_token(page.text), "resource": "FIRE-1"},
        )
        assert refused.status_code == 403 and "无权访问" in refused.text
        assert await dispatched_targets(code) == set()

        # Without the session's CSRF token nothing happens.
        token = form_token((await housing.get(f"/console/emergency/{code}")).text)
        for data in ({"resource": "FIRE-1"}, {"resource": "FIRE-1", "csrf_token": "forged"}):
            forged = await housing.post(f"/console/emergency/{code}/dispatch", data=data)
            assert forged.status_code == 403
        assert await dispatched_targets(code) == set()

        assert (await housing.get("/console/emergency/YJ20000101-9999")).status_code == 404
        assert (await housing.get(f"/console/emergency/{'Y' * 300}")).status_code == 404
        unknown = await housing.post(
            f"/console/emergency/{code}/dispatch", data={"csrf_token": token, "resource": "NOPE"}
        )
        assert unknown.status_code == 400
        bad_level = await housing.post(
            f"/console/emergency/{code}/reported", data={"csrf_token": token, "level": "planet"}
        )
        assert bad_level.status_code == 400
        missing = await housing.post(
            "/console/emergency/YJ20000101-9999/dispatch", data={"csrf_token": token, "resource": "FIRE-1"}
        )
        assert missing.status_code == 404
        not_sent = await housing.post(
            f"/console/emergency/{code}/acknowledge", data={"csrf_token": token, "target": "FIRE-1"}
        )
        assert not_sent.status_code == 404  # nothing was dispatched to acknowledge
        assert await dispatched_targets(code) == set()
    finally:
        for client in (anonymous, builder, environment, housing):
            await client.aclose()


async def test_incident_text_is_escaped(console_app: Any) -> None:
    await seed_resources(console_app)
    code = await report(title=f"起火{XSS_SCRIPT}", description=f"现场{XSS_IMG}")
    client = await signed_in(console_app, "housing1")
    try:
        for path in ("/console/emergency", "/console/emergency/rows", f"/console/emergency/{code}"):
            page = await client.get(path)
            assert page.status_code == 200
            assert XSS_SCRIPT not in page.text and XSS_IMG not in page.text
            assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page.text
        detail = await client.get(f"/console/emergency/{code}")
        assert "&#34;&gt;&lt;img src=x onerror=" in detail.text  # description and resource name
        # The map data carries the hostile resource name as JSON text that cannot close its element.
        assert "\\u003cimg src=x" in detail.text
        names = [f["properties"].get("name") for f in map_config(detail.text)["features"]["features"]]
        assert f"第一人民医院{XSS_IMG}" in names
    finally:
        await client.aclose()
