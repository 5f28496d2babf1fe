"""The sink: market records from Kafka into the store, committed only once they are written.

Reading and writing overlap: the event loop polls, decodes and batches while the store writes
earlier batches in a process of its own (:class:`~.writer.StoreWriter`). Batches are written and
committed one after the other, in the order they were read, so a commit never covers a record
that is not in the store; after a crash the group resumes from the last commit and the
idempotent upserts make re-delivered records harmless.

Memory is bounded: once ``held_bound`` records are read and not yet committed, consumption
pauses (the group membership stays alive) until the store catches up.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from aiokafka.structs import TopicPartition

from streamforge.bus import Batch, BusConsumer, BusProducer, ConsumerOptions, DeadLetterQueue
from streamforge.config import Settings
from streamforge.lifecycle import AsyncLifecycle
from streamforge.schemas import AnyMarketRecord, Candle, Codec, Trade
from streamforge.services.store_connector.metrics import (
    BATCHES,
    HELD,
    PAUSED,
    RECORDS_WRITTEN,
    SKIPPED,
    WRITE_SECONDS,
)
from streamforge.services.store_connector.options import SinkOptions
from streamforge.services.store_connector.selection import Selection
from streamforge.services.store_connector.writer import StoreWriter
from streamforge.storage import Store

_market_codec: Codec[AnyMarketRecord] = Codec(AnyMarketRecord, "market record")

#: How long a paused sink waits for the store before polling, to keep its group membership.
_PAUSED_POLL_S = 0.5
#: Batches handed to the writer and not yet committed: one being written, the next one waiting.
_IN_FLIGHT = 2


@dataclass
class SinkStats:
    """What a sink did: records written by kind, batches and their write time, records not
    stored, pauses and the most records held at once."""

    trades: int = 0
    candles: int = 0
    batches: int = 0
    write_seconds: float = 0.0
    other_kind: int = 0
    other_symbol: int = 0
    pauses: int = 0
    peak_held: int = 0

    @property
    def records_written(self) -> int:
        """Trades and candles written and committed."""
        return self.trades + self.candles


@dataclass
class _Chunk:
    """Records to write and the offsets to commit after them."""

    trades: list[Trade] = field(default_factory=list)
    candles: list[Candle] = field(default_factory=list)
    offsets: dict[TopicPartition, int] = field(default_factory=dict)
    since: float = 0.0  # when the first poll went into it (monotonic)

    def __len__(self) -> int:
        return len(self.trades) + len(self.candles)


class Sink(AsyncLifecycle):
    """Consumes ``topics`` (full names) in group ``group_id`` into the store that
    ``open_store`` opens; use as ``async with``, then :meth:`run` or :meth:`running`.

    Invalid records go to ``<topic>.dlq`` through ``producer``. ``open_store`` runs in the
    writer process, so it must pickle (see :class:`~.writer.StoreWriter`).
    """

    def __init__(
        self,
        settings: Settings,
        topics: Sequence[str],
        group_id: str,
        producer: BusProducer,
        open_store: Callable[[], Store],
        *,
        options: SinkOptions | None = None,
        symbols: Iterable[str] | None = None,
    ) -> None:
        self.options = options or SinkOptions()
        self.selection = Selection(symbols)
        self.dlq = DeadLetterQueue(producer)
        self.consumer = BusConsumer(
            settings,
            topics,
            _market_codec,
            options=ConsumerOptions(
                group_id=group_id,
                from_beginning=True,
                max_records=self.options.poll_records,
                poll_timeout_ms=min(self.options.batch_wait_ms, 100),
                commit_after_handler=False,
            ),
            dlq=self.dlq,
        )
        self.writer = StoreWriter(open_store)
        self.stats = SinkStats()
        #: The last offset this sink committed, or learned (:meth:`learn_committed`), by partition.
        self.committed: dict[TopicPartition, int] = {}
        #: Records read and not yet committed.
        self.held = 0
        self._bound = self.options.held_bound
        self._chunk = _Chunk()
        self._queue: asyncio.Queue[_Chunk | None] = asyncio.Queue()
        self._room = asyncio.Event()

    async def start(self) -> None:
        """Open the store, then join the consumer group."""
        await self.writer.start()
        try:
            await self.consumer.start()
        except BaseException:
            await self.writer.stop()
            raise

    async def stop(self) -> None:
        """Leave the group and close the store."""
        try:
            await self.consumer.stop()
        finally:
            await self.writer.stop()

    async def run(self, stop: asyncio.Event) -> None:
        """Read, batch and write until ``stop`` is set, then write and commit what was read.

        Raises what the store raised; what was read and not committed is read again later.
        """
        writing = asyncio.create_task(self._write_loop(), name="store-connector-writer")
        try:
            while not stop.is_set() and not writing.done():
                if self._due():
                    self._flush()
                if self.held + self.options.poll_records > self._bound:
                    await self._wait_for_room()
                else:
                    self._resume()
                    await self.consumer.poll(self._collect)
            self._flush()
            self._queue.put_nowait(None)
            await writing
        finally:
            if not writing.done():
                writing.cancel()
                await asyncio.wait({writing})
            self._resume()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[asyncio.Task[None]]:
        """:meth:`run` in a task for the body of the ``async with``; leaving it stops the sink
        and waits while it writes and commits what it read (raising the sink's error), unless
        the body raised: then the sink is abandoned and its records are read again later."""
        stop = asyncio.Event()
        task = asyncio.create_task(self.run(stop), name="store-connector-sink")
        try:
            yield task
        except BaseException:
            task.cancel()
            await asyncio.wait({task})
            if not task.cancelled():
                task.exception()  # the body's error is the one to report
            raise
        stop.set()
        await task

    async def learn_committed(self, partitions: Iterable[TopicPartition]) -> None:
        """Add the group's committed offsets of ``partitions`` that this sink has not committed
        itself (an earlier run's, which a restart does not re-read)."""
        unknown = [tp for tp in partitions if tp not in self.committed]
        for tp, offset in (await self.consumer.committed(unknown)).items():
            self.committed.setdefault(tp, offset)

    def reached(self, ends: Mapping[TopicPartition, int]) -> bool:
        """Whether the committed offsets reach ``ends`` on every partition listed."""
        committed = self.committed
        return all(committed.get(tp, 0) >= end for tp, end in ends.items())

    def fraction(self, ends: Mapping[TopicPartition, int]) -> float:
        """The share of the records up to ``ends`` that is committed (1.0 when none exist)."""
        total = sum(ends.values())
        if total == 0:
            return 1.0
        committed = self.committed
        return sum(min(committed.get(tp, 0), end) for tp, end in ends.items()) / total

    async def _collect(self, batch: Batch[AnyMarketRecord]) -> None:
        kept = self.selection.keep(batch.values)
        chunk = self._chunk
        if not chunk.offsets:
            chunk.since = time.monotonic()
        chunk.trades += kept.trades
        chunk.candles += kept.candles
        chunk.offsets.update(batch.offsets)
        self.held += len(kept.trades) + len(kept.candles)
        stats = self.stats
        stats.peak_held = max(stats.peak_held, self.held)
        if kept.other_kind:
            stats.other_kind += kept.other_kind
            SKIPPED.labels("kind").inc(kept.other_kind)
        if kept.other_symbol:
            stats.other_symbol += kept.other_symbol
            SKIPPED.labels("symbol").inc(kept.other_symbol)

    def _due(self) -> bool:
        chunk = self._chunk
        if not chunk.offsets:
            return False
        if len(chunk) >= self.options.batch_size:
            return True
        return time.monotonic() - chunk.since >= self.options.batch_wait_ms / 1000

    def _flush(self) -> None:
        if self._chunk.offsets:
            self._queue.put_nowait(self._chunk)
            self._chunk = _Chunk()
            HELD.set(self.held)

    async def _wait_for_room(self) -> None:
        """Pause until a write frees room; poll now and then, which returns nothing while
        paused but shows the group that this member is alive."""
        self._pause()
        self._room.clear()
        try:
            await asyncio.wait_for(self._room.wait(), _PAUSED_POLL_S)
        except TimeoutError:
            await self.consumer.poll(self._collect)

    async def _write_loop(self) -> None:
        """Hands batches to the writer as they come, at most :data:`_IN_FLIGHT` at once, and
        commits each, in order, once it is written."""
        in_flight: deque[tuple[_Chunk, asyncio.Future[float]]] = deque()
        getting: asyncio.Future[_Chunk | None] | None = None
        ending = False
        try:
            while in_flight or not ending:
                if getting is None and not ending and len(in_flight) < _IN_FLIGHT:
                    getting = asyncio.ensure_future(self._queue.get())
                oldest = in_flight[0][1] if in_flight else None
                await asyncio.wait(
                    [f for f in (getting, oldest) if f is not None],
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if getting is not None and getting.done():
                    chunk = getting.result()
                    getting = None
                    if chunk is None:
                        ending = True
                    else:
                        in_flight.append((chunk, self._submit(chunk)))
                if in_flight and in_flight[0][1].done():
                    chunk, written = in_flight.popleft()
                    await self._commit(chunk, written.result())
        finally:
            if getting is not None:
                getting.cancel()
            for _, written in in_flight:  # left by an error: theirs is not the one to report
                if written.done() and not written.cancelled():
                    written.exception()
                else:
                    written.cancel()
            self._room.set()  # a paused reader wakes up to see the writer gone

    def _submit(self, chunk: _Chunk) -> asyncio.Future[float]:
        if len(chunk):
            return self.writer.submit(chunk.trades, chunk.candles)
        nothing: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        nothing.set_result(0.0)
        return nothing

    async def _commit(self, chunk: _Chunk, seconds: float) -> None:
        self.committed.update(await self.consumer.commit(chunk.offsets))
        self._count(chunk, seconds)
        self.held -= len(chunk)
        HELD.set(self.held)
        self._room.set()

    def _count(self, chunk: _Chunk, seconds: float) -> None:
        if not len(chunk):
            return
        stats = self.stats
        stats.trades += len(chunk.trades)
        stats.candles += len(chunk.candles)
        stats.batches += 1
        stats.write_seconds += seconds
        WRITE_SECONDS.observe(seconds)
        BATCHES.inc()
        RECORDS_WRITTEN.labels("trades").inc(len(chunk.trades))
        RECORDS_WRITTEN.labels("candles").inc(len(chunk.candles))

    def _pause(self) -> None:
        if not self.consumer.paused:
            self.consumer.pause()
            self.stats.pauses += 1
            PAUSED.set(1)

    def _resume(self) -> None:
        if self.consumer.paused:
            self.consumer.resume()
            PAUSED.set(0)
