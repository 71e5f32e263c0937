"""Callback crypto, XML parsing and reply rendering, with wechatpy's real crypto and no I/O."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.crypto import CallbackCrypto, Rejected, check_timestamp
from bot.inbound import MAX_BODY_BYTES, parse_fields, to_message
from bot.replies import MAX_REPLY_BYTES, render_text_reply, split_reply
from tests.wechat_inbound import APPID, TOKEN, WeChatSender, new_aes_key, sha1_sorted


def _encrypted_fields(sender: WeChatSender, xml: str) -> tuple[dict[str, str], dict[str, str]]:
    params, body = sender.request(xml, safe=True)
    return params, parse_fields(body)


def test_signature_and_timestamp_checks() -> None:
    crypto = CallbackCrypto(token=TOKEN, appid=APPID)
    now = int(time.time())
    crypto.check_signature(sha1_sorted(TOKEN, str(now), "42"), timestamp=str(now), nonce="42")
    with pytest.raises(Rejected) as bad:
        crypto.check_signature(sha1_sorted("other-token", str(now), "42"), timestamp=str(now), nonce="42")
    assert bad.value.status == 403
    check_timestamp(str(now - 299), now_s=now, max_skew_s=300)
    for stale in (str(now - 301), str(now + 301)):
        with pytest.raises(Rejected):
            check_timestamp(stale, now_s=now, max_skew_s=300)
    for malformed in ("12ab", "³", "١٧٠٠٠٠٠٠٠٠", ""):
        with pytest.raises(Rejected) as refused:
            check_timestamp(malformed, now_s=now, max_skew_s=300)
        assert refused.value.status == 400


def test_safe_mode_decrypts_with_current_and_previous_key_and_encrypts_with_the_one_used() -> None:
    current, previous = new_aes_key(), new_aes_key()
    crypto = CallbackCrypto(token=TOKEN, appid=APPID, aes_key=current, previous_aes_key=previous)
    for key, index in ((current, 0), (previous, 1)):
        sender = WeChatSender(aes_key=key)
        params, fields = _encrypted_fields(sender, sender.text("你好"))
        decrypted = crypto.decrypt(
            fields["Encrypt"],
            msg_signature=params["msg_signature"],
            timestamp=params["timestamp"],
            nonce=params["nonce"],
        )
        assert decrypted.key_index == index
        assert to_message(parse_fields(decrypted.xml.encode())).content == "你好"
        reply = render_text_reply(to_user=sender.openid, from_user="gh", text="答复", create_time=1)
        envelope = crypto.encrypt(reply, nonce="n1", timestamp=params["timestamp"], key_index=index)
        assert sender.read_reply(envelope)["Content"] == "答复"


def test_safe_mode_refuses_unknown_key_and_bad_msg_signature() -> None:
    crypto = CallbackCrypto(token=TOKEN, appid=APPID, aes_key=new_aes_key())
    stranger = WeChatSender(aes_key=new_aes_key())
    params, fields = _encrypted_fields(stranger, stranger.text("x"))
    with pytest.raises(Rejected) as undecryptable:
        crypto.decrypt(
            fields["Encrypt"],
            msg_signature=params["msg_signature"],
            timestamp=params["timestamp"],
            nonce=params["nonce"],
        )
    assert undecryptable.value.reason == "undecryptable"
    with pytest.raises(Rejected) as forged:
        crypto.decrypt(
            fields["Encrypt"], msg_signature="0" * 40, timestamp=params["timestamp"], nonce=params["nonce"]
        )
    assert forged.value.status == 403


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    b"<xml><Content>&lol2;</Content></xml>"
)
EXTERNAL_ENTITY = (
    b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><Content>&xxe;</Content></xml>'
)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (BILLION_LAUGHS, "xml_declaration_refused"),
        (EXTERNAL_ENTITY, "xml_declaration_refused"),
        (b"<xml><ToUserName>a</ToUserName><Content>trunc", "malformed_xml"),
        (b"<xml><a><b>nested</b></a></xml>", "nested_xml"),
        (b"<root><a>x</a></root>", "unexpected_xml_shape"),
        (b"", "empty_body"),
        (b"\xff\xfe garbage", "malformed_xml"),
        (b"<xml>" + b"<A>x</A>" * (MAX_BODY_BYTES // 8) + b"</xml>", "body_too_large"),
    ],
)
def test_hostile_or_broken_xml_is_refused(body: bytes, reason: str) -> None:
    with pytest.raises(Rejected) as refused:
        parse_fields(body)
    assert refused.value.reason == reason
    assert 400 <= refused.value.status < 500


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        (
            {"ToUserName": "a", "FromUserName": "b", "CreateTime": "yesterday", "MsgType": "text"},
            "bad_CreateTime",
        ),
        (
            {"ToUserName": "a", "FromUserName": "b", "CreateTime": "1", "MsgType": "text", "MsgId": "x1"},
            "bad_MsgId",
        ),
        (
            {
                "ToUserName": "a",
                "FromUserName": "b",
                "CreateTime": "1",
                "MsgType": "location",
                "Location_X": "north",
                "Location_Y": "121",
            },
            "bad_coordinate",
        ),
        (
            {
                "ToUserName": "a",
                "FromUserName": "b",
                "CreateTime": "1",
                "MsgType": "location",
                "Location_X": "95",
                "Location_Y": "121",
            },
            "bad_coordinate",
        ),
        ({"ToUserName": "a", "CreateTime": "1", "MsgType": "text"}, "missing_FromUserName"),
    ],
)
def test_wrong_field_types_are_refused(fields: dict[str, str], reason: str) -> None:
    with pytest.raises(Rejected) as refused:
        to_message(fields)
    assert refused.value.reason == reason


def test_dedup_keys_follow_wechat_advice() -> None:
    sender = WeChatSender()
    text = to_message(parse_fields(sender.text("hi", msg_id=1234567).encode()))
    assert text.dedup_key == "msg:1234567"
    event = to_message(parse_fields(sender.event("CLICK", key="help", create_time=1700000000).encode()))
    assert event.dedup_key == f"evt:{sender.openid}:1700000000:CLICK"
    receipt = to_message(
        parse_fields(sender.event("TEMPLATESENDJOBFINISH", MsgID=200163836, Status="success").encode())
    )
    assert (receipt.msg_id, receipt.status) == ("200163836", "success")


@given(st.text(max_size=300))
def test_any_content_survives_the_cdata_reply(content: str) -> None:
    clean = "".join(
        ch
        for ch in content
        if ch in "\t\n"
        or (ord(ch) >= 0x20 and not 0xD800 <= ord(ch) <= 0xDFFF and ord(ch) not in (0xFFFE, 0xFFFF))
    )
    xml = render_text_reply(to_user="o]]>x", from_user="gh", text=clean + "]]><evil/>", create_time=1)
    fields = {child.tag: child.text or "" for child in ET.fromstring(xml)}
    assert fields["Content"] == (clean + "]]><evil/>").replace("\r", "\n") or "\r" in clean
    assert fields["ToUserName"] == "o]]>x"
    assert set(fields) == {"ToUserName", "FromUserName", "CreateTime", "MsgType", "Content"}


@given(st.text(alphabet="温岭工地abc\n😀", max_size=3000))
def test_split_reply_keeps_every_piece_within_2048_bytes(text: str) -> None:
    pieces = split_reply(text)
    assert all(len(piece.encode()) <= MAX_REPLY_BYTES for piece in pieces)
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")
