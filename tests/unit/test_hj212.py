"""HJ 212-2017 codec: the standard's own vector, tolerant parsing, split packets, the 9014 reply, and
property tests: round trips survive, damaged frames are rejected and counted, nothing crashes."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iot_bridge.hj212 import (
    FrameError,
    FrameReader,
    SplitAssembler,
    build_frame,
    build_segment,
    crc16,
    data_ack,
    decode_frame,
    encode_frame,
)

VECTOR = (
    b"##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;"
    b"Flag=5;CP=&&RtdInterval=30&&1C80\r\n"
)


def test_the_standards_vector() -> None:
    segment = VECTOR[6:-6]
    assert len(segment) == 101
    assert crc16(segment) == 0x1C80
    packet = decode_frame(VECTOR)
    assert (packet.qn, packet.st, packet.cn, packet.mn, packet.flag) == (
        "20160801085857223",
        "32",
        "1062",
        "010000A8900016F000169DC0",
        5,
    )
    assert packet.cp == {"RtdInterval": "30"}
    assert packet.ack_requested
    assert encode_frame(packet.raw) == VECTOR


def test_not_modbus_crc() -> None:
    # Modbus CRC-16 of "123456789" is 0x4B37; the HJ 212 variant differs.
    assert crc16(b"123456789") != 0x4B37


def test_ack_reply_is_9014_with_the_same_qn() -> None:
    reply = decode_frame(data_ack(decode_frame(VECTOR)))
    assert (reply.cn, reply.st, reply.qn, reply.mn) == (
        "9014",
        "91",
        "20160801085857223",
        "010000A8900016F000169DC0",
    )
    assert not reply.ack_requested


def test_case_variants_and_unknown_keys_are_tolerated() -> None:
    segment = (
        "qn=20261124100000000;st=22;cn=2011;pw=123456;mn=WLDUST003101;flag=4;"
        "CP=&&datatime=20261124100000;A34002-RTD=88.5,a34002-flag=N;a34004-Rtd=40.1,A34004-FLAG=F;"
        "x99999-Foo=bar;LEQ-rtd=61.0&&"
    )
    packet = decode_frame(encode_frame(segment))
    assert packet.cn == "2011" and packet.mn == "WLDUST003101" and packet.st == "22"
    assert packet.cp["a34002-Rtd"] == "88.5"
    assert packet.cp["a34004-Flag"] == "F"
    assert packet.cp["x99999-Foo"] == "bar"
    assert packet.cp["Leq-Rtd"] == "61.0"
    assert packet.data_time == "20261124100000"


def test_split_packets_are_joined() -> None:
    common = {"qn": "20261124100000001", "cn": "2011", "mn": "WLDUST003101", "flag": 6, "pnum": 2}
    first = decode_frame(build_frame(cp={"a34002-Rtd": "80"}, pno=1, **common))
    second = decode_frame(build_frame(cp={"a34004-Rtd": "30"}, pno=2, **common))
    assembler = SplitAssembler()
    assert assembler.add(second, now=0) is None
    joined = assembler.add(first, now=1)
    assert joined is not None
    assert dict(joined.cp) == {"a34002-Rtd": "80", "a34004-Rtd": "30"}
    assert not joined.split


def test_incomplete_split_sets_expire() -> None:
    assembler = SplitAssembler(ttl_s=10)
    part = decode_frame(build_frame(qn="1", cn="2011", mn="M", flag=6, pnum=3, pno=1, cp={"a": "1"}))
    assembler.add(part, now=0)
    assembler.add(decode_frame(build_frame(qn="2", cn="2011", mn="M", cp={"a": "1"})), now=20)
    other = decode_frame(build_frame(qn="3", cn="2011", mn="M", flag=6, pnum=2, pno=1, cp={"a": "1"}))
    assembler.add(other, now=30)
    assert assembler.expired == 1


def test_reader_splits_a_stream_and_resyncs_after_garbage() -> None:
    reader = FrameReader()
    stream = b"noise" + VECTOR + b"##00x1broken" + VECTOR
    out = []
    for i in range(0, len(stream), 7):
        out += reader.feed(stream[i : i + 7])
    packets = [item for item in out if not isinstance(item, FrameError)]
    assert len(packets) == 2
    assert reader.rejected["bad_length"] == 1


def test_oversized_length_is_rejected() -> None:
    with pytest.raises(FrameError) as error:
        decode_frame(b"##2000" + b"A" * 2000 + b"0000\r\n")
    assert error.value.reason == "too_large"
    with pytest.raises(FrameError):
        encode_frame("QN=1;CN=2011;MN=M;CP=&&" + "a" * 1100 + "&&")


SAFE = st.text(alphabet=string.ascii_letters + string.digits + ".-_", min_size=1, max_size=12)
KEYS = st.from_regex(r"[a-z][0-9]{5}-(Rtd|Avg|Flag)", fullmatch=True)


@settings(max_examples=200, deadline=None)
@given(
    qn=st.from_regex(r"[0-9]{17}", fullmatch=True),
    mn=st.from_regex(r"[A-Z0-9]{6,24}", fullmatch=True),
    cn=st.sampled_from(["2011", "2051", "2061", "2031"]),
    flag=st.integers(min_value=0, max_value=5),
    cp=st.dictionaries(KEYS, SAFE, max_size=12),
)
def test_build_parse_round_trip(qn: str, mn: str, cn: str, flag: int, cp: dict[str, str]) -> None:
    frame = build_frame(qn=qn, cn=cn, mn=mn, flag=flag & ~2, cp=cp)
    packet = decode_frame(frame)
    assert (packet.qn, packet.cn, packet.mn, packet.flag) == (qn, cn, mn, flag & ~2)
    assert dict(packet.cp) == cp
    reader = FrameReader()
    assert reader.feed(frame) == [packet]


def _valid_frame(mn: str, value: str) -> bytes:
    return build_frame(qn="20261124100000000", cn="2011", mn=mn, cp={"a34002-Rtd": value, "a34002-Flag": "N"})


@settings(max_examples=300, deadline=None)
@given(
    mn=st.from_regex(r"[A-Z0-9]{6,24}", fullmatch=True),
    value=SAFE,
    position=st.integers(min_value=0, max_value=10_000),
    byte=st.integers(min_value=0, max_value=255),
)
def test_a_corrupted_byte_is_rejected_or_harmless(mn: str, value: str, position: int, byte: int) -> None:
    frame = bytearray(_valid_frame(mn, value))
    index = position % len(frame)
    if frame[index] == byte:
        return
    frame[index] = byte
    reader = FrameReader()
    out = reader.feed(bytes(frame))
    leftover = reader.close()
    packets = [item for item in out if not isinstance(item, FrameError)]
    # A damaged frame never yields a packet (the CRC or the framing catches it) and is counted.
    assert packets == []
    assert sum(reader.rejected.values()) >= 1 or leftover is not None


@settings(max_examples=200, deadline=None)
@given(mn=st.from_regex(r"[A-Z0-9]{6,24}", fullmatch=True), cut=st.integers(min_value=1, max_value=200))
def test_truncated_frames_are_counted_and_the_next_frame_still_parses(mn: str, cut: int) -> None:
    frame = _valid_frame(mn, "12.5")
    truncated = frame[: max(1, len(frame) - cut)]
    reader = FrameReader()
    out = reader.feed(truncated) + reader.feed(frame)
    packets = [item for item in out if not isinstance(item, FrameError)]
    assert len(packets) == 1 and packets[0].mn == mn
    assert sum(reader.rejected.values()) >= 1 or len(truncated) < 2


@settings(max_examples=200, deadline=None)
@given(junk=st.binary(max_size=3000))
def test_arbitrary_bytes_never_crash(junk: bytes) -> None:
    reader = FrameReader()
    reader.feed(junk)
    reader.feed(junk[::-1])
    reader.close()


@settings(max_examples=100, deadline=None)
@given(delta=st.integers(min_value=-30, max_value=30).filter(lambda d: d != 0))
def test_wrong_length_is_rejected(delta: int) -> None:
    frame = _valid_frame("WLDUST003101", "10")
    length = int(frame[2:6]) + delta
    bad = b"##" + f"{length:04d}".encode() + frame[6:]
    with pytest.raises(FrameError):
        decode_frame(bad)
    reader = FrameReader()
    out = reader.feed(bad) + reader.feed(frame)
    assert [p.mn for p in out if not isinstance(p, FrameError)] == ["WLDUST003101"]


def test_build_segment_with_item_lists() -> None:
    segment = build_segment(
        qn="1",
        cn="2011",
        mn="M",
        cp=[{"DataTime": "20261124100000"}, {"a34002-Rtd": "1", "a34002-Flag": "N"}],
    )
    assert segment.endswith("CP=&&DataTime=20261124100000;a34002-Rtd=1,a34002-Flag=N&&")
