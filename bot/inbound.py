"""Parse what WeChat POSTs into frozen value objects, refusing anything hostile or malformed.

The XML is flat (``<xml>`` with text children), so anything with a DTD, an entity declaration, nesting
or an unexpected shape is refused before or while parsing: entity expansion (billion laughs) and
external entities never reach the parser. Field types are checked here, so the rest of the bot only
sees well-formed messages.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from bot.crypto import Rejected

MAX_BODY_BYTES = 64 * 1024
MAX_FIELDS = 40
MAX_FIELD_CHARS = 8192
# "<!" starts a DOCTYPE, ENTITY, comment or CDATA section: only CDATA is legitimate here.
_MARKUP_DECLARATION = re.compile(rb"<!(?!\[CDATA\[)")
_DIGITS = re.compile(r"^[0-9]{1,20}$")


def parse_fields(body: bytes) -> dict[str, str]:
    """The children of the root ``<xml>`` element as a dict of strings; 400 for anything else."""
    if len(body) > MAX_BODY_BYTES:
        raise Rejected(413, "body_too_large")
    if not body.strip():
        raise Rejected(400, "empty_body")
    if _MARKUP_DECLARATION.search(body):
        raise Rejected(400, "xml_declaration_refused")
    try:
        root = ET.fromstring(body)  # noqa: S314 - screened above
    except ET.ParseError as error:
        raise Rejected(400, "malformed_xml") from error
    if root.tag != "xml" or len(root) > MAX_FIELDS:
        raise Rejected(400, "unexpected_xml_shape")
    fields: dict[str, str] = {}
    for child in root:
        if len(child) or not isinstance(child.tag, str):
            raise Rejected(400, "nested_xml")
        text = child.text or ""
        if len(text) > MAX_FIELD_CHARS:
            raise Rejected(400, "field_too_long")
        fields[child.tag] = text
    return fields


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One message or event from a user, as WeChat sent it (times in epoch seconds)."""

    to_user: str
    from_user: str
    create_time: int
    msg_type: str
    msg_id: str = ""
    content: str = ""
    event: str = ""
    event_key: str = ""
    latitude: float | None = None
    longitude: float | None = None
    label: str = ""
    media_id: str = ""
    pic_url: str = ""
    recognition: str = ""
    status: str = ""

    @property
    def dedup_key(self) -> str:
        """MsgId for messages; FromUserName+CreateTime+Event for events (they carry no MsgId)."""
        if self.msg_type == "event":
            return f"evt:{self.from_user}:{self.create_time}:{self.event}"
        return f"msg:{self.msg_id}" if self.msg_id else f"msg:{self.from_user}:{self.create_time}"

    @property
    def has_location(self) -> bool:
        return self.latitude is not None and self.longitude is not None


def _required(fields: dict[str, str], name: str) -> str:
    value = fields.get(name, "").strip()
    if not value:
        raise Rejected(400, f"missing_{name}")
    return value


def _digits(fields: dict[str, str], name: str, *, required: bool) -> str:
    value = fields.get(name, "").strip()
    if not value and not required:
        return ""
    if not _DIGITS.match(value):
        raise Rejected(400, f"bad_{name}")
    return value


def _coordinate(fields: dict[str, str], names: tuple[str, ...], limit: float) -> float | None:
    raw = next((fields[name].strip() for name in names if fields.get(name, "").strip()), "")
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError as error:
        raise Rejected(400, "bad_coordinate") from error
    if not math.isfinite(value) or abs(value) > limit:
        raise Rejected(400, "bad_coordinate")
    return value


def to_message(fields: dict[str, str]) -> InboundMessage:
    msg_type = _required(fields, "MsgType").lower()
    event = fields.get("Event", "").strip()
    is_event = msg_type == "event"
    # Location messages use Location_X/Y, the LOCATION event Latitude/Longitude.
    latitude = _coordinate(fields, ("Location_X", "Latitude"), 90.0)
    longitude = _coordinate(fields, ("Location_Y", "Longitude"), 180.0)
    if (latitude is None) != (longitude is None) or (msg_type == "location" and latitude is None):
        raise Rejected(400, "bad_coordinate")
    return InboundMessage(
        to_user=_required(fields, "ToUserName")[:64],
        from_user=_required(fields, "FromUserName")[:64],
        create_time=int(_digits(fields, "CreateTime", required=True)),
        msg_type=msg_type[:32],
        # TEMPLATESENDJOBFINISH spells it MsgID.
        msg_id=_digits(fields, "MsgId" if "MsgId" in fields else "MsgID", required=False),
        content=fields.get("Content", ""),
        event=event.upper()[:64] if is_event else "",
        event_key=fields.get("EventKey", "").strip()[:256],
        latitude=latitude,
        longitude=longitude,
        label=fields.get("Label", "").strip()[:200],
        media_id=fields.get("MediaId", "").strip()[:256],
        pic_url=fields.get("PicUrl", "").strip()[:512],
        recognition=fields.get("Recognition", "").strip(),
        status=fields.get("Status", "").strip()[:64],
    )
