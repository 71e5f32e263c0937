"""Console security, as a browser would meet it: login with staff accounts, lockout, cookie flags,
no page without a session, CSRF refused, cross-department refused, escaped complaint text, and no
external URL in any served page."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.console.conftest import running_console
from tests.console.helpers import PASSWORD, XSS_IMG, XSS_SCRIPT, file_complaint, form_token, login


def client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=str(app.ctx.http.base_url), timeout=30)


async def test_staff_login_sets_a_locked_down_session_cookie_and_logout_ends_it(console_app: Any) -> None:
    async with client(console_app) as http:
        response = await login(http, "housing1")
        assert response.status_code == 303 and response.headers["location"] == "/console/complaints"
        cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("wl_console="))
        flags = cookie.lower()
        assert "httponly" in flags and "samesite=lax" in flags and "path=/" in flags
        assert "secure" not in flags  # plain HTTP here; see the test below for TLS
        page = await http.get("/console/complaints")
        assert page.status_code == 200 and "投诉工单" in page.text and "住建局" in page.text
        logout = await http.post("/console/logout", data={"csrf_token": form_token(page.text)})
        assert logout.status_code == 303
        again = await http.get("/console/complaints")
        assert again.status_code == 303 and again.headers["location"].startswith("/console/login")


async def test_cookie_is_secure_behind_tls(db_url: str, console_data_dir: Any) -> None:
    async with (
        running_console(db_url, console_data_dir, console_cookie_secure=True) as app,
        client(app) as http,
    ):
        page = await http.get("/console/login")
        login_cookie = page.headers["set-cookie"]
        assert "secure" in login_cookie.lower()
        # A TLS-terminating proxy's browser would send the Secure cookie back; httpx over plain HTTP
        # does not, so send it by hand.
        response = await http.post(
            "/console/login",
            data={"username": "housing1", "password": PASSWORD, "csrf_token": form_token(page.text)},
            headers={"cookie": login_cookie.split(";")[0]},
        )
        assert response.status_code == 303
        cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("wl_console="))
        assert "secure" in cookie.lower() and "httponly" in cookie.lower()


async def test_no_console_page_without_a_session(console_app: Any) -> None:
    async with client(console_app) as http:
        for path in (
            "/console/complaints",
            "/console/complaints/rows",
            "/console/alarms",
            "/console/alarms/1",
            "/console/geo/active_alarms",
            "/console/complaints/TS20260101001",
            "/console/reports",
            "/console/reports/download",
        ):
            response = await http.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/console/login"), path
        polled = await http.get("/console/alarms/rows", headers={"HX-Request": "true"})
        assert polled.status_code == 401 and polled.headers["hx-redirect"].startswith("/console/login")
        forged = await http.post("/console/alarms/1/acknowledge", data={"csrf_token": "x"})
        assert forged.status_code == 303 and forged.headers["location"].startswith("/console/login")
        home = await http.get("/")
        assert home.status_code == 302 and home.headers["location"] == "/console"
        for door in ("/console", "/admin", "/staff"):
            response = await http.get(door)
            assert response.status_code == 302 and response.headers["location"] == "/console/login"


async def test_wrong_passwords_lock_the_account_even_for_the_right_password(console_app: Any) -> None:
    async with client(console_app) as http:
        for _ in range(3):
            refused = await login(http, "housing1", "wrong-password")
            assert refused.status_code == 401 and "用户名或密码错误" in refused.text
        locked = await login(http, "housing1")
        assert locked.status_code == 429 and "已锁定" in locked.text
        assert "wl_console=" not in " ".join(locked.headers.get_list("set-cookie"))
    async with client(console_app) as other:  # another user is not affected
        assert (await login(other, "env1")).status_code == 303


async def test_login_form_needs_its_token_and_enterprise_accounts_are_refused(console_app: Any) -> None:
    async with client(console_app) as http:
        response = await http.post("/console/login", data={"username": "housing1", "password": "x"})
        assert response.status_code == 403 and "页面已过期" in response.text
        assert (await login(http, "builder1")).status_code == 403


async def test_post_without_the_csrf_token_is_refused_and_changes_nothing(console_app: Any) -> None:
    ticket_no = await file_complaint()
    async with client(console_app) as http:
        await login(http, "housing1")
        for data in ({}, {"csrf_token": "forged-token-value"}):
            refused = await http.post(f"/console/complaints/{ticket_no}/act/accept", data=data)
            assert refused.status_code == 403 and "csrf_failed" in refused.text
        page = await http.get(f"/console/complaints/{ticket_no}")
        assert "已派单" in page.text or "派单" in page.text
        assert "签收" not in re.sub(r"<form.*?</form>", "", page.text, flags=re.S).split("办理过程")[1]


async def test_another_departments_ticket_is_refused(console_app: Any) -> None:
    ticket_no = await file_complaint()  # dispatched to housing
    async with client(console_app) as http:
        await login(http, "env1")
        page = await http.get(f"/console/complaints/{ticket_no}")
        assert page.status_code == 404 and "凌晨还在打桩" not in page.text
        token = form_token((await http.get("/console/complaints")).text)
        reply = await http.post(
            f"/console/complaints/{ticket_no}/reply", data={"csrf_token": token, "text": "x"}
        )
        assert reply.status_code == 404
        photo = await http.get(f"/console/complaints/{ticket_no}/photos/0")
        assert photo.status_code == 404
        queue = await http.get("/console/complaints")
        assert ticket_no not in queue.text


async def test_script_in_complaint_text_is_shown_as_text(console_app: Any) -> None:
    ticket_no = await file_complaint(description=f"{XSS_SCRIPT} {XSS_IMG}", address=XSS_IMG)
    async with client(console_app) as http:
        await login(http, "housing1")
        for path in (f"/console/complaints/{ticket_no}", "/console/complaints", "/console/complaints/rows"):
            body = (await http.get(path)).text
            assert "<script>window.__pwned" not in body and "<img src=x" not in body, path
        detail = (await http.get(f"/console/complaints/{ticket_no}")).text
        assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in detail
        assert "&#34;&gt;&lt;img src=x onerror=" in detail
        policy = (await http.get(f"/console/complaints/{ticket_no}")).headers["content-security-policy"]
        assert (
            "script-src 'self'" in policy
            and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
        )


EXTERNAL = re.compile(r"""(?:https?:)?//(?!127\.0\.0\.1|localhost)[a-z0-9.-]+\.[a-z]{2,}""", re.I)


