"""The consumer: batched polling, commit only after the effect, dead letters, backpressure.

A handler receives a :class:`Batch` of decoded records and returns once their effect is
durable (written to a store, or published downstream); only then are the offsets committed.
A handler that raises stops the consumer without committing, so the batch is delivered again
after a restart: delivery is at-least-once and idempotent sinks make the effect exactly-once.

A consumer whose effect outlives the handler (a sink that writes in the background while the
next batch is read) turns ``commit_after_handler`` off and calls :meth:`BusConsumer.commit`
with :attr:`Batch.offsets` once the effect is durable.

Records that cannot be decoded go to ``<topic>.dlq`` with the reason (or, for a reader given no
dead-letter queue, are skipped with a warning); the consumer carries on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener
from aiokafka.errors import CommitFailedError, IllegalStateError
from aiokafka.structs import OffsetAndMetadata, TopicPartition

from streamforge.bus.connection import client_options
from streamforge.bus.dlq import DeadLetterQueue
from streamforge.bus.metrics import CONSUMED_RECORDS, DLQ_RECORDS
from streamforge.bus.records import LEAN, RawRecord
from streamforge.config import Settings
from streamforge.lifecycle import AsyncLifecycle
from streamforge.schemas import ContractError, Decoder

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Batch(Generic[T]):
    """Valid records of one poll, in partition order.

    ``values[i]`` decodes ``records[i]``, which was read from ``partitions[i]``. ``offsets``
    holds, for each partition read, the offset after its last record (dead letters included):
    what to commit once the batch's effect is durable.
    """

    records: list[RawRecord]
    values: list[T]
    partitions: list[TopicPartition]
    offsets: dict[TopicPartition, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.values)


Handler = Callable[[Batch[T]], Awaitable[None]]


@dataclass
class ConsumerOptions:
    """Polling and delivery options."""

    group_id: str | None = None
    from_beginning: bool = True
    max_records: int = 10_000
    poll_timeout_ms: int = 200
    max_partition_fetch_bytes: int = 4 * 1024 * 1024
    fetch_max_bytes: int = 32 * 1024 * 1024
    #: False: nothing is committed by :meth:`BusConsumer.poll`; the owner commits each batch's
    #: offsets with :meth:`BusConsumer.commit` once its effect is durable. The handler then
    #: sees every poll that read records, even one without a valid record, so that all
    #: offsets reach a commit.
    commit_after_handler: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


class _SafeRebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    """Holds a rebalance until the batch in progress has been handled and committed, and
    keeps newly assigned partitions paused while the consumer is paused."""

    def __init__(self, owner: BusConsumer[Any]) -> None:
        self._owner = owner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        async with self._owner._lock:
            pass

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        if self._owner.paused:
            self._owner._consumer.pause(*assigned)


class BusConsumer(AsyncLifecycle, Generic[T]):
    """Consumes ``topics`` and hands decoded batches to a handler; use as ``async with``.

    With ``group_id`` the partitions are shared by the group and offsets are committed after
    each handled batch (or by the owner, see ``commit_after_handler``). Without it the consumer
    reads every partition by itself and commits nothing (how services follow ``queue-control``).
    """

    def __init__(
        self,
        settings: Settings,
        topics: Sequence[str],
        codec: Decoder[T],
        *,
        options: ConsumerOptions | None = None,
        dlq: DeadLetterQueue | None = None,
    ) -> None:
        self.settings = settings
        self.topics = list(topics)
        self.codec = codec
        self.options = options or ConsumerOptions()
        self.dlq = dlq
        self._lock = asyncio.Lock()
        self._paused = False
        self._consumer = AIOKafkaConsumer(
            **client_options(settings),
            group_id=self.options.group_id,
            enable_auto_commit=False,
            value_deserializer=LEAN,
            auto_offset_reset="earliest" if self.options.from_beginning else "latest",
            max_partition_fetch_bytes=self.options.max_partition_fetch_bytes,
            fetch_max_bytes=self.options.fetch_max_bytes,
            **self.options.extra,
        )

    async def start(self) -> None:
        """Connect, then join the group or assign every partition of the topics."""
        try:
            await self._consumer.start()
            await self._assign()
        except BaseException:
            await self._consumer.stop()
            raise

    async def _assign(self) -> None:
        if self.options.group_id is not None:
            self._consumer.subscribe(self.topics, listener=_SafeRebalance(self))
            return
        partitions = [
            TopicPartition(topic, p)
            for topic in self.topics
            for p in sorted(await self._partitions_of(topic))
        ]
        self._consumer.assign(partitions)
        if self.options.from_beginning:
            await self._consumer.seek_to_beginning(*partitions)
        else:
            await self._consumer.seek_to_end(*partitions)

    async def _partitions_of(self, topic: str) -> set[int]:
        for _ in range(50):
            partitions: set[int] | None = self._consumer.partitions_for_topic(topic)
            if partitions:
                return partitions
            await self._consumer._client.force_metadata_update()
            await asyncio.sleep(0.1)
        raise LookupError(f"topic {topic} does not exist")

    async def stop(self) -> None:
        """Leave the group and disconnect; nothing uncommitted is committed."""
        await self._consumer.stop()

    def pause(self) -> None:
        """Stop fetching (backpressure), including partitions assigned later by a rebalance;
        polls go on returning nothing while the group membership stays alive."""
        self._paused = True
        self._consumer.pause(*self._consumer.assignment())

    def resume(self) -> None:
        """Fetch again after :meth:`pause`."""
        self._paused = False
        self._consumer.resume(*self._consumer.assignment())

    @property
    def paused(self) -> bool:
        """Whether fetching is paused."""
        return self._paused

    async def end_offsets(self) -> dict[TopicPartition, int]:
        """The current end offset of every assigned partition."""
        result: dict[TopicPartition, int] = await self._consumer.end_offsets(
            list(self._consumer.assignment())
        )
        return result

    async def position(self, tp: TopicPartition) -> int:
        """The offset of the next record this consumer will read from ``tp``."""
        offset: int = await self._consumer.position(tp)
        return offset

    async def poll(self, handler: Handler[T]) -> int:
        """Fetch one batch, dead-letter invalid records, handle the rest, then commit (unless
        ``commit_after_handler`` is off: then the batch's offsets are the owner's to commit).

        Returns the number of records read (valid and dead-lettered).
        """
        fetched: dict[TopicPartition, list[RawRecord]] = await self._consumer.getmany(
            timeout_ms=self.options.poll_timeout_ms, max_records=self.options.max_records
        )
        if not fetched:
            return 0
        async with self._lock:
            assigned = self._consumer.assignment()
            records: list[RawRecord] = []
            values: list[T] = []
            partitions: list[TopicPartition] = []
            offsets: dict[TopicPartition, int] = {}
            total = 0
            decode = self.codec.decode
            for tp, batch in fetched.items():
                if tp not in assigned:
                    continue  # revoked while we waited: the new owner reads them
                total += len(batch)
                try:  # the common case, every record valid, decodes in one comprehension
                    values.extend([decode(record.value or b"") for record in batch])
                    records.extend(batch)
                    partitions.extend([tp] * len(batch))
                except ContractError:
                    for record in batch:
                        try:
                            value = decode(record.value or b"")
                        except ContractError as exc:
                            await self._dead_letter(tp, record, exc)
                            continue
                        values.append(value)
                        records.append(record)
                        partitions.append(tp)
                offsets[tp] = batch[-1].offset + 1
            deferred = not self.options.commit_after_handler
            if values or (deferred and offsets):
                await handler(Batch(records, values, partitions, offsets))
            if not deferred:
                await self._commit(offsets)
            for tp, batch in fetched.items():
                if tp in offsets:
                    CONSUMED_RECORDS.labels(tp.topic).inc(len(batch))
            return total

    async def run(self, handler: Handler[T], stop: asyncio.Event) -> None:
        """Poll and handle batches until ``stop`` is set."""
        while not stop.is_set():
            await self.poll(handler)

    async def _dead_letter(self, tp: TopicPartition, record: RawRecord, exc: Exception) -> None:
        if self.dlq is None:
            DLQ_RECORDS.labels(tp.topic, "skipped").inc()
            log.warning("skipped an undecodable record at %s@%d: %s", tp, record.offset, exc)
            return
        await self.dlq.send(
            tp.topic,
            record.value,
            record.key,
            reason=str(exc),
            error=type(exc).__name__,
            partition=tp.partition,
            offset=record.offset,
            headers=list(record.headers),
        )

    async def commit(self, offsets: Mapping[TopicPartition, int]) -> dict[TopicPartition, int]:
        """Commit a batch's ``offsets`` (see ``commit_after_handler``); return those committed.

        Only partitions still assigned to this consumer are committed: a partition revoked since
        the batch was read belongs to its new owner, which reads it again from the group's last
        commit. Commits must come in the order the batches were read.
        """
        assigned = self._consumer.assignment()
        owned = {tp: offset for tp, offset in offsets.items() if tp in assigned}
        return owned if await self._commit(owned) else {}

    async def committed(self, partitions: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
        """The group's last committed offset of each of ``partitions`` (0 where it has none),
        whoever committed it; needs a ``group_id``."""
        return {tp: await self._consumer.committed(tp) or 0 for tp in partitions}

    async def _commit(self, offsets: Mapping[TopicPartition, int]) -> bool:
        if self.options.group_id is None or not offsets:
            return False
        try:
            await self._consumer.commit(
                {tp: OffsetAndMetadata(offset, "") for tp, offset in offsets.items()}
            )
        except (CommitFailedError, IllegalStateError) as exc:
            # The group rebalanced under us; the new owner re-reads from the last commit.
            log.warning("commit failed after a rebalance, records will be re-delivered: %s", exc)
            return False
        return True
