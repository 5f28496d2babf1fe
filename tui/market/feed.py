"""The market feed: ``md.*`` records into a :class:`MarketState`, one message per frame.

:meth:`MarketFeed.run` is meant to run as a Textual worker, on the app's event loop, so the state
it folds records into changes only between the screen's own handlers. Two consumers without a
group read every partition: ``md.book`` from its beginning, so that every symbol's newest book
arrives at once (the topic is compacted), and ``md.trades``, ``md.bbo``, ``md.candles`` and
``md.ticker`` from their end. Live records of symbols nobody watches are dropped by their key
before decoding, and of each poll's books and BBOs only the newest of each symbol is decoded: the
ones before it would never be on screen (the ladder's deeper levels come from the books).

Whatever a frame interval brought is announced by one :class:`MarketUpdated` (never one message
per record): the symbols that changed, the feed's figures and when each poll's records were
received, for measuring the delay from Kafka to the screen. A change of the link is announced
at once. When Kafka cannot be reached, or the once-a-second lag check fails, the feed reconnects
with exponential backoff; the state is kept, and re-read books older than the ones held are
ignored.
"""

from __future__ import annotations

import asyncio
import time
from typing import NamedTuple

from textual.message import Message

from streamforge.bus import Batch, BusConsumer, ConsumerOptions
from streamforge.bus.topics import BBO, BOOK, CANDLES, TICKER, TRADES
from streamforge.config import Settings
from streamforge.schemas import AnyMarketRecord, Codec, ContractError, RawCodec
from tui.feed import Backoff, FeedStats, FeedStatus, KafkaFeed, MessageTarget
from tui.market.state import MarketState

#: Topics read from their end.
LIVE_TOPICS = (TRADES, BBO, CANDLES, TICKER)


class Receipt(NamedTuple):
    """Records that one poll received: when (``time.monotonic()``) and how many."""

    at: float
    records: int


class MarketUpdated(Message):
    """What changed since the previous update: at most one such message per frame interval
    with changes, and one whenever the link changes."""

    def __init__(
        self,
        changed: frozenset[str],
        stats: FeedStats,
        status: FeedStatus,
        receipts: tuple[Receipt, ...] = (),
    ) -> None:
        super().__init__()
        #: Watched symbols whose state changed.
        self.changed = changed
        #: The feed's figures as of this update.
        self.stats = stats
        #: The link to Kafka.
        self.status = status
        #: The polls whose records this update covers.
        self.receipts = receipts


