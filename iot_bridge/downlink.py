"""Downlink commands to HJ 212 devices: time sync (CN 1012) and upload interval (CN 1062).

Staff ask through the API (``domain.iot.services.request_command``), which publishes on the
``iot.downlink`` stream; every bridge reads it in a consumer group of its own, and the one that holds
the device's connection sends the frame (with the device's system code and password as last seen).
A command older than ``COMMAND_TTL_S`` when a bridge reads it is dropped: a late clock setting would
set a wrong time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from domain.iot.rules import DOWNLINK_COMMANDS, DOWNLINK_STREAM
from domain.ports import EventBus
from iot_bridge.hj212 import time_sync_frame, upload_interval_frame
from iot_bridge.tcp import Hj212Server

log = logging.getLogger(__name__)
STREAM = DOWNLINK_STREAM
COMMAND_TTL_S = 60.0


def frame_for(fields: dict[str, str], *, st: str, pw: str, now: dt.datetime) -> bytes:
    if fields["command"] == "time_sync":
        return time_sync_frame(mn=fields["mn"], pw=pw, st=st, now=now)
    return upload_interval_frame(mn=fields["mn"], pw=pw, st=st, seconds=int(fields["seconds"]), now=now)


async def run_downlink(bus: EventBus, server: Hj212Server, *, group: str) -> None:
    """The bridge's consumer: sends what it can, acknowledges everything it read."""
    await bus.ensure_group(STREAM, group)
    while True:
        messages = await bus.read(STREAM, group, group, count=50, block_ms=1000)
        if not messages:
            await asyncio.sleep(0.2)  # the in-process bus does not block
            continue
        for message in messages:
            deliver(server, dict(message.fields), now=dt.datetime.now(dt.UTC))
        await bus.ack(STREAM, group, [m.message_id for m in messages])


def deliver(server: Hj212Server, fields: dict[str, str], *, now: dt.datetime) -> bool:
    try:
        asked = dt.datetime.fromisoformat(fields["at"])
        if (now - asked).total_seconds() > COMMAND_TTL_S or fields.get("command") not in DOWNLINK_COMMANDS:
            return False
        return server.send_command(fields["mn"], lambda st, pw: frame_for(fields, st=st, pw=pw, now=now))
    except (KeyError, ValueError):
        log.warning("malformed downlink command dropped")
        return False
