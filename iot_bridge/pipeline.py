"""The ingest pipeline shared by the MQTT and HJ 212 front ends.

``submit`` does the cheap synchronous work inline (rules and aggregation are in-memory) and hands
alarm changes to a few partitioned worker queues (bounded: a slow database slows intake instead of
growing memory). A flusher writes raw batches, minute aggregates (partial rows, the current minute
included) and the rule state; only then are the front ends' acknowledgements sent (``after_durable``),
so what a device or the broker was told is delivered survives a SIGKILL.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from domain.alerts import readings as readings_service
from domain.alerts import services as alarms
from domain.alerts.engine import RuleEngine
from domain.alerts.offline import MonitoredDevice
from domain.alerts.readings import DeviceInfo
from domain.alerts.sensor_rules import is_night
from domain.alerts.telemetry import Reading
from domain.alerts.thresholds import Outcome
from domain.iot import services as iot_records
from domain.iot.rules import FrameStatus
from domain.permits.cache import BulkStretchLookup, NightPermitCache, StretchLookup
from domain.ports import Cache, EventBus
from iot_bridge.hj212 import Hj212Packet
from iot_bridge.storage import MinuteAggregator, RawSink, RecentReadings, raw_record

log = logging.getLogger(__name__)
STATE_KEY = "iot:rule-state:"
STATE_TTL_S = 3 * 86_400
STATE_EVERY_FLUSHES = 5  # rule state is checkpointed every 5th flush (5 s by default) and at shutdown
STATE_CHUNK = 32
FRAMES_KEEP = 20_000  # quarantined frames kept between two flushes (all are counted)
ACK_BATCH = 2000
DROP_PREFIXES = (
    "rejected_",
    "quarantined_",
    "hj212_rejected_",
    "handle_errors",
    "raw_frames_lost",
    "hj212_acks_lost",
    "alarm_errors",
)  # this many readings waiting for their acknowledgement wake the flusher early
PermitLookup = StretchLookup
AlarmHook = Callable[[str, str, Outcome, Reading | None], None]


@dataclass(frozen=True, slots=True)
class AlarmJob:
    device_code: str
    site_code: str
    outcome: Outcome
    reading: Reading | None
    at: dt.datetime  # when it was decided: the reading's time, or the offline check's ``now``


class Pipeline:
    def __init__(
        self,
        *,
        engine: RuleEngine,
        bus: EventBus,
        cache: Cache,
        raw_sink: RawSink,
        permit_lookup: PermitLookup | None = None,
        permit_bulk_lookup: BulkStretchLookup | None = None,
        workers: int = 4,
        queue_size: int = 1000,
        on_alarm: AlarmHook | None = None,
    ) -> None:
        self.engine = engine
        self.stats: Counter[str] = Counter()
        self.quarantine: dict[str, dict[str, Any]] = {}
        self._bus, self._cache, self._raw_sink = bus, cache, raw_sink
        # Never trusted past the end of a permit's night (it used to be cached for 5 minutes flat).
        self._permits = (
            NightPermitCache(permit_lookup, bulk_lookup=permit_bulk_lookup)
            if permit_lookup is not None
            else None
        )
        self._loaded: set[str] = set()
        self._aggregator = MinuteAggregator()
        self._recent = RecentReadings()
        self._raw: list[dict[str, Any]] = []
        self._frames: list[dict[str, Any]] = []
        self._queues: list[asyncio.Queue[AlarmJob]] = [
            asyncio.Queue(maxsize=queue_size) for _ in range(workers)
        ]
        self._on_alarm = on_alarm
        self._write_lock = asyncio.Lock()
        self._flushes = 0
        self._acks: list[Callable[[], None]] = []
        self._wake = asyncio.Event()

    def after_durable(self, acknowledge: Callable[[], None]) -> None:
        """Run ``acknowledge`` once everything submitted so far is stored (after the next flush)."""
        self._acks.append(acknowledge)
        if len(self._acks) >= ACK_BATCH:
            self._wake.set()

    def note_unknown(self, device_id: str, *, reason: str, at: dt.datetime) -> None:
        """Unknown or mismatched devices go to the quarantine list (bounded), never to the rules."""
        self.stats[f"quarantined_{reason}"] += 1
        entry = self.quarantine.get(device_id)
        if entry is None:
            if len(self.quarantine) >= 10_000:
                return
            log.warning("quarantined device %s (%s)", device_id[:40], reason)
            entry = self.quarantine[device_id] = {"first_seen": at.isoformat(), "count": 0, "reason": reason}
        entry["count"] += 1
        entry["last_seen"] = at.isoformat()

    def drops(self) -> dict[str, int]:
        """Every message taken in but not stored, by cause (duplicates are not drops: stored once)."""
        out = {k: v for k, v in self.stats.items() if k.startswith(DROP_PREFIXES) and v}
        out["total"] = sum(out.values())
        return out

    def record_frame(
        self, packet: Hj212Packet, *, status: FrameStatus, reason: str = "", source: str, at: dt.datetime
    ) -> None:
        """The raw frame as received, written with the next flush (``iot_raw_frame``)."""
        if status is FrameStatus.QUARANTINED:
            self.note_unknown(packet.mn, reason=reason, at=at)
            if len(self._frames) >= FRAMES_KEEP:
                self.stats["quarantined_frames_not_kept"] += 1  # counted above, the text is dropped
                return
        self._frames.append(
            {
                "received_at": at,
                "mn": packet.mn[:40],
                "source": source,
                "status": status,
                "reason": reason[:32],
                "qn": packet.qn[:20],
                "frame": packet.raw,
            }
        )

    async def submit(self, reading: Reading) -> None:
        if self._recent.repeated(reading.device_code, reading.at):
            self.stats["duplicates"] += 1
            return
        self.stats["readings"] += 1
        if reading.device_code not in self._loaded:
            await self._load_state(reading.device_code)
        self._aggregator.add(reading)
        self._raw.append(raw_record(reading))
        permit = await self._night_permit(reading) if reading.device_type == "noise" else False
        for outcome in self.engine.evaluate(reading, night_permit=permit):
            await self._enqueue(
                AlarmJob(reading.device_code, reading.site_code, outcome, reading, reading.at)
            )

    async def check_offline(self, devices: dict[str, DeviceInfo], *, now: dt.datetime) -> int:
        for code in devices:
            if code not in self._loaded:
                await self._load_state(code)
        reported = await readings_service.last_reports()
        due = self.engine.check_offline(
            {c: MonitoredDevice(d.site_code, d.interval_s, reported.get(c)) for c, d in devices.items()},
            now=now.timestamp(),
        )
        for item in due:  # one per site: its source is the site, not a device
            await self._enqueue(AlarmJob(item.source, item.site_code, item.outcome, None, now))
        return len(due)

    async def _enqueue(self, job: AlarmJob) -> None:
        self.stats[f"outcomes_{job.outcome.kind}"] += 1
        # Partition by device so a raise and its later clear are applied in order.
        queue = self._queues[zlib.crc32(job.device_code.encode()) % len(self._queues)]
        await queue.put(job)

    async def warm(self, devices: dict[str, DeviceInfo], *, now: dt.datetime) -> None:
        """Before the first reading: every device's saved rule state (concurrent reads, a chunk at a
        time) and today's night permits of every site with a noise meter (one query). Left to the
        first reading of each, a city's worth of lookups in sequence held the stream back: in
        ``bench_iot`` the first readings waited up to 1.6 s, and so did the alarms they raised."""
        codes = [code for code in devices if code not in self._loaded]
        for start in range(0, len(codes), STATE_CHUNK):
            await asyncio.gather(*(self._load_state(code) for code in codes[start : start + STATE_CHUNK]))
        if self._permits is None:
            return
        noisy = sorted({d.site_code for d in devices.values() if d.device_type == "noise"})
        try:
            self.stats["permit_days_warmed"] += await self._permits.warm(noisy, now)
        except Exception:
            # Each site then asks alone with its first night reading, as without warming.
            log.exception("warming the night permits of %d sites failed", len(noisy))

    async def _load_state(self, device_code: str) -> None:
        self._loaded.add(device_code)
        saved = await self._cache.get(STATE_KEY + device_code)
        if saved is not None and device_code not in self.engine.states:
            self.engine.load(device_code, saved)

    async def _night_permit(self, reading: Reading) -> bool:
        rules = self.engine.config.for_site(reading.site_code)
        start, end, tz = rules.night_window
        if self._permits is None or not is_night(reading.at, start=start, end=end, tz=tz):
            return False
        return await self._permits.permitted(reading.site_code, reading.at)

    async def run_alarm_workers(self) -> None:
        async with asyncio.TaskGroup() as group:
            for queue in self._queues:
                group.create_task(self._alarm_worker(queue))

    async def _alarm_worker(self, queue: asyncio.Queue[AlarmJob]) -> None:
        while True:
            job = await queue.get()
            try:
                await self._apply(job)
            except Exception:
                # One failed alarm write must not stop the bridge; it is logged with its stack.
                self.stats["alarm_errors"] += 1
                log.exception(
                    "applying %s %s for %s failed", job.outcome.kind, job.outcome.alarm_type, job.device_code
                )
            finally:
                queue.task_done()

    async def _apply(self, job: AlarmJob) -> None:
        outcome, at = job.outcome, job.at
        if outcome.kind == "raise":
            message = outcome.note or f"{outcome.alarm_type} {outcome.value} > {outcome.limit}"
            await alarms.raise_alarm(
                bus=self._bus,
                source=job.device_code,
                alarm_type=outcome.alarm_type,
                severity=outcome.severity.value,
                site_code=job.site_code,
                value=outcome.value,
                limit=outcome.limit,
                message=message,
                at=at,
            )
            self.stats["alarms_raised_or_updated"] += 1
        else:
            await alarms.clear_alarm(
                bus=self._bus, source=job.device_code, alarm_type=outcome.alarm_type, at=at
            )
            self.stats["alarms_cleared"] += 1
        if self._on_alarm is not None:
            self._on_alarm(job.device_code, job.site_code, outcome, job.reading)

    async def drain(self) -> None:
        """Wait until every queued alarm change is applied (tests, benchmarks, shutdown)."""
        for queue in self._queues:
            await queue.join()

    async def flush(self, *, final: bool = False) -> None:
        """Raw batch and every minute aggregate (the current minute as a partial row: rows of a minute
        are added up when read), then the acknowledgements waiting for them, then the rule state."""
        async with self._write_lock:
            # Taken together, synchronously: every ack in ``acks`` belongs to a reading in ``raw``.
            raw, self._raw = self._raw, []
            acks, self._acks = self._acks, []
            frames, self._frames = self._frames, []
            rows = self._aggregator.take()
            written = False
            try:
                await self._raw_sink.write(raw)
                written = True
                self.stats["aggregate_rows"] += await readings_service.store_aggregates(rows)
            except Exception:
                # Everything not yet stored is kept, in order, for the next flush; nothing acknowledged.
                self._raw[:0] = [] if written else raw
                self._acks[:0] = acks
                self._frames[:0] = frames
                self._aggregator.restore(rows)
                raise
            await self._store_frames(frames)
            self._acknowledge(acks)
            self._flushes += 1
            if final or self._flushes % STATE_EVERY_FLUSHES == 0:
                await self._checkpoint()

    async def _store_frames(self, frames: list[dict[str, Any]]) -> None:
        """After the readings: a failure here loses raw frame text (counted), never a reading."""
        try:
            self.stats["raw_frames"] += await iot_records.store_frames(frames)
        except Exception:
            self.stats["raw_frames_lost"] += len(frames)
            log.exception("storing %d raw frames failed", len(frames))

    def _acknowledge(self, acks: list[Callable[[], None]]) -> None:
        for acknowledge in acks:
            try:
                acknowledge()
            except Exception:
                # The connection went away: the sender delivers again, and the repeat is dropped.
                self.stats["ack_errors"] += 1
        self.stats["acknowledged"] += len(acks)

    async def _checkpoint(self) -> None:
        """Rule state to the cache port, a chunk of concurrent writes at a time (a city is ~4,500
        devices: one round trip each, in sequence, would take the event loop for a while). Each
        chunk is serialised just before it is written: serialising a city at once held the loop
        for 100-150 ms in ``bench_iot``, and every reading and alarm behind it waited."""
        dirty = self.engine.take_dirty()
        for start in range(0, len(dirty), STATE_CHUNK):
            chunk = self.engine.export(dirty[start : start + STATE_CHUNK])
            await asyncio.gather(
                *(self._cache.set(STATE_KEY + code, state, STATE_TTL_S) for code, state in chunk.items())
            )
        self.stats["state_checkpoints"] += len(dirty)

    async def run_flusher(self, *, interval_s: float = 1.0) -> None:
        """Flushes every ``interval_s``, or sooner when many acknowledgements wait. The last flush at
        shutdown is the bridge's (``final_flush``), once intake has stopped."""
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval_s):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self.flush()
            except Exception:
                # A failed flush (database down) is retried with the next batch; the bridge goes on.
                self.stats["flush_errors"] += 1
                log.exception("flushing readings failed")

    async def final_flush(self, *, timeout_s: float = 10.0) -> None:
        """At shutdown: everything in memory to storage, bounded in time (a dead database must not
        hold the process; what is not acknowledged is delivered again to the successor)."""
        try:
            async with asyncio.timeout(timeout_s):
                await self.flush(final=True)
        except Exception:
            self.stats["flush_errors"] += 1
            log.exception("final flush failed: unacknowledged readings will be delivered again")
