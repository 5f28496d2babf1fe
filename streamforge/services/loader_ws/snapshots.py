"""Depth snapshots over REST, staggered within a share of the request-weight budget.

A snapshot at limit 5000 costs weight 250: 24 of them spend a whole minute of Binance's budget.
After a mass reconnect every book may need one at once; firing them together earns 429s (and,
ignored, an IP ban). :class:`SnapshotScheduler` queues the symbols that need a snapshot (each
once), fetches them one at a time and paces them with a token bucket of request weight: ``burst``
snapshots may go back to back, after that one every ``weight / weight_per_minute`` minutes. The
REST client's shared :class:`~streamforge.exchanges.binance.rest.WeightBudget` still has the last
word, so snapshots and trade backfills together stay within the exchange's count.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class SnapshotPolicy:
    """How deep snapshots are and how much of the weight budget they may use."""

    limit: int = 5000
    #: Share of the REST weight budget a minute that snapshots may spend.
    budget_share: float = 0.5
    #: Snapshots that may be fetched back to back before pacing sets in.
    burst: int = 4

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= 5000:
            raise ValueError(f"snapshot limit must be 1-5000, got {self.limit}")
        if not 0 < self.budget_share <= 1:
            raise ValueError(f"budget share must be in (0, 1], got {self.budget_share}")
        if self.burst < 1:
            raise ValueError(f"burst must be at least 1, got {self.burst}")


class SnapshotScheduler:
    """Fetches queued symbols' snapshots one at a time, at most ``weight_per_minute`` of weight
    a minute after an initial burst."""

    def __init__(
        self,
        fetch: Callable[[str], Awaitable[None]],
        *,
        weight: int,
        weight_per_minute: float,
        burst: int,
    ) -> None:
        self._fetch = fetch
        self._weight = weight
        self._rate = weight_per_minute / 60.0
        self._capacity = float(max(burst, 1) * weight)
        self._tokens = self._capacity
        self._stamp = time.monotonic()
        self._queue: deque[str] = deque()
        self._queued: set[str] = set()
        self._ready = asyncio.Event()

    @property
    def pending(self) -> int:
        """Symbols waiting for a snapshot."""
        return len(self._queued)

    def request(self, symbol: str) -> None:
        """Queue ``symbol`` for a snapshot unless it is queued already."""
        if symbol not in self._queued:
            self._queued.add(symbol)
            self._queue.append(symbol)
            self._ready.set()

    def cancel(self, symbol: str) -> None:
        """Forget a queued request (the symbol was unsubscribed)."""
        self._queued.discard(symbol)

    async def run(self) -> None:
        """Fetch queued snapshots, paced, until cancelled."""
        while True:
            if not self._queue:
                self._ready.clear()
                await self._ready.wait()
                continue
            symbol = self._queue.popleft()
            if symbol not in self._queued:
                continue  # cancelled
            await self._spend()
            if symbol not in self._queued:  # cancelled while waiting: keep the weight
                self._tokens += self._weight
                continue
            self._queued.discard(symbol)
            await self._fetch(symbol)

    async def _spend(self) -> None:
        """Wait until the bucket holds one snapshot's weight, then take it."""
        while True:
            now = time.monotonic()
            self._tokens = min(self._capacity, self._tokens + (now - self._stamp) * self._rate)
            self._stamp = now
            if self._tokens >= self._weight:
                self._tokens -= self._weight
                return
            await asyncio.sleep((self._weight - self._tokens) / self._rate)
