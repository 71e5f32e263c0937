"""The admin pages, over real HTTP with staff and admin sessions: duty rosters (who escalations go to),
cameras (settings with the domain's validation, and health) and staff accounts (roles, departments,
the login lockout and its unlock). Roles and CSRF are the API's and the console's own rules."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from console.templating import LOCAL_TZ
from domain.notifications import escalation
from domain.notifications.models import Escalation, OutboxMessage
from domain.notifications.rules import TemplateContent
from domain.vision import camera_admin, samples
from domain.vision import services as vision
from domain.vision.camera_rules import CameraSettings
from domain.vision.events import CameraHealth
from tests.console.helpers import XSS_IMG, XSS_SCRIPT, form_token, login

SITE = "WL-2026-0031-S1"
CAMERA = "cam-gate-01"
ZONE = [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9]]
PAGES = ("/console/rosters/", "/console/rosters/housing", "/console/cameras/", f"/console/cameras/{CAMERA}")


@pytest.fixture
async def camera(console_app: Any) -> vision.CameraInfo:
    return await camera_admin.create_camera(
        CAMERA,
        site_code=SITE,
        settings=CameraSettings(name="大门口", stream_url="rtsp://10.0.0.8/live", sample_fps=2.0),
    )


@pytest.fixture
async def admin(console_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with signed_in(console_app, "admin1") as client:
        yield client


@pytest.fixture
async def housing(console_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with signed_in(console_app, "housing1") as client:
        yield client


def signed_in(app: Any, username: str) -> httpx.AsyncClient:
    """A client whose login is done on entry (``async with``)."""

    class Client(httpx.AsyncClient):
        async def __aenter__(self) -> Client:
            await super().__aenter__()
            response = await login(self, username)
            assert response.status_code == 303, response.text
            return self

    return Client(base_url=str(app.ctx.http.base_url), timeout=30)


async def escalate_housing_alarm(key: str) -> list[str]:
    """Escalate an alarm of the housing bureau's, as the dispatcher does: to whom did it go?"""
    escalation_id = await escalation.escalate(
        escalation.EscalationRequest(
            key=key,
            department="housing",
            text="塔吊超载告警未确认",
            template=TemplateContent(
                "alarm_escalation",
                {"site": SITE, "alarm_type": "塔吊超载", "alarm_id": key, "time": "2026-03-01 10:00"},
            ),
            sms_params={},
        ),
        now=dt.datetime.now(dt.UTC),
    )
    record = await Escalation.get(id=escalation_id)
    rows = await OutboxMessage.filter(id__in=record.outbox_ids or [-1]).order_by("id")
    return [row.recipient_openid for row in rows]


async def keep_frame(app: Any, camera_code: str, jpeg: bytes) -> None:
    """The raw frame behind a camera alarm, as the vision worker keeps it."""
    ref = await app.ctx.media.put(jpeg, content_type="image/jpeg")
    kept = samples.KeptFrame(
        evidence_ref=f"evidence-{ref}",
        frame_ref=ref,
        camera_code=camera_code,
        alarm_type="no_helmet",
        captured_at=dt.datetime.now(dt.UTC),
        width=1920,
        height=1080,
    )
    await samples.keep_alarm_frame(kept, detections=[], offenders=[])


# --- every page: who may see it ------------------------------------------------------------------


async def test_admin_pages_render_for_admins_and_send_anonymous_visitors_to_login(
    console_app: Any, camera: vision.CameraInfo, admin: httpx.AsyncClient
) -> None:
    async with httpx.AsyncClient(base_url=str(console_app.ctx.http.base_url), timeout=30) as anonymous:
        for path in (*PAGES, "/console/admin/accounts/"):
            response = await anonymous.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/console/login?next="), path
            refused = await anonymous.post(path, data={"csrf_token": "x"})
            assert refused.status_code in (303, 405), path
    expected = {
        "/console/rosters/": ("值班表", "默认值班表", "住建局", "生态环境局"),
        "/console/rosters/housing": ("编辑值班表：住建局", 'id="roster-form"'),
        "/console/cameras/": ("摄像头", CAMERA, "大门口", SITE, "未接入", "2 帧/秒"),
        f"/console/cameras/{CAMERA}": ("摄像头 cam-gate-01", 'id="camera-form"', "rtsp://10.0.0.8/live"),
        "/console/admin/accounts/": ("工作人员账号", "housing1", "工作人员", "住建局", "管理员"),
    }
    for path, texts in expected.items():
        page = await admin.get(path)
        assert page.status_code == 200, (path, page.text)
        for text in texts:
            assert text in page.text, (path, text)
        for link in ("值班表", "摄像头", "账号"):
            assert f">{link}</a>" in page.text  # the nav
    accounts = (await admin.get("/console/admin/accounts/")).text
    assert "builder1" not in accounts  # enterprise logins are not staff accounts
    assert "scrypt$" not in accounts


