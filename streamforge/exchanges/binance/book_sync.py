"""Binance's procedure for keeping a local order book, for one symbol, as a pure state machine.

The caller feeds diffs (``apply_diff``) and REST snapshots (``apply_snapshot``) and acts on the
results; nothing here does I/O. The rules (Binance spot, "how to manage a local order book"):

1. Until a snapshot arrives, diffs are buffered (the newest ``max_buffer`` of them). One that
   is not newer than the last buffered diff is stale; a gap between buffered diffs voids the
   ones before it, as no snapshot can join them to the diffs after it.
2. On a snapshot, buffered diffs with ``u <= lastUpdateId`` are dropped. If the first remaining
   one starts after ``lastUpdateId + 1`` the snapshot is too old: fetch a newer one. Otherwise
   the book is loaded and the buffered diffs are replayed.
3. Synced, a diff with ``u <= book id`` is stale and ignored (duplicates are harmless); one with
   ``U <= book id + 1 <= u`` is applied (normally ``U == book id + 1``); one with
   ``U > book id + 1`` reveals a gap: the book is void and buffering restarts with that diff,
   so a resync loses nothing that arrives while the new snapshot is fetched.

Binance's documented procedure asks for a new snapshot when ``lastUpdateId < U`` of the first
buffered diff; ``lastUpdateId == U - 1`` is continuous, though, and is accepted here.
"""

from __future__ import annotations

from collections import deque
from enum import StrEnum

from streamforge.exchanges.binance import EXCHANGE
from streamforge.exchanges.orderbook import DEFAULT_MAX_LEVELS, OrderBook
from streamforge.schemas import BBO, BookSnapshot, DepthDiff
from streamforge.schemas.fields import Level

#: Diffs kept while waiting for a snapshot: about 17 minutes of a 100 ms depth stream.
DEFAULT_MAX_BUFFER = 10_000


class DiffResult(StrEnum):
    """What :meth:`BookSync.apply_diff` did with a diff."""

    APPLIED = "applied"  # the book now stands at the diff's final update id
    BUFFERED = "buffered"  # kept until a snapshot arrives
    STALE = "stale"  # already covered (u <= book id): ignored
    RESYNC = "resync"  # a gap: the book is void; fetch a new snapshot (the diff is buffered)


class SnapshotResult(StrEnum):
    """What :meth:`BookSync.apply_snapshot` did with a snapshot."""

    SYNCED = "synced"  # the book is live: the snapshot plus any buffered diffs after it
    NEED_NEWER = "need_newer"  # older than the buffered diffs: fetch another snapshot
    STALE = "stale"  # the live book is already at or past it: ignored


class BookSync:
    """One symbol's local order book kept in step with Binance's diff stream."""

    def __init__(
        self,
        symbol: str,
        *,
        max_levels: int = DEFAULT_MAX_LEVELS,
        max_buffer: int = DEFAULT_MAX_BUFFER,
    ) -> None:
        self.symbol = symbol
        self._book = OrderBook(max_levels=max_levels)
        self._buffer: deque[DepthDiff] = deque(maxlen=max_buffer)
        self._synced = False

    @property
    def synced(self) -> bool:
        """Whether the book is live (built from a snapshot and every diff since)."""
        return self._synced

    @property
    def update_id(self) -> int | None:
        """The id of the last update in the live book, or None while not synced."""
        return self._book.update_id if self._synced else None

    @property
    def buffered(self) -> int:
        """How many diffs wait for a snapshot."""
        return len(self._buffer)

    def apply_diff(self, diff: DepthDiff) -> DiffResult:
        """Apply, buffer or ignore one diff, following the rules in the module docstring."""
        if diff.symbol != self.symbol:
            raise _wrong_symbol(diff.symbol, self.symbol)
        if not self._synced:
            return self._buffer_diff(diff)
        book = self._book
        book_id = book.update_id
        if diff.final_update_id <= book_id:
            return DiffResult.STALE
        if diff.first_update_id > book_id + 1:
            self._synced = False
            book.clear()
            self._buffer.append(diff)
            return DiffResult.RESYNC
        book.apply(diff.bids, diff.asks, diff.final_update_id)
        return DiffResult.APPLIED

    def apply_snapshot(self, snapshot: BookSnapshot) -> SnapshotResult:
        """Build the book from a REST snapshot and replay the buffered diffs over it."""
        if snapshot.symbol != self.symbol:
            raise _wrong_symbol(snapshot.symbol, self.symbol)
        last_update_id = snapshot.last_update_id
        if self._synced and last_update_id <= self._book.update_id:
            return SnapshotResult.STALE
        buffer = self._buffer
        while buffer and buffer[0].final_update_id <= last_update_id:
            buffer.popleft()
        if buffer and buffer[0].first_update_id > last_update_id + 1:
            return SnapshotResult.NEED_NEWER
        book = self._book
        book.load(snapshot.bids, snapshot.asks, last_update_id)
        # The buffer is continuous and its first diff straddles last_update_id + 1.
        for diff in buffer:
            book.apply(diff.bids, diff.asks, diff.final_update_id)
        buffer.clear()
        self._synced = True
        return SnapshotResult.SYNCED

    def reset(self) -> None:
        """Void the book and everything buffered, e.g. after a reconnect (diffs were missed)."""
        self._synced = False
        self._book.clear()
        self._buffer.clear()

    def best_bid(self) -> Level | None:
        """The live book's best bid ``(price, quantity)``, or None."""
        return self._book.best_bid() if self._synced else None

    def best_ask(self) -> Level | None:
        """The live book's best ask ``(price, quantity)``, or None."""
        return self._book.best_ask() if self._synced else None

    def bbo(self, event_time: int, receive_time: int) -> BBO | None:
        """The live book's best bid and offer, or None while not synced or a side is empty."""
        bid, ask = self.best_bid(), self.best_ask()
        if bid is None or ask is None:
            return None
        return BBO(
            exchange=EXCHANGE,
            symbol=self.symbol,
            update_id=self._book.update_id,
            bid=bid[0],
            bid_qty=bid[1],
            ask=ask[0],
            ask_qty=ask[1],
            event_time=event_time,
            receive_time=receive_time,
        )

    def snapshot(self, depth: int, timestamp: int) -> BookSnapshot | None:
        """The top ``depth`` levels a side of the live book, or None while not synced."""
        if not self._synced:
            return None
        return BookSnapshot(
            exchange=EXCHANGE,
            symbol=self.symbol,
            last_update_id=self._book.update_id,
            depth=depth,
            bids=self._book.bids.top(depth),
            asks=self._book.asks.top(depth),
            timestamp=timestamp,
        )

    def _buffer_diff(self, diff: DepthDiff) -> DiffResult:
        buffer = self._buffer
        if buffer:
            last = buffer[-1].final_update_id
            if diff.final_update_id <= last:
                return DiffResult.STALE
            if diff.first_update_id > last + 1:
                buffer.clear()
        buffer.append(diff)
        return DiffResult.BUFFERED


def _wrong_symbol(record_symbol: str, book_symbol: str) -> ValueError:
    return ValueError(f"{record_symbol} record given to the {book_symbol} book")
