"""Order books: one :class:`BookSync` per symbol fed by diffs, synced by scheduled snapshots.

* Every diff goes to ``md.depth`` as received, except duplicates the book recognises as stale.
* A book asks for a snapshot when its first diff is buffered (not before, so the snapshot can join
  the stream) and again on every gap (``RESYNC``). Requests go through the
  :class:`SnapshotScheduler`; diffs arriving meanwhile are buffered by ``BookSync``, none is lost.
* A reconnect needs no special case: diffs missed while disconnected show up as a gap in the update
  ids and trigger a resync, while a make-before-break reconnect that missed nothing costs nothing.
* After each applied diff or snapshot whose top of book changed, the book's BBO is offered to the
  :class:`BboGate` (``md.bbo``).
* Every ``interval`` seconds each live book that changed since its last one is published to
  ``md.book`` as a top-``depth`` :class:`BookSnapshot`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import httpx

from streamforge.exchanges.binance.book_sync import BookSync, DiffResult, SnapshotResult
from streamforge.exchanges.binance.normalize import FrameError
from streamforge.exchanges.binance.rest import BinanceAPIError, BinanceRest, depth_weight
from streamforge.schemas import DepthDiff, encode, now_millis
from streamforge.schemas.fields import Level
from streamforge.services.loader_ws.bbo import BboGate
from streamforge.services.loader_ws.metrics import LoaderStats
from streamforge.services.loader_ws.publisher import Publisher
from streamforge.services.loader_ws.snapshots import SnapshotPolicy, SnapshotScheduler
from streamforge.services.loader_ws.subscriptions import MarketTopics

log = logging.getLogger(__name__)


@dataclass
class _Book:
    sync: BookSync
    key: bytes
    awaiting_snapshot: bool = False
    top: tuple[Level | None, Level | None] = (None, None)
    published_id: int | None = None  # update id of the last md.book snapshot


class Books:
    """The order books of every subscribed symbol with a diff-depth stream."""

    def __init__(
        self,
        publisher: Publisher,
        bbo: BboGate,
        rest: BinanceRest,
        topics: MarketTopics,
        stats: LoaderStats,
        *,
        depth: int = 20,
        interval: float = 1.0,
        snapshots: SnapshotPolicy | None = None,
    ) -> None:
        self._publisher = publisher
        self._bbo = bbo
        self._rest = rest
        self._topics = topics
        self._stats = stats
        self.depth = depth
        self.interval = interval
        policy = snapshots or SnapshotPolicy()
        self._limit = policy.limit
        weight = depth_weight(policy.limit)
        self.scheduler = SnapshotScheduler(
            self._fetch,
            weight=weight,
            weight_per_minute=rest.budget.limit * policy.budget_share,
            burst=policy.burst,
        )
        self._books: dict[str, _Book] = {}

    def add(self, symbol: str, key: bytes) -> None:
        """Keep a book for ``symbol`` (synced once its diffs flow)."""
        if symbol not in self._books:
            self._books[symbol] = _Book(BookSync(symbol), key)

    def remove(self, symbol: str) -> None:
        """Forget ``symbol``'s book."""
        self._books.pop(symbol, None)
        self.scheduler.cancel(symbol)

    def synced(self, symbol: str) -> bool:
        """Whether ``symbol``'s book is live."""
        book = self._books.get(symbol)
        return book is not None and book.sync.synced

    def on_diff(self, diff: DepthDiff, key: bytes) -> None:
        """Apply one diff (the hot path of depth streams)."""
        book = self._books.get(diff.symbol)
        if book is None:
            return
        result = book.sync.apply_diff(diff)
        if result is DiffResult.STALE:
            return
        self._publisher.offer(self._topics.depth, key, encode(diff), diff.event_time)
        if result is DiffResult.APPLIED:
            self._offer_top(book, diff.event_time, diff.receive_time)
        elif result is DiffResult.RESYNC:
            self._stats.resyncs += 1
            log.warning("%s: update id gap before %d, resyncing", diff.symbol, diff.first_update_id)
            self._request_snapshot(book)
        elif not book.awaiting_snapshot:
            self._request_snapshot(book)

    def _request_snapshot(self, book: _Book) -> None:
        book.awaiting_snapshot = True
        self.scheduler.request(book.sync.symbol)

    def _offer_top(self, book: _Book, event_time: int, receive_time: int) -> None:
        sync = book.sync
        top = (sync.best_bid(), sync.best_ask())
        if top == book.top:
            return
        book.top = top
        bbo = sync.bbo(event_time, receive_time)
        if bbo is not None:
            self._bbo.offer(bbo, book.key)

    async def _fetch(self, symbol: str) -> None:
        try:
            snapshot = await self._rest.depth(symbol, self._limit)
        except (BinanceAPIError, FrameError, httpx.HTTPError) as exc:
            log.warning("%s: depth snapshot failed, the next diff asks again: %s", symbol, exc)
            snapshot = None
        book = self._books.get(symbol)
        if book is None:
            return  # unsubscribed during the fetch
        book.awaiting_snapshot = False
        if snapshot is None:
            return
        self._stats.snapshots += 1
        result = book.sync.apply_snapshot(snapshot)
        if result is SnapshotResult.SYNCED:
            log.info("%s: book synced at update id %d", symbol, book.sync.update_id)
            self._offer_top(book, snapshot.timestamp, snapshot.timestamp)
        elif result is SnapshotResult.NEED_NEWER:
            log.info(
                "%s: snapshot %d older than the stream, the next diff asks again",
                symbol,
                snapshot.last_update_id,
            )

    async def publish_books(self) -> None:
        """Publish every live book that changed to ``md.book`` each ``interval``, until cancelled.

        (Snapshots are fetched by :attr:`scheduler`, whose ``run`` must run beside this.)
        """
        next_at = time.monotonic() + self.interval
        while True:
            await asyncio.sleep(max(next_at - time.monotonic(), 0))
            # A fixed schedule while on time; a late round pushes the next one back, so a stall
            # neither bursts to catch up nor leaves two rounds closer than one interval.
            next_at = max(next_at, time.monotonic()) + self.interval
            now = now_millis()
            for book in list(self._books.values()):
                update_id = book.sync.update_id
                if update_id is None or update_id == book.published_id:
                    continue
                snapshot = book.sync.snapshot(self.depth, now)
                if snapshot is not None and self._publisher.offer(
                    self._topics.book, book.key, encode(snapshot), now
                ):
                    book.published_id = update_id
