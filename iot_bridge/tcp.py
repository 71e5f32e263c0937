"""HJ 212-2017 over TCP: dust monitors dial in and stream frames. Each connection gets its own frame
reader and split-packet assembler; the 9014 reply goes out for every packet with Flag A set."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable

from domain.alerts.readings import DeviceInfo
from iot_bridge.hj212 import FrameError, FrameReader, Hj212Packet, SplitAssembler, data_ack
from iot_bridge.normalise import DecodeError, decode_hj212
from iot_bridge.pipeline import Pipeline

log = logging.getLogger(__name__)
READ_SIZE = 4096
IDLE_TIMEOUT_S = 600.0
MAX_CONNECTIONS = 5000


class Hj212Server:
    def __init__(
        self,
        pipeline: Pipeline,
        *,
        devices: Callable[[], dict[str, DeviceInfo]],
        idle_timeout_s: float = IDLE_TIMEOUT_S,
    ) -> None:
        self._pipeline = pipeline
        self._devices = devices
        self._idle_timeout_s = idle_timeout_s
        self._connections: set[asyncio.Task[None]] = set()
        self.server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> asyncio.Server:
        self.server = await asyncio.start_server(self._accept, host, port, limit=READ_SIZE * 4)
        return self.server

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(self._connections) >= MAX_CONNECTIONS:
            self._pipeline.stats["hj212_refused"] += 1
            writer.close()
            return
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await self._serve(reader, writer)
        except (ConnectionError, TimeoutError) as error:
            log.info("HJ 212 connection ended: %s", type(error).__name__)
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        frames = FrameReader()
        assembler = SplitAssembler()
        stats = self._pipeline.stats
        stats["hj212_connections"] += 1
        try:
            while True:
                async with asyncio.timeout(self._idle_timeout_s):
                    data = await reader.read(READ_SIZE)
                if not data:
                    break
                for item in frames.feed(data):
                    if isinstance(item, FrameError):
                        stats[f"hj212_rejected_{item.reason}"] += 1
                        continue
                    stats["hj212_packets"] += 1
                    if item.ack_requested:
                        writer.write(data_ack(item))
                    packet = assembler.add(item)
                    if packet is not None:
                        await self._ingest(packet)
                await writer.drain()
        finally:
            leftover = frames.close()
            if leftover is not None:
                stats["hj212_rejected_truncated"] += 1

    async def _ingest(self, packet: Hj212Packet) -> None:
        now = dt.datetime.now(dt.UTC)
        device = self._devices().get(packet.mn)
        if device is None:
            self._pipeline.note_unknown(packet.mn, reason="unknown_device", at=now)
            return
        try:
            reading = decode_hj212(packet, device=device, received_at=now)
        except DecodeError as error:
            self._pipeline.stats[f"rejected_{error.reason}"] += 1
            return
        if reading is not None:
            await self._pipeline.submit(reading)

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            for task in list(self._connections):
                task.cancel()
            await self.server.wait_closed()
