"""Delays from Kafka to the screen: when a poll received records, to when the frame that showed
them had been drawn."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable

from tui.market.feed import Receipt


class DelayLog:
    """The newest ``maxlen`` polls' delays (seconds), each weighted by its number of records."""

    def __init__(self, maxlen: int = 100_000) -> None:
        self._samples: deque[tuple[float, int]] = deque(maxlen=maxlen)
        #: Frames drawn with records in them.
        self.frames = 0

    def __len__(self) -> int:
        return len(self._samples)

    def shown(self, receipts: Iterable[Receipt], now: float | None = None) -> None:
        """Note that the records of ``receipts`` are on screen as of ``now`` (default: now, on
        the clock of :attr:`Receipt.at`)."""
        if now is None:
            now = time.monotonic()
        self.frames += 1
        self._samples.extend((now - receipt.at, receipt.records) for receipt in receipts)

    def percentile(self, fraction: float) -> float | None:
        """The delay that ``fraction`` (0..1) of the records logged did not exceed."""
        samples = sorted(self._samples)
        total = sum(records for _, records in samples)
        if not total:
            return None
        wanted = fraction * total
        seen = 0
        for delay, records in samples:
            seen += records
            if seen >= wanted:
                return delay
        return samples[-1][0]

    def clear(self) -> None:
        """Forget every delay and frame logged."""
        self._samples.clear()
        self.frames = 0