async def test_no_served_page_refers_to_an_external_url(console_app: Any) -> None:
    ticket_no = await file_complaint()
    async with client(console_app) as http:
        pages = ["/console/login", "/docs", "/docs/swagger"]
        bodies = {path: (await http.get(path)).text for path in pages}
        await login(http, "admin1")
        for path in ("/console/complaints", f"/console/complaints/{ticket_no}", "/console/alarms",
                     "/console/complaints/rows", "/console/alarms/rows"):  # fmt: skip
            response = await http.get(path)
            assert response.status_code == 200, path
            bodies[path] = response.text
        for path, body in bodies.items():
            assert not EXTERNAL.findall(body), (path, EXTERNAL.findall(body))
        assert "/console/static/vendor/swagger-ui-5.18.2/swagger-ui-bundle.js" in bodies["/docs"]
        spec = (await http.get("/docs/openapi.json")).json()  # pages are not API operations
        assert not [path for path in spec["paths"] if path.startswith(("/console", "/p/"))]
        public = await http.get("/p/projects/WL-2026-0031")
        assert public.status_code == 200 and not EXTERNAL.findall(public.text)
        for asset in re.findall(r'(?:src|href)="(/console/static/[^"]+)"', " ".join(bodies.values())):
            assert (await http.get(asset)).status_code == 200, asset


