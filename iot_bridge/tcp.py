"""HJ 212-2017 over TCP: dust monitors dial in and stream frames. Each connection gets its own frame
reader and split-packet assembler.

A 9014 reply (the device asked for one with Flag A) goes out only once the reading is stored (after
the pipeline's next flush); a frame that is not stored (unknown MN, wrong PW, bad time) gets none, so
the device keeps it and sends it again.

Connections are bounded per source address and in total. A connection that has not sent a valid
frame within ``first_frame_timeout_s`` is closed, and when the total is reached, the oldest such
connection makes room for the new one: idle or garbage connections cannot lock real devices out.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from domain.alerts.readings import DeviceInfo
from iot_bridge.hj212 import FrameError, FrameReader, Hj212Packet, SplitAssembler, data_ack
from iot_bridge.pipeline import Pipeline

log = logging.getLogger(__name__)
READ_SIZE = 4096
IDLE_TIMEOUT_S = 600.0
FIRST_FRAME_TIMEOUT_S = 30.0
MAX_CONNECTIONS = 5000
MAX_PER_SOURCE = 50  # a site gateway may carry a few monitors; one address cannot hold the listener
# Decides whether a complete packet is stored: True when it was submitted to the pipeline.
PacketSink = Callable[[Hj212Packet], Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class ListenerLimits:
    max_connections: int = MAX_CONNECTIONS
    max_per_source: int = MAX_PER_SOURCE
    first_frame_timeout_s: float = FIRST_FRAME_TIMEOUT_S
    idle_timeout_s: float = IDLE_TIMEOUT_S


@dataclass(eq=False)
class Connection:
    source: str
    writer: asyncio.StreamWriter
    task: asyncio.Task[None]
    verified: bool = False  # has sent a frame that was stored
    st: str = "22"  # the device's system code and password, as last seen (downlink commands use them)
    pw: str = ""
    pending_acks: dict[str, list[bytes]] = field(default_factory=dict)


class Hj212Server:
    def __init__(
        self,
        pipeline: Pipeline,
        *,
        devices: Callable[[], dict[str, DeviceInfo]],
        sink: PacketSink,
        limits: ListenerLimits | None = None,
    ) -> None:
        self._pipeline = pipeline
        self._devices = devices
        self._sink = sink
        self.limits = limits or ListenerLimits()
        self._connections: dict[asyncio.Task[None], Connection] = {}
        self._per_source: Counter[str] = Counter()
        self._by_mn: dict[str, Connection] = {}
        self._reading = True
        self.server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> asyncio.Server:
        self.server = await asyncio.start_server(self._accept, host, port, limit=READ_SIZE * 4)
        return self.server

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        source = str(peer[0]) if isinstance(peer, tuple) and peer else "?"
        if not self._admit(source):
            writer.close()
            return
        task = asyncio.current_task()
        assert task is not None
        connection = Connection(source, writer, task)
        self._connections[task] = connection
        self._per_source[source] += 1
        try:
            await self._serve(connection, reader)
        except (ConnectionError, TimeoutError) as error:
            log.info("HJ 212 connection ended: %s", type(error).__name__)
        finally:
            del self._connections[task]
            for mn in [mn for mn, held in self._by_mn.items() if held is connection]:
                del self._by_mn[mn]
            self._per_source[source] -= 1
            if self._per_source[source] <= 0:
                del self._per_source[source]
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    def _admit(self, source: str) -> bool:
        stats = self._pipeline.stats
        if self._per_source[source] >= self.limits.max_per_source:
            stats["hj212_refused_per_source"] += 1
            return False
        if len(self._connections) < self.limits.max_connections:
            return True
        # Full: the oldest connection that never sent a stored frame gives its place up.
        for connection in self._connections.values():
            if not connection.verified:
                connection.writer.close()  # its read ends (EOF), and its slot is freed
                stats["hj212_evicted_unverified"] += 1
                return True
        stats["hj212_refused_full"] += 1
        return False

    async def _serve(self, connection: Connection, reader: asyncio.StreamReader) -> None:
        frames = FrameReader()
        assembler = SplitAssembler()
        stats = self._pipeline.stats
        stats["hj212_connections"] += 1
        try:
            while True:
                limit = (
                    self.limits.idle_timeout_s if connection.verified else self.limits.first_frame_timeout_s
                )
                async with asyncio.timeout(limit):
                    data = await reader.read(READ_SIZE)
                if not data:
                    break
                if not self._reading:
                    continue  # stopping: nothing more is taken (and nothing acknowledged)
                for item in frames.feed(data):
                    if isinstance(item, FrameError):
                        stats[f"hj212_rejected_{item.reason}"] += 1
                        continue
                    await self._packet(connection, assembler, item)
        finally:
            leftover = frames.close()
            if leftover is not None:
                stats["hj212_rejected_truncated"] += 1

    async def _packet(self, connection: Connection, assembler: SplitAssembler, item: Hj212Packet) -> None:
        self._pipeline.stats["hj212_packets"] += 1
        if item.ack_requested:
            connection.pending_acks.setdefault(item.qn, []).append(data_ack(item))
        packet = assembler.add(item)
        if packet is None:
            return
        acks = connection.pending_acks.pop(packet.qn, [])
        if not await self._sink(packet):
            return  # not stored: no 9014, the device sends it again
        connection.verified = True
        connection.st, connection.pw = packet.st, packet.pw
        self._by_mn[packet.mn] = connection
        if acks:
            self._pipeline.after_durable(lambda: self._reply(connection, acks))

    def send_command(self, mn: str, build: Callable[[str, str], bytes]) -> bool:
        """Writes ``build(st, pw)`` to the device's open connection; False when it is not connected
        here (another bridge may hold it)."""
        connection = self._by_mn.get(mn)
        if connection is None or connection.writer.is_closing():
            return False
        connection.writer.write(build(connection.st, connection.pw))
        self._pipeline.stats["hj212_commands_sent"] += 1
        return True

    def _reply(self, connection: Connection, acks: list[bytes]) -> None:
        if connection.writer.is_closing():
            self._pipeline.stats["hj212_acks_lost_closed"] += 1
            return
        connection.writer.writelines(acks)
        self._pipeline.stats["hj212_acks"] += len(acks)

    async def stop_reading(self) -> None:
        """Graceful stop: no new connections and no new frames; open connections stay up so that the
        final flush can still answer what it stores."""
        self._reading = False
        if self.server is not None:
            self.server.close()

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        for connection in list(self._connections.values()):
            connection.writer.close()
        if self.server is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.server.wait_closed(), 5)


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