async def test_staff_read_rosters_and_cameras_but_edit_only_what_the_api_lets_them(
    camera: vision.CameraInfo, housing: httpx.AsyncClient
) -> None:
    rosters = await housing.get("/console/rosters/")
    assert rosters.status_code == 200
    assert 'href="/console/rosters/housing"' in rosters.text
    assert 'href="/console/rosters/environment"' not in rosters.text
    assert ">账号</a>" not in rosters.text and ">消息发件箱</a>" not in rosters.text
    token = form_token(rosters.text)
    other = await housing.get("/console/rosters/environment")
    assert other.status_code == 403 and "无权访问" in other.text
    posted = await housing.post(
        "/console/rosters/environment",
        data={"csrf_token": token, "name": "张三", "openid": "oEnvDuty0001", "phone": ""},
    )
    assert posted.status_code == 403
    assert await escalation.list_roster("environment") == []

    page = await housing.get(f"/console/cameras/{CAMERA}")
    assert page.status_code == 200 and "大门口" in page.text
    assert 'id="camera-form"' not in page.text and "修改设置需管理员权限" in page.text
    edit = await housing.post(
        f"/console/cameras/{CAMERA}",
        data={"csrf_token": token, "name": "改名", "stream_url": "", "sample_fps": "5", "enabled": "1"},
    )
    assert edit.status_code == 403
    assert (await vision.camera_info(CAMERA)).name == "大门口"

    assert (await housing.get("/console/admin/accounts/")).status_code == 403
    unknown = await housing.get("/console/rosters/nowhere")
    assert unknown.status_code in (403, 404)


# --- duty rosters ----------------------------------------------------------------------------------


async def test_roster_edit_changes_who_escalations_go_to(
    console_app: Any, housing: httpx.AsyncClient
) -> None:
    now = dt.datetime.now(dt.UTC)
    await escalation.replace_roster(
        "default", [escalation.RosterMember(name="总值班", openid="oDefaultDuty001")], actor="test", now=now
    )
    assert await escalate_housing_alarm("alarm:1") == ["oDefaultDuty001"]

    page = await housing.get("/console/rosters/housing")
    token = form_token(page.text)
    form = {"name": ["李四", "王五"], "openid": ["oHousingDuty001", ""], "phone": ["", "13912345678"]}
    without = await housing.post("/console/rosters/housing", data=form)
    assert without.status_code == 403 and "csrf_failed" in without.text
    assert await escalate_housing_alarm("alarm:2") == ["oDefaultDuty001"]

    saved = await housing.post("/console/rosters/housing", data={**form, "csrf_token": token})
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == "/console/rosters/?saved=housing"
    assert await escalate_housing_alarm("alarm:3") == ["oHousingDuty001"]
    listed = await housing.get(saved.headers["location"])
    assert "已保存“住建局”" in listed.text and "李四" in listed.text and "139****5678" in listed.text
    assert "oHousingDuty001" not in listed.text  # masked, as the API lists it

    bad = await housing.post(
        "/console/rosters/housing",
        data={"csrf_token": token, "name": ["赵六"], "openid": [""], "phone": ["12345"]},
    )
    assert bad.status_code == 400
    assert "11-digit mainland mobile number" in bad.text and 'value="12345"' in bad.text
    empty = await housing.post("/console/rosters/housing", data={"csrf_token": token, "name": [""]})
    assert empty.status_code == 400 and "清空值班表" in empty.text
    assert await escalate_housing_alarm("alarm:4") == ["oHousingDuty001"]

    cleared = await housing.post("/console/rosters/housing", data={"csrf_token": token, "clear": "1"})
    assert cleared.status_code == 303
    assert await escalate_housing_alarm("alarm:5") == ["oDefaultDuty001"]


