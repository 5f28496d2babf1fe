"""The bounded queue between the WebSocket frame handler and the Kafka producer.

The frame handler runs synchronously inside the WebSocket read loop and must never wait for Kafka:
:meth:`Publisher.offer` appends an encoded record to its topic's list and returns at once. One task
(:meth:`Publisher.run`) wakes once per event-loop turn in which records arrived and hands everything
queued to :meth:`BusProducer.publish_many`, a topic at a time, so the read loop and the producer
work on batches without a per-record ``await``.

Backpressure: when Kafka is slow the producer's in-flight memory fills and ``publish_many`` waits;
the queue then grows until ``max_bytes``. From there :meth:`offer` refuses records (returns False
and counts them as shed) instead of growing or blocking the read loop; memory stays bounded by
``max_bytes`` plus the producer's own bound. Callers decide what a refused record means: a refused
trade is not marked published, so the next one reveals an id gap and the REST backfill restores it;
a refused diff is lost to ``md.depth`` only (the local book has applied it); BBOs, book snapshots,
candles and tickers are superseded by the next ones. Paths that may wait (the REST backfill) use
:meth:`put`, which waits for room.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from streamforge.bus import BusProducer
from streamforge.schemas import now_millis
from streamforge.services.loader_ws.metrics import LAG, LagHistogram, LoaderStats

#: Default bound of the queue, in bytes of encoded values: about a second of a busy loader, so
#: overload sheds soon rather than adding many seconds of lag (the producer holds up to 64 MiB).
DEFAULT_MAX_BYTES = 16 * 1024 * 1024


@dataclass(slots=True)
class _Group:
    """Queued records of one topic, in order, with the event time of each (for the lag)."""

    records: list[tuple[bytes | None, bytes]] = field(default_factory=list)
    times: list[int] = field(default_factory=list)
    size: int = 0


class Publisher:
    """Queues records for Kafka without waiting; one task publishes them in batches."""

    def __init__(
        self,
        producer: BusProducer,
        stats: LoaderStats,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        lag: LagHistogram = LAG,
    ) -> None:
        self._producer = producer
        self._stats = stats
        self._lag = lag
        self.max_bytes = max_bytes
        self._groups: dict[str, _Group] = {}
        self._bytes = 0
        self._ready = asyncio.Event()
        self._room = asyncio.Event()
        self._stopping = False

    @property
    def queued_bytes(self) -> int:
        """Bytes waiting for the producer (including the batch being handed over)."""
        return self._bytes

    def offer(self, topic: str, key: bytes | None, value: bytes, event_ms: int) -> bool:
        """Queue a record; False (and counted as shed) when the queue is full."""
        if self._bytes >= self.max_bytes:
            self._stats.shed += 1
            return False
        group = self._groups.get(topic)
        if group is None:
            group = self._groups[topic] = _Group()
        group.records.append((key, value))
        group.times.append(event_ms)
        size = len(value)
        group.size += size
        self._bytes += size
        self._ready.set()
        return True

    async def put(self, topic: str, key: bytes | None, value: bytes, event_ms: int) -> None:
        """Queue a record, waiting while the queue is full."""
        while self._bytes >= self.max_bytes:
            self._room.clear()
            await self._room.wait()
        self.offer(topic, key, value, event_ms)

    async def run(self) -> None:
        """Publish what was queued, each time something was, until :meth:`stop` and the queue
        is empty. Raises :class:`~streamforge.bus.ProducerError` if Kafka lost records."""
        while True:
            await self._ready.wait()
            await self._drain()
            if self._stopping and not self._ready.is_set():
                return

    def stop(self) -> None:
        """Let :meth:`run` return once everything queued so far is published."""
        self._stopping = True
        self._ready.set()

    async def _drain(self) -> None:
        self._ready.clear()
        groups, self._groups = self._groups, {}
        for topic, group in groups.items():
            await self._producer.publish_many(topic, group.records)
            self._lag.observe_many(now_millis(), group.times)
            self._stats.published += len(group.records)
            self._bytes -= group.size
            self._room.set()
