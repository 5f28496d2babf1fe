"""loader-ws's engine: the exchange's WebSocket streams into the ``md.*`` topics, in one process.

:class:`Pipeline` wires the pieces together and owns their tasks::

    BinanceStreams --frames-> FrameRouter --> Trades (gap-free, REST backfill) --+
                                          --> Books (BookSync, snapshots) -------+--> Publisher
                                          --> BboGate ---------------------------+    (bounded)
                                          --> candles, tickers ------------------+       |
                                          --> DeadLetters (<topic>.dlq)            BusProducer

Use it as ``async with`` (or ``start``/``stop``): stopping closes the streams, writes what is
queued and flushes the producer, so everything counted as published is acknowledged by Kafka.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from streamforge.bus import BusProducer, DeadLetterQueue
from streamforge.config import Settings
from streamforge.exchanges.binance.rest import BinanceRest
from streamforge.exchanges.binance.ws import BinanceStreams, StreamOptions
from streamforge.lifecycle import AsyncLifecycle
from streamforge.services.loader_ws.bbo import BboGate
from streamforge.services.loader_ws.books import Books
from streamforge.services.loader_ws.dead_letters import DeadLetters
from streamforge.services.loader_ws.frames import FrameRouter
from streamforge.services.loader_ws.metrics import LoaderStats
from streamforge.services.loader_ws.publisher import DEFAULT_MAX_BYTES, Publisher
from streamforge.services.loader_ws.snapshots import SnapshotPolicy
from streamforge.services.loader_ws.subscriptions import (
    DEFAULT_KINDS,
    TRADE_KIND,
    MarketTopics,
    Subscription,
    parse_kinds,
    split_stream,
)
from streamforge.services.loader_ws.trades import Trades

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoaderOptions:
    """How loader-ws streams; validated on creation."""

    kinds: tuple[str, ...] = DEFAULT_KINDS
    #: Levels a side in ``md.book`` snapshots.
    book_depth: int = 20
    #: Seconds between ``md.book`` snapshots of a symbol.
    book_interval: float = 1.0
    snapshots: SnapshotPolicy = field(default_factory=SnapshotPolicy)
    #: Bound of the queue to Kafka (see :mod:`~streamforge.services.loader_ws.publisher`).
    max_queued_bytes: int = DEFAULT_MAX_BYTES
    #: Dedupe and backfill trades; off publishes aggTrades exactly as received.
    gap_free_trades: bool = True
    streams: StreamOptions = field(default_factory=StreamOptions)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kinds", parse_kinds(list(self.kinds), "streams"))
        if self.book_depth < 1:
            raise ValueError(f"book depth must be positive, got {self.book_depth}")
        if self.book_interval <= 0:
            raise ValueError(f"book interval must be positive, got {self.book_interval}")


class Pipeline(AsyncLifecycle):
    """Streams the subscribed symbols into Kafka until stopped; also the stream listener."""

    def __init__(
        self, producer: BusProducer, settings: Settings, rest: BinanceRest, options: LoaderOptions
    ) -> None:
        self.stats = LoaderStats()
        self.topics = MarketTopics.from_settings(settings)
        self.subscription = Subscription((), options.kinds)
        self._producer = producer
        self.publisher = Publisher(producer, self.stats, max_bytes=options.max_queued_bytes)
        self.dead_letters = DeadLetters(DeadLetterQueue(producer), self.topics, self.stats)
        self.bbo = BboGate(self.publisher, self.topics.bbo)
        self.books = Books(
            self.publisher,
            self.bbo,
            rest,
            self.topics,
            self.stats,
            depth=options.book_depth,
            interval=options.book_interval,
            snapshots=options.snapshots,
        )
        self.trades = Trades(
            self.publisher, rest, self.topics.trades, self.stats, gap_free=options.gap_free_trades
        )
        self.router = FrameRouter(
            self.topics,
            self.publisher,
            self.trades,
            self.books,
            self.bbo,
            self.dead_letters,
            self.stats,
        )
        self.streams = BinanceStreams(settings.binance.ws_url, self.router, self, options.streams)
        self._publishing: asyncio.Task[None] | None = None
        self._helpers: list[asyncio.Task[Any]] = []

    async def start(self) -> None:
        """Start publishing, dead-lettering, snapshot fetching and ``md.book`` publishing."""
        self._publishing = asyncio.create_task(self.publisher.run(), name="loader-ws-publish")
        self._helpers = [
            asyncio.create_task(self.dead_letters.run(), name="loader-ws-dead-letters"),
            asyncio.create_task(self.books.scheduler.run(), name="loader-ws-snapshots"),
            asyncio.create_task(self.books.publish_books(), name="loader-ws-books"),
        ]

    async def stop(self) -> None:
        """Close the streams, publish what is queued and wait until Kafka acknowledged it."""
        await self.streams.stop()
        await self.trades.close()
        for task in self._helpers:
            task.cancel()
        for task in self._helpers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.dead_letters.flush()
        self._helpers = []
        if self._publishing is not None:
            publishing, self._publishing = self._publishing, None
            self.publisher.stop()
            await publishing
        await self._producer.flush()

    def check(self) -> None:
        """Raise the error of a background task that failed (such as Kafka losing records)."""
        for task in [self._publishing, *self._helpers]:
            if task is not None and task.done() and not task.cancelled():
                error = task.exception()
                if error is not None:
                    raise error

    # -- subscriptions -------------------------------------------------------------------------

    async def apply(self, subscription: Subscription) -> None:
        """Stream exactly ``subscription``; a change of kinds restarts every symbol's state."""
        old = self.subscription
        kept = set(old.symbols) & set(subscription.symbols)
        if subscription.kinds != old.kinds:
            kept.clear()
        for symbol in old.symbols:
            if symbol not in kept:
                self._forget(symbol)
        self.subscription = subscription
        for symbol in subscription.symbols:
            if symbol not in kept:
                self._follow(symbol)
        await self.streams.remove(old.streams() - subscription.streams())
        await self.streams.add(subscription.streams() - old.streams())
        log.info("streaming %s x %s", ",".join(subscription.symbols), ",".join(subscription.kinds))

    async def subscribe(self, symbols: tuple[str, ...]) -> list[str]:
        """Add ``symbols``; returns those that were not subscribed yet."""
        current = self.subscription
        added = [s for s in symbols if s not in current.symbols]
        await self.apply(Subscription((*current.symbols, *added), current.kinds))
        return added

    async def unsubscribe(self, symbols: tuple[str, ...]) -> None:
        """Remove ``symbols``."""
        current = self.subscription
        kept = tuple(s for s in current.symbols if s not in symbols)
        await self.apply(Subscription(kept, current.kinds))

    def _follow(self, symbol: str) -> None:
        key = self.router.accept(symbol)
        if self.subscription.trades:
            self.trades.add(symbol, key)
        if self.subscription.depth:
            self.books.add(symbol, key)

    def _forget(self, symbol: str) -> None:
        self.router.refuse(symbol)
        self.trades.remove(symbol)
        self.books.remove(symbol)
        self.bbo.forget(symbol)

    # -- StreamListener ------------------------------------------------------------------------

    def on_connected(self, streams: frozenset[str], reconnect: bool) -> None:
        """After a reconnect, backfill the trades of the connection's symbols."""
        if not reconnect:
            return
        self.stats.reconnects += 1
        log.info("reconnected %d streams", len(streams))
        for stream in streams:
            symbol, kind = split_stream(stream)
            if kind == TRADE_KIND:
                self.trades.on_reconnect(symbol)

    def on_disconnected(self, streams: frozenset[str], reason: str) -> None:
        """Log it; the reconnect repairs what was missed."""
        log.warning("%d streams disconnected: %s", len(streams), reason)
