"""The producer: idempotent, ``acks=all``, batched, compressed, with bounded memory.

Two paths share one aiokafka producer:

* :meth:`BusProducer.send` for control-plane records: one record, awaited until acknowledged.
* :meth:`BusProducer.publish` for market data: appended to its partition's open batch in memory
  (about a microsecond). Each partition has its own pipeline: a batch is sent when it is full,
  or after ``linger_ms`` once the partition has nothing else in flight, so batches grow while
  the broker is busy and partitions never wait for each other. Batches are compressed in a
  worker thread (zstd at its fastest level, see :mod:`streamforge.bus.batches`), off the event
  loop. :meth:`BusProducer.flush` waits until everything published is acknowledged.
* :meth:`BusProducer.publish_encoded` for bulk loads: record batches encoded ahead, possibly in
  other processes (:class:`~streamforge.bus.batches.BatchEncoder`), queued in the same pipelines.

Records published with the same key land in the partition that keyed :meth:`send` would choose
(Kafka's murmur2 partitioner), so one symbol stays in order whichever path wrote it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import murmur2
from aiokafka.structs import RecordMetadata, TopicPartition

from streamforge.bus.batches import BatchEncoder, EncodedBatch, OpenBatch
from streamforge.bus.connection import client_options
from streamforge.bus.metrics import PRODUCED_RECORDS
from streamforge.config import Settings
from streamforge.lifecycle import AsyncLifecycle

log = logging.getLogger(__name__)

Headers = Sequence[tuple[str, bytes]]
#: Shared by records without headers; aiokafka wants a list and only reads it.
_NO_HEADERS: list[tuple[str, bytes]] = []


class ProducerError(RuntimeError):
    """Kafka did not acknowledge published records; they may not have been written."""


@dataclass
class ProducerOptions:
    """Tuning of the batched path; the defaults suit market data on a small machine."""

    linger_ms: int = 5
    #: Before compression. Idempotence allows one batch in flight a partition, so a busy
    #: partition moves at most a batch per round trip to the broker.
    max_batch_bytes: int = 2 * 1024 * 1024
    max_in_flight_bytes: int = 64 * 1024 * 1024
    request_timeout_ms: int = 30_000
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class _Closed:
    """A closed batch in a partition's send queue: its encoded batches (compressed in a worker
    thread as soon as it closes, so that compressing overlaps sending the one before), and the
    bytes it holds in the memory bound until then."""

    batches: asyncio.Future[list[EncodedBatch]]
    size: int


class _Pipeline:
    """One partition's open batch and the closed batches waiting to be sent, in order."""

    def __init__(self, tp: TopicPartition) -> None:
        self.tp = tp
        self.open: OpenBatch | None = None
        self.closed: deque[_Closed] = deque()
        self.ready = asyncio.Event()
        self.sending = False  # a batch is being compressed or handed to aiokafka
        self.unacked = 0  # batches handed over and not acknowledged yet
        self.task: asyncio.Task[None] | None = None

    @property
    def idle(self) -> bool:
        """Nothing queued, nothing in flight."""
        return not self.closed and not self.sending and self.unacked == 0


