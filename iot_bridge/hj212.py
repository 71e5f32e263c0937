"""HJ 212-2017 codec: framing, CRC, segment and CP parsing, split packets, building, the 9014 reply.

Pure and synchronous: no sockets here, so the property tests can throw anything at it. Every
rejected frame raises ``FrameError`` with a stable ``reason`` that the server counts.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from domain.iot.rules import RTD_INTERVAL_RANGE

MAX_SEGMENT = 1024
HEADER = b"##"
TRAILER = b"\r\n"
FRAME_OVERHEAD = len(HEADER) + 4 + 4 + len(TRAILER)
FLAG_ACK = 0b01
FLAG_SPLIT = 0b10
CN_DATA_ACK = "9014"

_HEADER_KEYS = {
    "qn": "QN",
    "st": "ST",
    "cn": "CN",
    "pw": "PW",
    "mn": "MN",
    "flag": "Flag",
    "pnum": "PNUM",
    "pno": "PNO",
}
_SUFFIXES = {
    "rtd": "Rtd",
    "avg": "Avg",
    "min": "Min",
    "max": "Max",
    "flag": "Flag",
    "cou": "Cou",
    "zsrtd": "ZsRtd",
}
_NOISE_CODES = {
    "la": "LA",
    "leq": "Leq",
    "lmx": "LMx",
    "lmn": "LMn",
    "l5": "L5",
    "l10": "L10",
    "l50": "L50",
    "l90": "L90",
}
_CP_RE = re.compile(r"cp=&&", re.IGNORECASE)


class FrameError(ValueError):
    """A frame we refuse. ``reason``: bad_prefix, bad_length, too_large, bad_trailer, bad_crc,
    bad_encoding, bad_segment, truncated."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def crc16(data: bytes) -> int:
    """The standard's CRC (not Modbus): per byte ``crc = (crc >> 8) ^ byte`` then 8 shifts with 0xA001."""
    crc = 0xFFFF
    for byte in data:
        crc = (crc >> 8) ^ byte
        for _ in range(8):
            lsb = crc & 1
            crc >>= 1
            if lsb:
                crc ^= 0xA001
    return crc


@dataclass(frozen=True, slots=True)
class Hj212Packet:
    qn: str
    st: str
    cn: str
    pw: str
    mn: str
    flag: int
    cp: Mapping[str, str]
    pnum: int | None = None
    pno: int | None = None
    raw: str = ""

    @property
    def ack_requested(self) -> bool:
        return bool(self.flag & FLAG_ACK)

    @property
    def split(self) -> bool:
        return bool(self.flag & FLAG_SPLIT) and self.pnum is not None and self.pno is not None

    @property
    def data_time(self) -> str | None:
        return self.cp.get("DataTime")


def canonical_cp_key(key: str) -> str:
    """``A34002-RTD`` -> ``a34002-Rtd``, ``leq-rtd`` -> ``Leq-Rtd``, ``datatime`` -> ``DataTime``."""
    key = key.strip()
    code, dash, suffix = key.partition("-")
    lowered = code.lower()
    if lowered == "datatime":
        code = "DataTime"
    elif lowered in _NOISE_CODES:
        code = _NOISE_CODES[lowered]
    elif re.fullmatch(r"[a-z]\d{5}", lowered):
        code = lowered
    if dash:
        suffix = _SUFFIXES.get(suffix.lower(), suffix)
        return f"{code}-{suffix}"
    return code


def parse_cp(text: str) -> dict[str, str]:
    """Items separated by ';', fields within an item by ','; unknown keys are kept as they come."""
    result: dict[str, str] = {}
    for item in text.split(";"):
        for pair in item.split(","):
            if not pair.strip():
                continue
            key, eq, value = pair.partition("=")
            if not eq or not key.strip():
                raise FrameError("bad_segment", f"CP field without '=': {pair[:40]!r}")
            result[canonical_cp_key(key)] = value.strip()
    return result


