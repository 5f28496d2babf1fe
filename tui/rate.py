"""A sliding-window rate of arrivals (the status bar's events per second)."""

from __future__ import annotations

from collections import deque


class RateMeter:
    """Counts arrivals and reports their rate per second over the last ``window_s`` seconds.

    Times are caller-supplied seconds from one monotonic clock.
    """

    def __init__(self, window_s: float = 5.0) -> None:
        if window_s <= 0:
            raise ValueError("window_s must be positive")
        self.window_s = window_s
        self._samples: deque[tuple[float, int]] = deque()
        self._total = 0

    def add(self, count: int, now: float) -> None:
        """Record ``count`` arrivals at time ``now``."""
        if count <= 0:
            return
        self._samples.append((now, count))
        self._total += count
        self._expire(now)

    def rate(self, now: float) -> float:
        """Arrivals per second over the window that ends at ``now``."""
        self._expire(now)
        return self._total / self.window_s

    def _expire(self, now: float) -> None:
        while self._samples and self._samples[0][0] <= now - self.window_s:
            _, count = self._samples.popleft()
            self._total -= count