class BusProducer(AsyncLifecycle):
    """An idempotent Kafka producer with a batched fast path; use as ``async with``."""

    def __init__(self, settings: Settings, options: ProducerOptions | None = None) -> None:
        self.settings = settings
        self.options = options or ProducerOptions()
        compression = settings.kafka.compression
        self._producer = AIOKafkaProducer(
            **client_options(settings),
            enable_idempotence=True,
            acks="all",
            linger_ms=self.options.linger_ms,
            max_batch_size=self.options.max_batch_bytes,
            compression_type=None if compression == "none" else compression,
            request_timeout_ms=self.options.request_timeout_ms,
            **self.options.extra,
        )
        self._encoder = BatchEncoder(compression, self.options.max_batch_bytes)
        self._partitions: dict[str, int] = {}
        self._pipelines: dict[tuple[str, bytes | None], _Pipeline] = {}
        self._by_tp: dict[TopicPartition, _Pipeline] = {}
        self._pending: set[asyncio.Future[Any]] = set()
        self._buffered_bytes = 0
        self._space_freed = asyncio.Event()
        self._progress = asyncio.Event()
        self._linger: asyncio.Task[None] | None = None
        self._error: BaseException | None = None
        self._error_reported = False
        self._produced: dict[TopicPartition, int] = {}
        self._started = False

    async def start(self) -> None:
        """Connect to the cluster."""
        try:
            await self._producer.start()
        except BaseException:
            await self._producer.stop()
            raise
        self._linger = asyncio.create_task(self._linger_loop(), name="bus-producer-linger")
        self._started = True

    async def stop(self) -> None:
        """Flush everything published, then disconnect."""
        if not self._started:
            return
        self._started = False
        try:
            await self.flush()
        finally:
            tasks = [p.task for p in self._by_tp.values() if p.task is not None]
            for task in [self._linger, *tasks]:
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            await self._producer.stop()

    async def send(
        self,
        topic: str,
        value: bytes,
        key: bytes | None = None,
        headers: Headers | None = None,
    ) -> RecordMetadata:
        """Send one record and wait until the cluster acknowledges it (``acks=all``)."""
        metadata: RecordMetadata = await self._producer.send_and_wait(
            topic, value, key=key, headers=list(headers) if headers else None
        )
        PRODUCED_RECORDS.labels(topic).inc()
        self._note_produced(metadata.topic_partition, metadata.offset + 1)
        return metadata

    async def partition_for(self, topic: str, key: bytes | None) -> int:
        """The partition a record with ``key`` goes to (murmur2, as the Java client).

        Records without a key go to partition 0.
        """
        count = self._partitions.get(topic)
        if count is None:
            partitions: set[int] = await self._producer.partitions_for(topic)
            count = self._partitions[topic] = len(partitions)
        if key is None:
            return 0
        return int(murmur2(key) & 0x7FFFFFFF) % count

    async def publish(
        self,
        topic: str,
        value: bytes,
        key: bytes | None = None,
        headers: Headers | None = None,
        timestamp_ms: int | None = None,
    ) -> None:
        """Append a record to its partition's batch; returns at once unless memory is full.

        Delivery is confirmed by :meth:`flush`; a delivery failure is raised by the next
        ``publish`` or ``flush``.
        """
        self._raise_earlier_failure()
        pipe = self._pipelines.get((topic, key)) or await self._pipeline(topic, key)
        hdrs = list(headers) if headers else _NO_HEADERS
        if not self._append(pipe, key, value, hdrs, timestamp_ms):
            await self._close(pipe)
            self._append(pipe, key, value, hdrs, timestamp_ms)

    async def publish_many(self, topic: str, records: Iterable[tuple[bytes | None, bytes]]) -> None:
        """:meth:`publish` for many ``(key, value)`` records at a fraction of the cost each."""
        self._raise_earlier_failure()
        pipelines = self._pipelines
        append = self._append
        for key, value in records:
            pipe = pipelines.get((topic, key)) or await self._pipeline(topic, key)
            if not append(pipe, key, value, _NO_HEADERS, None):
                await self._close(pipe)
                append(pipe, key, value, _NO_HEADERS, None)

    def batch_encoder(self, max_batch_bytes: int | None = None) -> BatchEncoder:
        """An encoder of batches for :meth:`publish_encoded`, compressed as this producer
        compresses, of ``max_batch_bytes`` (default: this producer's batch size)."""
        return BatchEncoder(
            self.settings.kafka.compression, max_batch_bytes or self.options.max_batch_bytes
        )

    async def publish_encoded(
        self, topic: str, key: bytes | None, batches: Iterable[EncodedBatch]
    ) -> None:
        """Queue ``batches`` of records keyed ``key`` after what was published to their
        partition so far; like :meth:`publish`, returns at once unless memory is full, and
        delivery is confirmed by :meth:`flush`."""
        self._raise_earlier_failure()
        pipe = self._pipelines.get((topic, key)) or await self._pipeline(topic, key)
        await self._close(pipe)
        for batch in batches:
            done: asyncio.Future[list[EncodedBatch]] = asyncio.get_running_loop().create_future()
            done.set_result([batch])
            await self._enqueue(pipe, _Closed(done, batch.size()))

    def _raise_earlier_failure(self) -> None:
        if self._error is not None:
            self._error_reported = True
            raise ProducerError(f"publishing failed earlier: {self._error}") from self._error

    def _append(
        self,
        pipe: _Pipeline,
        key: bytes | None,
        value: bytes,
        headers: list[tuple[str, bytes]],
        timestamp_ms: int | None,
    ) -> bool:
        """Add a record to the partition's open batch; False when the batch is full.

        An empty batch takes any record, even one above the batch size.
        """
        batch = pipe.open
        if batch is None:
            batch = pipe.open = self._encoder.open()
        return batch.append(key, value, headers, timestamp_ms)

    async def flush(self) -> None:
        """Send every open batch and wait until all published records are acknowledged.

        Raises :class:`ProducerError` once for a delivery failure; later ``publish`` calls keep
        failing, since the order of what follows could no longer be guaranteed.
        """
        for pipe in list(self._by_tp.values()):
            await self._close(pipe)
        while not all(p.idle for p in self._by_tp.values()):
            self._progress.clear()
            await self._progress.wait()
        if self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)
        if self._error is not None and not self._error_reported:
            self._error_reported = True
            raise ProducerError(f"records were not acknowledged: {self._error}") from self._error

    @property
    def produced_offsets(self) -> dict[TopicPartition, int]:
        """For each partition written, the offset after the last acknowledged record."""
        return dict(self._produced)

    async def _pipeline(self, topic: str, key: bytes | None) -> _Pipeline:
        tp = TopicPartition(topic, await self.partition_for(topic, key))
        pipe = self._by_tp.get(tp)
        if pipe is None:
            pipe = self._by_tp[tp] = _Pipeline(tp)
            pipe.task = asyncio.create_task(self._send_loop(pipe), name=f"bus-producer-{tp}")
        if key is not None:
            self._pipelines[(topic, key)] = pipe
        return pipe

    async def _close(self, pipe: _Pipeline) -> None:
        """Move the partition's open batch to its send queue, within the memory bound."""
        batch = pipe.open
        if batch is None or batch.records == 0:
            return
        pipe.open = None
        await self._enqueue(
            pipe, _Closed(asyncio.ensure_future(asyncio.to_thread(batch.build)), batch.size())
        )

    async def _enqueue(self, pipe: _Pipeline, closed: _Closed) -> None:
        limit = self.options.max_in_flight_bytes
        while self._buffered_bytes and self._buffered_bytes + closed.size > limit:
            self._space_freed.clear()
            await self._space_freed.wait()
        self._buffered_bytes += closed.size
        pipe.closed.append(closed)
        pipe.ready.set()

    async def _send_loop(self, pipe: _Pipeline) -> None:
        tp = pipe.tp
        while True:
            if not pipe.closed:
                pipe.ready.clear()
                await pipe.ready.wait()
                continue
            closed = pipe.closed.popleft()
            pipe.sending = True
            unsent: list[EncodedBatch] = []
            try:
                try:
                    unsent = await closed.batches
                finally:
                    self._release(closed.size)
                self._buffered_bytes += sum(batch.size() for batch in unsent)
                while unsent:
                    # Waits while the partition's previous batch is unacknowledged
                    # (idempotence allows one in flight), which is when the open batch grows.
                    future = await self._producer.send_batch(
                        unsent[0], tp.topic, partition=tp.partition
                    )
                    batch = unsent.pop(0)
                    pipe.unacked += 1
                    self._pending.add(future)
                    future.add_done_callback(self._on_delivery(pipe, batch))
            except Exception as exc:  # the pipeline must outlive one bad batch
                self._error = self._error or exc
                self._release(sum(batch.size() for batch in unsent))
            finally:
                pipe.sending = False
                self._progress.set()

    def _on_delivery(
        self, pipe: _Pipeline, batch: EncodedBatch
    ) -> Callable[[asyncio.Future[RecordMetadata]], None]:
        tp = pipe.tp

        def done(future: asyncio.Future[RecordMetadata]) -> None:
            self._pending.discard(future)
            if future.cancelled():
                self._error = self._error or ProducerError("delivery cancelled")
            elif (exc := future.exception()) is not None:
                self._error = self._error or exc
                log.error("batch to %s failed: %s", tp, exc)
            else:
                metadata = future.result()
                records = batch.record_count()
                self._note_produced(tp, metadata.offset + records)
                PRODUCED_RECORDS.labels(tp.topic).inc(records)
            self._release(batch.size())
            pipe.unacked -= 1
            self._progress.set()

        return done

    def _release(self, size: int) -> None:
        self._buffered_bytes -= size
        self._space_freed.set()

    def _note_produced(self, tp: TopicPartition, end_offset: int) -> None:
        if end_offset > self._produced.get(tp, 0):
            self._produced[tp] = end_offset

    async def _linger_loop(self) -> None:
        interval = max(self.options.linger_ms, 1) / 1000
        while True:
            await asyncio.sleep(interval)
            for pipe in list(self._by_tp.values()):
                if pipe.open is not None and pipe.idle:
                    await self._close(pipe)