async def test_admins_edit_the_default_roster_with_escaped_names(admin: httpx.AsyncClient) -> None:
    page = await admin.get("/console/rosters/default")
    saved = await admin.post(
        "/console/rosters/default",
        data={"csrf_token": form_token(page.text), "name": XSS_SCRIPT[:64], "openid": "oDefault002"},
    )
    assert saved.status_code == 303
    assert [row.openid for row in await escalation.roster_for("fire")] == ["oDefault002"]
    listed = await admin.get("/console/rosters/")
    assert XSS_SCRIPT not in listed.text and "&lt;script&gt;" in listed.text


# --- cameras -------------------------------------------------------------------------------------


async def test_camera_edit_changes_the_settings_and_refuses_bad_values(
    camera: vision.CameraInfo, admin: httpx.AsyncClient
) -> None:
    page = await admin.get(f"/console/cameras/{CAMERA}")
    token = form_token(page.text)
    form = {
        "name": "塔吊下方",
        "stream_url": "rtsp://10.0.0.9/main",
        "sample_fps": "1.5",
        "score_threshold": "0.6",
        "work_zone": "[[0.1, 0.1], [0.9, 0.1], [0.9, 0.9]]",
    }
    without = await admin.post(f"/console/cameras/{CAMERA}", data=form)
    assert without.status_code == 403
    assert await vision.camera_info(CAMERA) == camera

    saved = await admin.post(f"/console/cameras/{CAMERA}", data={**form, "csrf_token": token})
    assert saved.status_code == 303 and saved.headers["location"] == f"/console/cameras/{CAMERA}?saved=1"
    changed = await vision.camera_info(CAMERA)
    assert changed.name == "塔吊下方" and changed.stream_url == "rtsp://10.0.0.9/main"
    assert changed.sample_fps == 1.5 and changed.score_threshold == 0.6
    assert changed.work_zone == tuple(tuple(point) for point in ZONE)
    assert changed.enabled is False  # the box was left unticked
    shown = await admin.get(saved.headers["location"])
    assert "设置已保存" in shown.text and 'value="0.6"' in shown.text

    refusals = {
        "work_zone": ("[[0.1, 0.1], [0.5, 0.5], [0.9, 0.9]]", "work_zone encloses no area"),
        "score_threshold": ("1.5", "score_threshold must be a number between 0 and 1"),
        "sample_fps": ("fast", "sample_fps must be a number above 0 and at most 30"),
        "stream_url": ("ftp://x/y", "stream_url must be an rtsp://"),
    }
    for field, (value, message) in refusals.items():
        refused = await admin.post(
            f"/console/cameras/{CAMERA}", data={**form, field: value, "csrf_token": token, "enabled": "1"}
        )
        assert refused.status_code == 400, (field, refused.text)
        assert "设置有误，未保存" in refused.text and message in refused.text, field
        assert f'value="{value}"' in refused.text or value in refused.text  # the typed value is kept
        assert await vision.camera_info(CAMERA) == changed, field

    cleared = await admin.post(
        f"/console/cameras/{CAMERA}",
        data={**form, "score_threshold": "", "work_zone": "", "enabled": "1", "csrf_token": token},
    )
    assert cleared.status_code == 303
    again = await vision.camera_info(CAMERA)
    assert again.score_threshold is None and again.work_zone is None and again.enabled is True