class MarketFeed(KafkaFeed):
    """Follows the ``md.*`` topics into :attr:`state`.

    Args:
        settings: How to reach Kafka and which topic prefix to use.
        state: What to fold the records into (a new, empty one when omitted); watch symbols with
            :meth:`MarketState.add`.
        frame_s: Least seconds between two :class:`MarketUpdated` with changes. Records wait up
            to this long to be shown; 50 ms keeps the delay to the screen under 100 ms.
        backoff: Delays between reconnection attempts.
        lag_interval: Seconds between checks of how far the consumers are behind.
        timeout: Seconds a lag check may take before the link counts as down.
        max_records: Most records handled by one poll (a bound on the time between frames).
    """

    def __init__(
        self,
        settings: Settings,
        state: MarketState | None = None,
        *,
        frame_s: float = 0.05,
        backoff: Backoff | None = None,
        lag_interval: float = 1.0,
        timeout: float = 10.0,
        max_records: int = 5000,
    ) -> None:
        if frame_s <= 0:
            raise ValueError("frame_s must be positive")
        super().__init__(settings, backoff)
        self.state = state if state is not None else MarketState()
        self.frame_s = frame_s
        self.lag_interval = lag_interval
        self.timeout = timeout
        self.max_records = max_records
        #: Records skipped because they did not decode.
        self.invalid = 0
        self._codec: Codec[AnyMarketRecord] = Codec(AnyMarketRecord, "market record")
        self._changed: set[str] = set()
        self._receipts: list[Receipt] = []
        self._posted_at = float("-inf")
        self._watched: tuple[int, frozenset[bytes]] = (-1, frozenset())
        self._bbo_topic = settings.topic(BBO)

    async def _session(self, target: MessageTarget) -> None:
        async with (
            self._consumer(LIVE_TOPICS, from_beginning=False) as live,
            self._consumer((BOOK,), from_beginning=True) as books,
        ):
            # The first lag check waits for the consumers' positions: from then on nothing
            # published is missed.
            self._lag = await asyncio.wait_for(_lag(live, books), self.timeout)
            self._connected_to(target)
            await self._follow(live, books, target)

    def _status_message(self, status: FeedStatus) -> Message:
        return MarketUpdated(frozenset(), self.stats, status)

    def _last_update_ms(self) -> int | None:
        return self.state.last_event_ms

    def _consumer(self, names: tuple[str, ...], *, from_beginning: bool) -> BusConsumer[bytes]:
        options = ConsumerOptions(
            group_id=None,
            from_beginning=from_beginning,
            max_records=self.max_records,
            # Books are polled without waiting, between polls of the live topics; those wait a
            # quarter frame at most, so that a frame due during a lull goes out in time.
            poll_timeout_ms=0 if from_beginning else max(1, int(self.frame_s * 250)),
        )
        topics = [self.settings.topic(name) for name in names]
        return BusConsumer(self.settings, topics, RawCodec(), options=options)

    async def _follow(
        self, live: BusConsumer[bytes], books: BusConsumer[bytes], target: MessageTarget
    ) -> None:
        lag_due = time.monotonic() + self.lag_interval
        while True:
            await live.poll(self._take_live)
            await books.poll(self._take_books)
            now = time.monotonic()
            if now >= lag_due:
                lag_due = now + self.lag_interval
                self._lag = await asyncio.wait_for(_lag(live, books), self.timeout)
            self._post_frame(target, now)

    async def _take_live(self, batch: Batch[bytes]) -> None:
        watched = self._watched_symbols()
        bbo_topic = self._bbo_topic
        raw: list[bytes] = []
        tops: dict[bytes, bytes] = {}
        for record, value, tp in zip(batch.records, batch.values, batch.partitions, strict=True):
            key = record.key
            if key is None or key[key.find(b":") + 1 :] not in watched:
                continue
            if tp.topic == bbo_topic:
                tops[key] = value  # a top of book superseded within one poll is never shown
            else:
                raw.append(value)
        raw.extend(tops.values())
        self._apply(raw, len(batch.records))

    async def _take_books(self, batch: Batch[bytes]) -> None:
        pairs = zip(batch.records, batch.values, strict=True)
        newest = {record.key: value for record, value in pairs}
        self._apply(list(newest.values()), len(batch.records))

    def _apply(self, raw: list[bytes], count: int) -> None:
        received = time.monotonic()
        self._changed |= self.state.apply(self._decode(raw))
        self._count(count, received)
        self._receipts.append(Receipt(received, count))

    def _decode(self, raw: list[bytes]) -> list[AnyMarketRecord]:
        decode = self._codec.decode
        try:  # the common case, every record valid, decodes in one comprehension
            return [decode(value) for value in raw]
        except ContractError:
            records: list[AnyMarketRecord] = []
            for value in raw:
                try:
                    records.append(decode(value))
                except ContractError:
                    self.invalid += 1
            return records

    def _post_frame(self, target: MessageTarget, now: float) -> None:
        if now - self._posted_at < self.frame_s:
            return
        if not self._changed:
            self._receipts.clear()  # records that changed nothing on screen
            return
        self._posted_at = now
        changed, self._changed = frozenset(self._changed), set()
        receipts, self._receipts = tuple(self._receipts), []
        target.post_message(MarketUpdated(changed, self.stats, self._status, receipts))

    def _watched_symbols(self) -> frozenset[bytes]:
        revision, symbols = self._watched
        if revision != self.state.watch_rev:
            symbols = frozenset(symbol.encode() for symbol in self.state.symbols)
            self._watched = (self.state.watch_rev, symbols)
        return symbols


async def _lag(*consumers: BusConsumer[bytes]) -> int:
    """Records on the broker that ``consumers`` have not read yet."""
    total = 0
    for consumer in consumers:
        for tp, end in (await consumer.end_offsets()).items():
            total += max(end - await consumer.position(tp), 0)
    return total
