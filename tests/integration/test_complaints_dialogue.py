"""The bot's complaint dialogues through the real dialogue engine (keyword NLU, in-process ports):
multi-turn report with a location message and a photo, confirmation, status, and rating."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from adapters.infrastructure import Infrastructure
from adapters.media_store import LocalMediaStore, MediaStore
from adapters.memory import MemoryCache, MemoryDedupStore, MemoryEventBus, MemoryGeoIndex, MemoryLock
from bot.dialogue.engine import DialogueEngine, UserInput
from bot.dialogue.frames import RatingQuestion
from bot.dialogue.registry import IntentTable
from bot.dialogue.store import load_state
from bot.dialogue.types import BotDeps
from bot.dialogues import complaints as complaint_dialogue
from domain.accounts.rules import Principal, Role
from domain.complaints import intake, services
from domain.complaints.models import Complaint
from domain.complaints.rules import Action, Rating, State
from nlu.factory import build_engine
from tests.integration.test_complaints_api import NEAR_A, png_bytes, seed_sites

OPENID = "oWX-citizen-complaint-0001"
NOW = dt.datetime(2026, 3, 10, 15, 40, tzinfo=dt.UTC)  # 23:40 in Shanghai
STAFF = Principal(subject="1", role=Role.STAFF, department="housing")


@pytest.fixture
def media(tmp_path: Path) -> MediaStore:
    return LocalMediaStore(tmp_path / "media")


@pytest.fixture
def engine(tmp_path: Path, media: MediaStore) -> DialogueEngine:
    from tests.conftest import make_settings  # noqa: PLC0415

    infra = Infrastructure(
        bus=MemoryEventBus(),
        dedup=MemoryDedupStore(),
        lock=MemoryLock(),
        cache=MemoryCache(),
        geo=MemoryGeoIndex(),
        redis_backed=False,
    )
    deps = BotDeps(
        settings=make_settings(tmp_path),
        infra=infra,
        nlu=build_engine(backend="embedded", data_dir=None, fallback_threshold=0.45),
        media=media,
    )
    table = IntentTable(complaint_dialogue.DIALOGUES)
    table.interceptors.extend(complaint_dialogue.INTERCEPTORS)  # the pending rating question
    return DialogueEngine(deps, table)


async def say(engine: DialogueEngine, text: str, *, minutes: int = 0) -> str:
    return await engine.respond(OPENID, UserInput(text=text), now=NOW + dt.timedelta(minutes=minutes))


async def test_multi_turn_report_with_location_and_photo(
    database: str, engine: DialogueEngine, media: MediaStore
) -> None:
    await seed_sites()
    first = await say(engine, "工地半夜打桩太吵了")
    assert first == complaint_dialogue.ASK_WHERE
    # The engine gets WGS-84: the inbound handler (the door) converts WeChat's GCJ-02 once.
    # The production engine reads "半夜" as the time: no question about when.
    summary = await engine.respond(
        OPENID,
        UserInput(location=NEAR_A, location_label="万昌中路"),
        now=NOW + dt.timedelta(minutes=1),
    )
    assert "夜间施工噪声" in summary and "回复 1 确认提交" in summary
    ref = await media.put(png_bytes(), content_type="image/png")
    assert await engine.add_evidence(OPENID, ref, now=NOW + dt.timedelta(minutes=3))
    accepted = await say(engine, "1", minutes=4)
    assert accepted.startswith("已受理，工单号 TS20260310"), accepted
    ticket = await Complaint.get(reporter_openid=OPENID)
    assert ticket.nuisance_type == "night_noise" and ticket.site_code == "WL-2026-0031-S1"
    assert ticket.lat == pytest.approx(NEAR_A[0], abs=1e-5) and ticket.photos == [ref]
    assert ticket.state is State.DISPATCHED and ticket.channel == "wechat"
    assert "半夜打桩" in ticket.description


async def test_typed_confirmation_and_cancel(database: str, engine: DialogueEngine) -> None:
    await seed_sites()
    await say(engine, "渣土车晚上撒漏")
    await say(engine, "泽国镇文昌路", minutes=1)
    summary = await say(engine, "刚才", minutes=2)
    assert "渣土车" in summary
    accepted = await say(engine, "确认", minutes=3)
    assert accepted.startswith("已受理"), accepted
    assert (await Complaint.get(reporter_openid=OPENID)).department == "urban_management"
    await say(engine, "扬尘很大", minutes=10)
    await say(engine, "锦屏路", minutes=11)
    await say(engine, "刚才", minutes=12)
    assert await say(engine, "2", minutes=13) == complaint_dialogue.CANCELLED
    assert await Complaint.filter(reporter_openid=OPENID).count() == 1


async def test_status_and_rating_after_a_staff_reply(database: str, engine: DialogueEngine) -> None:
    await seed_sites()
    new = intake.NewComplaint(
        nuisance_type="night_noise",
        description="夜间打桩",
        channel="wechat",
        reporter_openid=OPENID,
        lat=NEAR_A[0],
        lng=NEAR_A[1],
    )
    ticket = await intake.submit(new, now=NOW)
    status = await say(engine, "我的投诉进度", minutes=1)
    assert ticket.ticket_no in status and "已派单" in status
    await services.staff_act(ticket.ticket_no, Action.ACCEPT, principal=STAFF, now=NOW)
    await services.reply(
        ticket.ticket_no, principal=STAFF, text="已责令停工", now=NOW + dt.timedelta(minutes=5)
    )
    asked = await say(engine, "投诉进度", minutes=6)
    assert "已责令停工" in asked and "3 不满意" in asked
    # The complaints context pushes the one "重新办理" notice itself: the passive reply stays empty
    # so the citizen is not told twice.
    assert await say(engine, "3", minutes=7) == ""
    assert (await Complaint.get(id=ticket.id)).state is State.REOPENED
    await services.reply(ticket.ticket_no, principal=STAFF, text="已复查", now=NOW + dt.timedelta(minutes=30))
    # A bare rating word right after the reply answers the pending rating question.
    closed = await say(engine, "满意", minutes=31)
    assert closed == ""  # the thank-you is pushed once, by the complaints context
    assert (await Complaint.get(id=ticket.id)).state is State.CLOSED
    # The question was answered: it leaves the conversation, and a second "满意" rates nothing.
    state = await load_state(engine.deps.infra.cache, OPENID)
    assert state.waiting(RatingQuestion, now=(NOW + dt.timedelta(minutes=32)).timestamp()) is None
    await say(engine, "满意", minutes=32)
    rated = await Complaint.get(id=ticket.id)
    assert rated.state is State.CLOSED and rated.rating == Rating.SATISFIED.value