async def test_camera_pages_show_health_and_escape_the_name(
    console_app: Any, camera: vision.CameraInfo, admin: httpx.AsyncClient
) -> None:
    evil = (XSS_IMG + XSS_SCRIPT)[:64]
    await camera_admin.update_camera(CAMERA, CameraSettings(name=evil))
    await camera_admin.create_camera(
        "cam-yard-02", site_code=SITE, settings=CameraSettings(name="料场", enabled=False)
    )
    seen = dt.datetime(2026, 3, 1, 2, 5, 9, tzinfo=dt.UTC)  # 10:05:09 in Wenling
    health = CameraHealth(camera_code=CAMERA, last_frame_at=seen.isoformat(), fps=1.8, frames=90, drops=7)
    await vision.save_health(console_app.ctx.infra.cache, health)

    listed = await admin.get("/console/cameras/")
    assert listed.status_code == 200
    assert XSS_SCRIPT not in listed.text and XSS_IMG not in listed.text
    assert "&lt;script&gt;" in listed.text
    assert "离线" in listed.text and "已停用" in listed.text  # an old frame; a disabled camera
    assert "2026-03-01 10:05:09" in listed.text and ">1.8<" in listed.text and ">7<" in listed.text
    only = await admin.get("/console/cameras/", params={"site": "WL-2026-0099-S1"})
    assert CAMERA not in only.text and "没有摄像头" in only.text

    detail = await admin.get(f"/console/cameras/{CAMERA}")
    assert detail.status_code == 200
    assert XSS_SCRIPT not in detail.text and XSS_IMG not in detail.text
    assert "丢帧 / 错误</dt><dd>7 / 0" in detail.text and "/console/static/zone_editor.js" in detail.text
    assert (await admin.get("/console/static/zone_editor.js")).status_code == 200
    assert "data-frame=" not in detail.text
    assert (await admin.get(f"/console/cameras/{CAMERA}/frame")).status_code == 404

    jpeg = b"\xff\xd8\xff\xe0" + b"frame-under-the-zone-editor" + b"\xff\xd9"
    await keep_frame(console_app, CAMERA, jpeg)
    detail = await admin.get(f"/console/cameras/{CAMERA}")
    assert f'data-frame="/console/cameras/{CAMERA}/frame"' in detail.text
    frame = await admin.get(f"/console/cameras/{CAMERA}/frame")
    assert frame.status_code == 200 and frame.content == jpeg
    assert frame.headers["content-type"] == "image/jpeg"

    await vision.save_health(
        console_app.ctx.infra.cache,
        CameraHealth(camera_code=CAMERA, last_frame_at=dt.datetime.now(dt.UTC).isoformat(), fps=2.0),
    )
    assert "在线" in (await admin.get(f"/console/cameras/{CAMERA}")).text
    missing = await admin.get("/console/cameras/no-such-camera")
    assert missing.status_code == 404 and "未找到" in missing.text


# --- accounts ------------------------------------------------------------------------------------


def last_login(html: str, username: str) -> str:
    row = next(part for part in html.split("<tr") if f">{username}<" in part)
    found = re.search(r'<td class="last-login">([^<]*)</td>', row)
    assert found, row
    return found.group(1)


async def test_admin_sees_a_locked_login_and_unlocks_it(console_app: Any, admin: httpx.AsyncClient) -> None:
    async with httpx.AsyncClient(base_url=str(console_app.ctx.http.base_url), timeout=30) as guesser:
        for _ in range(3):
            assert (await login(guesser, "env1", "wrong-password")).status_code == 401
        assert (await login(guesser, "env1")).status_code == 429

    page = await admin.get("/console/admin/accounts/")
    env_row = next(part for part in page.text.split("<tr") if "env1" in part)
    assert "已锁定" in env_row and "生态环境局" in env_row and "工作人员" in env_row
    assert "已锁定" not in next(part for part in page.text.split("<tr") if ">housing1<" in part)
    action = env_row.split('action="', 1)[1].split('"', 1)[0]
    assert action.startswith("/console/admin/accounts/") and action.endswith("/unlock")

    without = await admin.post(action, data={})
    assert without.status_code == 403
    async with httpx.AsyncClient(base_url=str(console_app.ctx.http.base_url), timeout=30) as still:
        assert (await login(still, "env1")).status_code == 429

    unlocked = await admin.post(action, data={"csrf_token": form_token(page.text)})
    assert unlocked.status_code == 303
    notice = await admin.get(unlocked.headers["location"])
    assert "已解除“env1”的登录锁定" in notice.text
    assert last_login(page.text, "env1") == "-"
    async with httpx.AsyncClient(base_url=str(console_app.ctx.http.base_url), timeout=30) as user:
        assert (await login(user, "env1")).status_code == 303
    shown = last_login((await admin.get("/console/admin/accounts/")).text, "env1")
    shown_at = dt.datetime.strptime(shown, "%Y-%m-%d %H:%M").replace(tzinfo=LOCAL_TZ)  # Wenling time
    assert abs(dt.datetime.now(dt.UTC) - shown_at) < dt.timedelta(minutes=2), shown
    nobody = await admin.post(
        "/console/admin/accounts/999999/unlock", data={"csrf_token": form_token(page.text)}
    )
    assert nobody.status_code == 404
