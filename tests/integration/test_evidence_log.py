"""The evidence log end to end on the real database: a camera alarm becomes a leaf exactly once,
its package verifies offline, replacing the evidence JPEG is caught by the audit and by verification,
and the monitor catches a forged checkpoint signed with the real key."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import io
import json
from pathlib import Path

import pytest
from PIL import Image

from adapters.media_store import LocalMediaStore
from adapters.memory import MemoryEventBus
from domain.alerts import services as alerts
from domain.errors import Conflict
from domain.events import DomainEvent, consume_once
from domain.evidence import events as evidence_events
from domain.evidence import merkle, records, services
from domain.evidence.models import EvidenceEntry, EvidenceSeen
from domain.evidence.monitor import LocalLog, Verdict, observe
from domain.evidence.notes import Checkpoint, Signer, sign_note
from domain.evidence.package import verify_package
from domain.evidence.rules import LOGGED_EVENTS, parse_leaf
from domain.outbox import services as outbox
from domain.ports import EventBus, MediaStore
from tests.integration.iot_helpers import make_site

SIGNER = Signer("wenling.test/evidence", bytes(range(32)))
SALT = b"evidence-test-salt"
NOW = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)


def jpeg(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), colour).save(buffer, format="JPEG")
    return buffer.getvalue()


async def drain(bus: EventBus, media: MediaStore) -> int:
    async def handle(event: DomainEvent) -> int | None:
        return await evidence_events.handle_event(event, media=media, salt=SALT, now=NOW)

    # Domain events leave through the transactional outbox: relay what was committed, then consume.
    relayed = await outbox.relay_once(bus, batch=500, now=NOW)
    while relayed:
        relayed = await outbox.relay_once(bus, batch=500, now=NOW)
    total = 0
    while handled := await consume_once(
        bus, group="evidence", consumer="test", event_names=LOGGED_EVENTS, handle=handle
    ):
        total += handled
    return total


async def write() -> None:
    await evidence_events.write_once(batch_size=3, signer=SIGNER, origin=SIGNER.name, sign=True, now=NOW)


async def camera_alarm(bus: EventBus, media: MediaStore) -> tuple[int, str]:
    await make_site()
    evidence_ref = await media.put(jpeg((200, 30, 30)), content_type="image/jpeg")
    alarm_id = await alerts.raise_alarm(
        bus=bus,
        source="CAM-0031-1",
        alarm_type="no_hardhat",
        severity="major",
        site_code="WL-2026-0031-S1",
        value=None,
        limit=None,
        message="未戴安全帽",
        at=NOW,
        evidence_ref=evidence_ref,
    )
    return alarm_id, evidence_ref


@pytest.fixture
async def bus(database: str) -> EventBus:
    bus = MemoryEventBus()
    for name in LOGGED_EVENTS:
        await bus.ensure_group(f"events.{name}", "evidence")
    return bus


async def test_a_camera_alarm_becomes_one_leaf_and_its_package_verifies_offline(
    bus: EventBus, tmp_path: Path
) -> None:
    media = LocalMediaStore(tmp_path / "media")
    alarm_id, evidence_ref = await camera_alarm(bus, media)
    assert await drain(bus, media) == 1
    # A redelivered event (same id) adds nothing.
    raised = await EvidenceEntry.get(kind="alarm", ref=str(alarm_id))
    assert (
        await evidence_events.handle_event(
            _redelivery(raised.event_id, alarm_id), media=media, salt=SALT, now=NOW
        )
        == raised.id
    )
    await write()
    assert await services.lookup("alarm", str(alarm_id)) == [0]
    leaf = parse_leaf(bytes((await services.entry_at(0)).data))
    assert leaf["files"][0]["ref"] == evidence_ref

    index, package = await records.package_for("alarm", str(alarm_id), media=media, verifier=SIGNER.verifier)
    report = verify_package(package, verifier=SIGNER.verifier)
    assert index == 0 and report.ok, report.checks
    assert (await services.record_status("alarm", str(alarm_id)))["status"] == "checkpointed"
    assert await records.audit(media=media) == []

    # Someone swaps the evidence JPEG in the media store (same reference, other bytes).
    media.path(evidence_ref).write_bytes(jpeg((30, 200, 30)))
    mismatches = await records.audit(media=media)
    assert [(m.leaf_index, m.kind, m.ref) for m in mismatches] == [(0, "alarm", str(alarm_id))]
    assert "replaced" in mismatches[0].problem
    _index, tampered = await records.package_for(
        "alarm", str(alarm_id), media=media, verifier=SIGNER.verifier
    )
    assert not verify_package(tampered, verifier=SIGNER.verifier).ok
    # The package made before the swap still proves what the evidence was.
    assert verify_package(package, verifier=SIGNER.verifier).ok


def _redelivery(event_id: str, alarm_id: int) -> DomainEvent:
    payload = {"alarm_id": alarm_id, "site_code": "WL-2026-0031-S1", "alarm_type": "no_hardhat",
               "source": "CAM-0031-1", "severity": "major", "at": NOW.isoformat()}  # fmt: skip
    return DomainEvent("AlarmRaised", payload, event_id=event_id)


async def _append(count: int, *, start: int = 0) -> None:
    for number in range(start, start + count):
        await services.add_entry(
            event_id=f"e{number}",
            kind="alarm",
            ref=str(number),
            action="raised",
            data=b"leaf %d" % number,
            now=NOW,
        )


async def test_stored_tree_proofs_and_tiles_match_a_tree_built_in_memory(database: str) -> None:
    frontier = merkle.Frontier()
    await _append(300)
    for number in range(300):
        frontier.append(merkle.leaf_hash(b"leaf %d" % number))
    while await services.sequence_pending(batch_size=64, now=NOW):
        pass
    assert await services.tree_head() == (300, frontier.root())
    for size in (1, 7, 256, 300):
        root = await services.root_at(size)
        for index in (0, size // 2, size - 1):
            proof = await services.inclusion_proof(leaf_index=index, tree_size=size)
            leaf = merkle.leaf_hash(b"leaf %d" % index)
            assert merkle.verify_inclusion(index=index, size=size, leaf=leaf, proof=proof, root=root)
        consistency = await services.consistency_proof(first=size, second=300)
        assert merkle.verify_consistency(
            first=size, second=300, first_root=root, second_root=frontier.root(), proof=consistency
        )
    full = await services.tile(level=0, index=0, width=256)
    assert full[:32] == merkle.leaf_hash(b"leaf 0") and len(full) == 256 * 32
    partial = await services.tile(level=0, index=1, width=44)
    assert len(partial) == 44 * 32
    level_one = await services.tile(level=1, index=0, width=1)  # the 256-leaf subtree hash
    assert level_one == await services.root_at(256)
    bundle = await services.entries_tile(index=1, width=2)
    assert bundle == b"\x00\x08leaf 256\x00\x08leaf 257"


async def test_a_new_checkpoint_is_published_once_for_the_city_feed(database: str) -> None:
    bus = MemoryEventBus()
    await bus.ensure_group("events.CheckpointSigned", "feed")
    await _append(3)
    for _ in range(2):  # the second pass finds nothing new: no second event
        await evidence_events.write_once(
            batch_size=2, signer=SIGNER, origin=SIGNER.name, sign=True, now=NOW, bus=bus
        )
    messages = await bus.read("events.CheckpointSigned", "feed", "test", count=10, block_ms=0)
    assert len(messages) == 1
    event = DomainEvent.from_message(messages[0])
    assert event.payload["tree_size"] == 3
    assert event.payload["note"] == (await services.latest_checkpoint()).note


async def test_the_monitor_accepts_growth_and_alerts_on_a_forged_fork_and_a_rollback(database: str) -> None:
    alerts_sent: list[str] = []

    async def alert(message: str) -> None:
        alerts_sent.append(message)

    async def seen(note: str) -> Verdict:
        return await observe(
            note, verifier=SIGNER.verifier, origin=SIGNER.name, proofs=LocalLog(), alert=alert, now=NOW
        )

    await _append(5)
    await write()
    assert await seen((await services.latest_checkpoint()).note) is Verdict.FIRST
    await _append(6, start=5)
    await write()
    honest = await services.latest_checkpoint()
    assert await seen(honest.note) is Verdict.GREW
    assert await seen(honest.note) is Verdict.SAME
    assert alerts_sent == []

    # Signed with the real key, same size, another root: only a fork can produce it.
    forged = sign_note(Checkpoint(SIGNER.name, 11, merkle.leaf_hash(b"other history")).text(), SIGNER)
    assert await seen(forged) is Verdict.FORK
    rollback = sign_note(Checkpoint(SIGNER.name, 5, await services.root_at(5)).text(), SIGNER)
    assert await seen(rollback) is Verdict.ROLLBACK
    bigger = sign_note(Checkpoint(SIGNER.name, 12, merkle.leaf_hash(b"x")).text(), SIGNER)
    assert await seen(bigger) is Verdict.FORK  # the log cannot prove it consistent
    stranger = Signer(SIGNER.name, bytes(32))
    assert (
        await seen(sign_note(Checkpoint(SIGNER.name, 11, honest.root).text(), stranger))
        is Verdict.BAD_SIGNATURE
    )
    assert len(alerts_sent) == 4 and "fork" in alerts_sent[0] and "rollback" in alerts_sent[1]
    assert await EvidenceSeen.filter(verdict="fork").count() == 2


async def test_an_acknowledgement_is_logged_with_the_managers_openid_hashed(
    bus: EventBus, tmp_path: Path
) -> None:
    media = LocalMediaStore(tmp_path / "media")
    alarm_id, _ref = await camera_alarm(bus, media)
    openid = "oManager000000000000001"
    await alerts.acknowledge(alarm_id, actor=openid, openid=None, at=NOW)
    with pytest.raises(Conflict):  # a second tap changes nothing and logs nothing
        await alerts.acknowledge(alarm_id, actor=openid, openid=None, at=NOW)
    await drain(bus, media)
    await write()
    status = await services.record_status("alarm", str(alarm_id))
    assert [entry["action"] for entry in status["entries"]] == ["raised", "acknowledged"]
    data = bytes((await services.entry_at(1)).data)
    assert openid.encode() not in data and base64.b64encode(openid.encode()) not in data
    assert parse_leaf(data)["record"]["actor"].startswith("hmac:")


async def test_concurrent_sequencers_never_give_two_leaves_one_index(database: str) -> None:
    await _append(60)

    async def sequence_all() -> None:
        while await services.sequence_pending(batch_size=7, now=NOW):
            pass

    await asyncio.gather(*(sequence_all() for _ in range(4)))
    indices = sorted(-1 if e.leaf_index is None else e.leaf_index for e in await EvidenceEntry.all())
    assert indices == list(range(60))
    frontier = merkle.Frontier()
    for entry in await EvidenceEntry.all().order_by("leaf_index"):
        frontier.append(merkle.leaf_hash(bytes(entry.data)))
    assert await services.tree_head() == (60, frontier.root())


async def test_a_staff_reply_and_the_citizens_rating_become_leaves_without_the_openid(
    bus: EventBus, tmp_path: Path
) -> None:
    """Issue 19: complaint replies, closures and ratings are logged, written with the step itself."""
    from domain.complaints import intake  # noqa: PLC0415
    from domain.complaints import services as complaints  # noqa: PLC0415
    from domain.complaints.rules import Action, Rating  # noqa: PLC0415
    from tests.integration.test_complaints_api import seed_sites  # noqa: PLC0415
    from tests.integration.test_complaints_services import STAFF, report  # noqa: PLC0415

    media = LocalMediaStore(tmp_path / "media")
    await seed_sites()
    openid = "oCitizenAAAA0001"
    ticket = await intake.submit(report(openid), now=NOW)
    await complaints.staff_act(ticket.ticket_no, Action.ACCEPT, principal=STAFF, now=NOW)
    reply_text = "已责令工地22:00后停止打桩"
    await complaints.reply(ticket.ticket_no, principal=STAFF, text=reply_text, now=NOW)
    await complaints.rate(ticket.ticket_no, Rating.SATISFIED, openid=openid, now=NOW)
    assert await drain(bus, media) >= 2
    assert await drain(bus, media) == 0  # relayed and consumed once
    await write()
    indices = await services.lookup("complaint", ticket.ticket_no)
    leaves = [parse_leaf(bytes((await services.entry_at(index)).data)) for index in indices]
    actions = [leaf["action"] for leaf in leaves]
    assert "reply" in actions and any(action.startswith("rate") for action in actions), actions
    raw = b"".join([bytes((await services.entry_at(index)).data) for index in indices])
    assert openid.encode() not in raw  # the citizen is a pseudonym in the log
    replied = next(leaf for leaf in leaves if leaf["action"] == "reply")
    assert hashlib.sha256(reply_text.encode()).hexdigest() in json.dumps(replied, ensure_ascii=False)
    _index, package = await records.package_for(
        "complaint", ticket.ticket_no, media=media, verifier=SIGNER.verifier
    )
    assert verify_package(package, verifier=SIGNER.verifier).ok


async def test_a_credit_record_its_appeal_and_the_revocation_are_leaves_and_an_edited_score_is_found(
    bus: EventBus, tmp_path: Path
) -> None:
    """Issue 19: credit records and appeal decisions are logged with the appeal's attachments bound by
    hash; a record whose points are edited afterwards is listed by the audit."""
    from domain.credit import services as credit  # noqa: PLC0415
    from domain.credit.models import CreditRecord  # noqa: PLC0415
    from domain.credit.rules import AppealAction  # noqa: PLC0415
    from tests.integration.test_credit_services import draft, uscc  # noqa: PLC0415

    media = LocalMediaStore(tmp_path / "media")
    catalogue = credit.rule_catalogue()
    company = uscc(7)
    bad = next(key for key, kind in catalogue.record_types.items() if kind.points < 0)
    record = await credit.add_record(
        draft(company, bad, NOW.date(), "温住建罚〔2026〕7号"),
        catalogue=catalogue,
        actor="staff:credit",
        now=NOW,
        needs_review=False,
    )
    photo = jpeg((30, 160, 30))
    photo_ref = await media.put(photo, content_type="image/jpeg")
    appeal = await credit.file_appeal(
        record.id,
        enterprise_uscc=company,
        actor="enterprise:7",
        reason="隐患已于当日整改完毕，附整改照片",
        attachments=[photo_ref],
        now=NOW,
    )
    await credit.decide_appeal(
        appeal.id, action=AppealAction.UPHOLD, actor="staff:credit", note="属实", now=NOW
    )
    assert await drain(bus, media) == 4
    await write()
    leaves = [
        parse_leaf(bytes((await services.entry_at(index)).data))
        for index in await services.lookup("credit", str(record.id))
    ]
    assert sorted(leaf["action"] for leaf in leaves) == sorted(
        ["add_record", "file_appeal", "appeal_uphold", "revoke_record"]
    )
    filed = next(leaf for leaf in leaves if leaf["action"] == "file_appeal")
    assert filed["files"] == [
        {"name": "attachment", "ref": photo_ref, "sha256": hashlib.sha256(photo).hexdigest()}
    ]
    assert next(leaf for leaf in leaves if leaf["action"] == "revoke_record")["record"]["status"] == "revoked"
    assert "staff:credit" not in json.dumps(leaves, ensure_ascii=False)  # actors are pseudonyms
    assert await records.audit(media=media) == []

    await CreditRecord.filter(id=record.id).update(points=-1)  # "corrected" before an inspection
    problems = [m.problem for m in await records.audit(media=media) if m.kind == "credit"]
    assert problems and all("points" in problem for problem in problems), problems


async def test_an_approval_decision_binds_the_materials_decided_on_and_a_replaced_one_is_found(
    bus: EventBus, tmp_path: Path
) -> None:
    """Issue 19: approval decisions carry the hashes of the materials decided on; a material file
    replaced in the media store afterwards is listed by the audit."""
    from domain.approvals import reviews  # noqa: PLC0415
    from domain.approvals.models import ReviewTask  # noqa: PLC0415
    from domain.approvals.rules import TaskDecision  # noqa: PLC0415
    from tests.integration.approvals_helpers import make_env, staff  # noqa: PLC0415
    from tests.integration.test_approvals_services import submitted_permit  # noqa: PLC0415

    env = make_env(tmp_path)
    media = env.media
    assert isinstance(media, LocalMediaStore)
    application = await submitted_permit(env)
    for task in await ReviewTask.filter(application_id=application.id):
        await reviews.decide(
            env, staff(task.department), task.id, decision=TaskDecision.APPROVE, comment="符合", now=NOW
        )
    assert await drain(bus, media) == 2  # submitted, decided
    await write()
    leaves = [
        parse_leaf(bytes((await services.entry_at(index)).data))
        for index in await services.lookup("approval", application.code)
    ]
    decided = next(leaf for leaf in leaves if leaf["event"] == "ApplicationDecided")
    assert decided["action"] == "approved"
    refs = sorted(decided["record"]["file_refs"])
    assert refs and sorted(item["ref"] for item in decided["files"]) == refs
    for item in decided["files"]:
        assert item["sha256"] == hashlib.sha256(await media.get(item["ref"])).hexdigest()
    assert await records.audit(media=media) == []

    media.path(refs[0]).write_bytes(b"%PDF-1.4 a different drawing")
    problems = [m for m in await records.audit(media=media) if m.kind == "approval"]
    assert problems and all("replaced" in m.problem for m in problems), problems


async def test_an_hour_of_raw_frames_is_sealed_once_and_an_edited_frame_is_found(
    bus: EventBus, tmp_path: Path
) -> None:
    """Issue 19: the raw HJ 212 frames are logged per device and hour as a hash of the batch; the audit
    finds a frame "corrected" afterwards, and sealing twice adds nothing."""
    from domain.iot import sealing  # noqa: PLC0415
    from domain.iot.models import RawFrame  # noqa: PLC0415
    from domain.iot.rules import FrameStatus  # noqa: PLC0415
    from domain.iot.services import store_frames  # noqa: PLC0415

    media = LocalMediaStore(tmp_path / "media")
    hour = dt.datetime(2026, 11, 24, 1, 0, tzinfo=dt.UTC)  # the hour before NOW
    frames = [
        {
            "received_at": hour + dt.timedelta(minutes=minute, seconds=7),
            "mn": mn,
            "source": "tcp",
            "status": FrameStatus.STORED,
            "reason": "",
            "qn": f"20261124{minute:02d}",
            "frame": f"##0101QN=2026112409{minute:02d}00000;ST=22;CN=2011;MN={mn};"
            + f"CP=&&a34002-Rtd={40 + minute}&&",
        }
        for mn in ("33108100000001", "33108100000002")
        for minute in range(0, 60, 10)
    ]
    frames.append({**frames[0], "status": FrameStatus.QUARANTINED, "mn": "99999999999999"})  # not a device's
    await store_frames(frames)
    assert await sealing.seal_due(after=None, now=NOW, lookback=dt.timedelta(hours=2)) == hour - dt.timedelta(
        hours=1
    )
    later = NOW + dt.timedelta(minutes=6)  # the hour is complete and past the bridge's flush grace
    assert await sealing.seal_due(after=None, now=later, lookback=dt.timedelta(hours=2)) == hour
    assert await sealing.seal_hour(hour, now=NOW) == 0  # already sealed
    assert await sealing.last_sealed_hour() == hour
    assert await drain(bus, media) == 2  # one per device, the quarantined frame is not sealed
    await write()
    ref = "33108100000001@2026-11-24T01"
    [index] = await services.lookup("readings", ref)
    leaf = parse_leaf(bytes((await services.entry_at(index)).data))
    assert leaf["record"]["count"] == 6
    assert await records.audit(media=media) == []
    _index, package = await records.package_for("readings", ref, media=media, verifier=SIGNER.verifier)
    assert verify_package(package, verifier=SIGNER.verifier).ok

    victim = await RawFrame.filter(mn="33108100000001").order_by("id").first()
    assert victim is not None
    await RawFrame.filter(id=victim.id).update(frame=victim.frame.replace("Rtd=40", "Rtd=20"))
    last = await RawFrame.filter(mn="33108100000002").order_by("-id").first()
    assert last is not None
    await RawFrame.filter(id=last.id).delete()
    problems = {m.ref: m.problem for m in await records.audit(media=media)}
    assert set(problems) == {ref, "33108100000002@2026-11-24T01"}, problems
    assert "6 frame(s)" in problems[ref] and "5 frame(s)" in problems["33108100000002@2026-11-24T01"]
    # Past the raw-frame retention there is nothing left to compare: not a mismatch.
    assert await records.audit(media=media, raw_frames_kept_since=NOW) == []