def _int_or_none(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    if not value.isdigit():
        raise FrameError("bad_segment", f"{name} is not a number")
    return int(value)


def parse_segment(segment: str) -> Hj212Packet:
    match = _CP_RE.search(segment)
    if match is None or not segment.endswith("&&"):
        raise FrameError("bad_segment", "no CP=&&...&& part")
    header_text = segment[: match.start()]
    cp_text = segment[match.end() : -2]
    header: dict[str, str] = {}
    for part in header_text.split(";"):
        if not part:
            continue
        key, eq, value = part.partition("=")
        if not eq:
            raise FrameError("bad_segment", f"header field without '=': {part[:40]!r}")
        header[_HEADER_KEYS.get(key.strip().lower(), key.strip())] = value.strip()
    if not header.get("MN"):
        raise FrameError("bad_segment", "no MN")
    if not header.get("CN"):
        raise FrameError("bad_segment", "no CN")
    flag = _int_or_none(header.get("Flag"), "Flag") or 0
    return Hj212Packet(
        qn=header.get("QN", ""),
        st=header.get("ST", ""),
        cn=header["CN"],
        pw=header.get("PW", ""),
        mn=header["MN"],
        flag=flag,
        cp=parse_cp(cp_text),
        pnum=_int_or_none(header.get("PNUM"), "PNUM"),
        pno=_int_or_none(header.get("PNO"), "PNO"),
        raw=segment,
    )


def encode_frame(segment: str) -> bytes:
    data = segment.encode("ascii")
    if len(data) > MAX_SEGMENT:
        raise FrameError("too_large", f"{len(data)} bytes")
    return HEADER + f"{len(data):04d}".encode() + data + f"{crc16(data):04X}".encode() + TRAILER


def decode_frame(frame: bytes) -> Hj212Packet:
    """One complete frame, ``##`` to ``\\r\\n`` included."""
    if not frame.startswith(HEADER):
        raise FrameError("bad_prefix")
    length_text = frame[2:6]
    if len(length_text) < 4 or not length_text.isdigit():
        raise FrameError("bad_length", "length is not 4 digits")
    length = int(length_text)
    if length > MAX_SEGMENT:
        raise FrameError("too_large", f"{length} bytes")
    if len(frame) < length + FRAME_OVERHEAD:
        raise FrameError("truncated")
    if len(frame) != length + FRAME_OVERHEAD or not frame.endswith(TRAILER):
        raise FrameError("bad_length", "the length does not match the frame")
    data = frame[6 : 6 + length]
    crc_text = frame[6 + length : 10 + length]
    try:
        expected = int(crc_text, 16)
    except ValueError:
        raise FrameError("bad_crc", "CRC is not hex") from None
    if crc16(data) != expected:
        raise FrameError("bad_crc")
    try:
        segment = data.decode("ascii")
    except UnicodeDecodeError:
        raise FrameError("bad_encoding") from None
    return parse_segment(segment)


def build_segment(
    *,
    qn: str,
    cn: str,
    mn: str,
    cp: Mapping[str, str] | Iterable[Mapping[str, str]],
    st: str = "39",
    pw: str = "123456",
    flag: int = 4,
    pnum: int | None = None,
    pno: int | None = None,
) -> str:
    """``cp`` is one mapping (one item per key) or a list of items (fields joined by ',')."""
    items: list[Mapping[str, str]] = [{k: v} for k, v in cp.items()] if isinstance(cp, Mapping) else list(cp)
    cp_text = ";".join(",".join(f"{k}={v}" for k, v in item.items()) for item in items)
    header = f"QN={qn};ST={st};CN={cn};PW={pw};MN={mn};Flag={flag}"
    if pnum is not None and pno is not None:
        header += f";PNUM={pnum};PNO={pno}"
    return f"{header};CP=&&{cp_text}&&"


def build_frame(**kwargs: object) -> bytes:
    return encode_frame(build_segment(**kwargs))  # type: ignore[arg-type]


def data_ack(packet: Hj212Packet) -> bytes:
    """The 9014 reply the device asked for with Flag A: same QN, ST=91, and no data."""
    return encode_frame(f"QN={packet.qn};ST=91;CN={CN_DATA_ACK};PW={packet.pw};MN={packet.mn};Flag=4;CP=&&&&")


@dataclass
class FrameReader:
    """Splits a TCP byte stream into frames; resynchronises on ``##`` after garbage. Rejections are
    counted by reason in ``rejected`` and returned as ``FrameError`` values, never raised."""

    max_buffer: int = 4 * (MAX_SEGMENT + FRAME_OVERHEAD)
    rejected: Counter[str] = field(default_factory=Counter)
    _buffer: bytearray = field(default_factory=bytearray)

    def feed(self, data: bytes) -> list[Hj212Packet | FrameError]:
        self._buffer += data
        out: list[Hj212Packet | FrameError] = []
        while True:
            start = self._buffer.find(HEADER)
            if start < 0:
                self._drop_garbage(len(self._buffer) - 1)
                break
            if start > 0:
                self._drop_garbage(start)
            item = self._next_frame()
            if item is None:
                break
            out.append(item)
        if len(self._buffer) > self.max_buffer:
            self._reject("too_large", out)
            self._buffer.clear()
        return out

    def close(self) -> FrameError | None:
        """At end of stream: whatever is left is a truncated frame."""
        if self._buffer.strip():
            self._buffer.clear()
            self.rejected["truncated"] += 1
            return FrameError("truncated")
        return None

    def _drop_garbage(self, count: int) -> None:
        if count > 0:
            if bytes(self._buffer[:count]).strip():
                self.rejected["garbage"] += 1
            del self._buffer[:count]

    def _reject(self, reason: str, out: list[Hj212Packet | FrameError]) -> None:
        self.rejected[reason] += 1
        out.append(FrameError(reason))

    def _next_frame(self) -> Hj212Packet | FrameError | None:  # noqa: PLR0911 - one return per framing outcome
        if len(self._buffer) < 6:
            return None
        length_text = bytes(self._buffer[2:6])
        if not length_text.isdigit() or int(length_text) > MAX_SEGMENT:
            reason = "too_large" if length_text.isdigit() else "bad_length"
            del self._buffer[:1]  # skip one byte only: "###0098" must resync on the second "##"
            self.rejected[reason] += 1
            return FrameError(reason)
        total = int(length_text) + FRAME_OVERHEAD
        if len(self._buffer) < total:
            # Maybe the length is wrong and a later frame already started: resync on it.
            restart = self._buffer.find(HEADER, 2)
            if restart > 0 and self._buffer.endswith(TRAILER):
                del self._buffer[:restart]
                self.rejected["bad_length"] += 1
                return FrameError("bad_length")
            return None
        frame = bytes(self._buffer[:total])
        if not frame.endswith(TRAILER):
            del self._buffer[:1]
            self.rejected["bad_length"] += 1
            return FrameError("bad_length")
        del self._buffer[:total]
        try:
            return decode_frame(frame)
        except FrameError as error:
            self.rejected[error.reason] += 1
            return error


@dataclass
class SplitAssembler:
    """Joins PNUM/PNO split packets by (MN, QN) into one packet; incomplete sets expire."""

    ttl_s: float = 60.0
    max_pending: int = 1000
    expired: int = 0
    _pending: dict[tuple[str, str], tuple[float, dict[int, Hj212Packet]]] = field(default_factory=dict)

    def add(self, packet: Hj212Packet, *, now: float | None = None) -> Hj212Packet | None:
        if not packet.split:
            return packet
        assert packet.pnum is not None and packet.pno is not None
        moment = time.monotonic() if now is None else now
        self._expire(moment)
        key = (packet.mn, packet.qn)
        _first_at, parts = self._pending.setdefault(key, (moment, {}))
        parts[packet.pno] = packet
        if len(parts) < packet.pnum:
            return None
        del self._pending[key]
        merged: dict[str, str] = {}
        for number in sorted(parts):
            merged.update(parts[number].cp)
        first = parts[min(parts)]
        return Hj212Packet(
            qn=first.qn,
            st=first.st,
            cn=first.cn,
            pw=first.pw,
            mn=first.mn,
            flag=first.flag & ~FLAG_SPLIT,
            cp=merged,
            raw="\n".join(parts[n].raw for n in sorted(parts)),
        )

    def _expire(self, now: float) -> None:
        stale = [key for key, (first_at, _) in self._pending.items() if now - first_at > self.ttl_s]
        while len(self._pending) - len(stale) >= self.max_pending:
            stale.append(next(k for k in self._pending if k not in stale))
        for key in stale:
            del self._pending[key]
            self.expired += 1


CN_SET_TIME = "1012"
CN_SET_RTD_INTERVAL = "1062"
PLATFORM_TZ = dt.timezone(dt.timedelta(hours=8))


def command_qn(now: dt.datetime) -> str:
    """QN: the request time to the millisecond, local time (YYYYMMDDhhmmsszzz)."""
    return now.astimezone(PLATFORM_TZ).strftime("%Y%m%d%H%M%S%f")[:17]


def time_sync_frame(*, mn: str, pw: str, st: str, now: dt.datetime) -> bytes:
    """CN 1012, set the device clock to ``now`` (local time); Flag 5 asks for the 9011/9012 replies."""
    system_time = now.astimezone(PLATFORM_TZ).strftime("%Y%m%d%H%M%S")
    return build_frame(
        qn=command_qn(now), st=st, cn=CN_SET_TIME, pw=pw, mn=mn, flag=5, cp={"SystemTime": system_time}
    )


def upload_interval_frame(*, mn: str, pw: str, st: str, seconds: int, now: dt.datetime) -> bytes:
    """CN 1062, set the real-time data upload interval (30..3600 s)."""
    low, high = RTD_INTERVAL_RANGE
    if not low <= seconds <= high:
        raise FrameError("bad_interval", f"{seconds} s is outside {low}..{high}")
    return build_frame(
        qn=command_qn(now),
        st=st,
        cn=CN_SET_RTD_INTERVAL,
        pw=pw,
        mn=mn,
        flag=5,
        cp={"RtdInterval": str(seconds)},
    )
