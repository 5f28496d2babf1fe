"""Malformed frames to the dead-letter topic of the stream they came on, off the hot path.

A frame that does not decode is queued (synchronously, from the frame handler) and one task writes
it with :class:`~streamforge.bus.DeadLetterQueue`, which waits for Kafka's acknowledgement. The
stream name is read from the frame's first bytes (a truncated frame keeps them); a frame without one
goes to ``md.trades.dlq``. The queue is bounded: a flood of bad frames beyond it is counted and
logged, not kept.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import deque

from streamforge.bus import DeadLetterQueue
from streamforge.exchanges.binance import EXCHANGE
from streamforge.services.loader_ws.metrics import LoaderStats
from streamforge.services.loader_ws.subscriptions import MarketTopics, split_stream

log = logging.getLogger(__name__)

_STREAM = re.compile(rb'^\{"stream":"([a-z0-9]{2,30}@[A-Za-z0-9_@]{1,30})"')


class DeadLetters:
    """Queues undecodable frames; :meth:`run` writes them to ``<topic>.dlq`` with the reason."""

    def __init__(
        self,
        dlq: DeadLetterQueue,
        topics: MarketTopics,
        stats: LoaderStats,
        *,
        max_pending: int = 1000,
    ) -> None:
        self._dlq = dlq
        self._topics = topics
        self._stats = stats
        self._pending: deque[tuple[bytes, Exception]] = deque()
        self._max_pending = max_pending
        self._ready = asyncio.Event()
        self._overflowing = False

    def offer(self, frame: bytes, error: Exception) -> None:
        """Queue a frame that failed to decode with ``error``."""
        if len(self._pending) >= self._max_pending:
            if not self._overflowing:
                self._overflowing = True
                log.error("dead-letter queue full: bad frames are dropped (%s)", error)
            return
        self._pending.append((frame, error))
        self._ready.set()

    async def run(self) -> None:
        """Write queued frames until cancelled."""
        while True:
            await self._ready.wait()
            self._ready.clear()
            await self.flush()

    async def flush(self) -> None:
        """Write everything queued now (a frame leaves the queue once Kafka has it)."""
        while self._pending:
            frame, error = self._pending[0]
            topic, key = self._destination(frame)
            await self._dlq.send(topic, frame, key, reason=str(error), error=type(error).__name__)
            self._pending.popleft()
            self._stats.dead_letters += 1
        self._overflowing = False

    def _destination(self, frame: bytes) -> tuple[str, bytes | None]:
        match = _STREAM.match(frame)
        if match is None:
            return self._topics.trades, None
        stream = match.group(1).decode()
        symbol = split_stream(stream)[0]
        return self._topics.of_stream(stream), f"{EXCHANGE}:{symbol}".encode()