async def test_outbox_page_is_for_admins_and_shows_the_reply_sent_from_the_console(console_app: Any) -> None:
    ticket_no = await file_complaint(description="夜间噪声")
    async with client(console_app) as staff:
        await login(staff, "housing1")
        refused = await staff.get("/console/admin/outbox")
        assert refused.status_code == 403 and "无权访问" in refused.text
        token = form_token((await staff.get(f"/console/complaints/{ticket_no}")).text)
        for action in ("accept", "start"):
            done = await staff.post(
                f"/console/complaints/{ticket_no}/act/{action}", data={"csrf_token": token}
            )
            assert done.status_code == 303, done.text
        replied = await staff.post(
            f"/console/complaints/{ticket_no}/reply", data={"csrf_token": token, "text": "已责令整改<b>"}
        )
        assert replied.status_code == 303
    async with client(console_app) as admin:
        await login(admin, "admin1")
        page = await admin.get("/console/admin/outbox")
        assert page.status_code == 200 and "已责令整改&lt;b&gt;" in page.text
        assert "oCitizenConsole0001" not in page.text  # openids are masked
        assert not EXTERNAL.findall(page.text)


async def test_reassigning_to_another_department_moves_the_ticket_out_of_the_queue(console_app: Any) -> None:
    ticket_no = await file_complaint()
    async with client(console_app) as http:
        await login(http, "housing1")
        page = await http.get(f"/console/complaints/{ticket_no}")
        assert "改派" in page.text
        moved = await http.post(
            f"/console/complaints/{ticket_no}/assign",
            data={
                "csrf_token": form_token(page.text),
                "department": "environment",
                "note": "扬尘归生态环境局",
            },
        )
        assert moved.status_code == 303
        assert ticket_no not in (await http.get("/console/complaints")).text
    async with client(console_app) as other:
        await login(other, "env1")
        assert ticket_no in (await other.get("/console/complaints")).text


def _console_get_paths(app: Any) -> list[str]:
    """Every console page the app serves by GET, placeholders filled with a harmless value (so a page
    added later is covered without editing this list)."""
    paths = set()
    for route in app.router.routes:
        path = "/" + route.path.lstrip("/")
        if (
            "GET" not in route.methods
            or not path.startswith("/console")
            or path.startswith("/console/static")
        ):
            continue
        paths.add(re.sub(r"<([a-z_]+)(?::([a-z]+))?>", lambda m: "1" if m.group(2) == "int" else "X1", path))
    return sorted(paths)


async def test_every_console_page_needs_a_session_and_none_refers_outside(console_app: Any) -> None:
    """Walks the router: without a session every page leads to the login; an admin gets every page
    without a placeholder as 200, with no external URL."""
    paths = _console_get_paths(console_app)
    assert {"/console/projects", "/console/emergency", "/console/credit", "/console/cameras"} <= {
        path.rstrip("/") for path in paths
    }
    open_doors = {"/console", "/console/login"}
    async with client(console_app) as http:
        for path in paths:
            answer = await http.get(path)
            if path in open_doors:
                continue
            assert answer.status_code in (302, 303), (path, answer.status_code)
            assert answer.headers["location"].startswith("/console/login"), path
        await login(http, "admin1")
        for path in paths:
            if "X1" in path or path.endswith("/1") or "/1/" in path or path in open_doors:
                continue
            answer = await http.get(path, follow_redirects=True)
            assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
            assert not EXTERNAL.findall(answer.text), (path, EXTERNAL.findall(answer.text))


async def test_hostile_ids_and_query_text_get_a_4xx_page_never_a_5xx(console_app: Any) -> None:
    """Every console GET page with an id beyond the database's integer range, an unknown code, and a
    query value holding a NUL byte (PostgreSQL refuses it in text): a 4xx page, never a 5xx."""
    async with client(console_app) as http:
        await login(http, "admin1")
        for path in _console_get_paths(console_app):
            for hostile in {path.replace("/1", "/99999999999"), path.replace("X1", "X%00Y")}:
                answer = await http.get(hostile, follow_redirects=True)
                assert answer.status_code < 500, (hostile, answer.status_code, answer.text[:300])
            for name in ("q", "site_code", "state", "status", "town", "period", "page"):
                answer = await http.get(path, params={name: "a\x00b"}, follow_redirects=True)
                assert answer.status_code < 500, (path, name, answer.status_code, answer.text[:300])
