"""Binance's REQUEST_WEIGHT budget: a fixed window per client address."""

from __future__ import annotations

import math
from typing import NamedTuple


class Charge(NamedTuple):
    """Weight used in the current window after this request; ``retry_after`` set when refused."""

    used: int
    retry_after: int | None


class WeightLimiter:
    """Counts request weight per client in windows of ``window_s`` seconds aligned to the clock."""

    def __init__(self, limit: int, window_s: float = 60.0) -> None:
        self.limit = limit
        self.window_s = window_s
        self._used: dict[str, tuple[int, int]] = {}

    def charge(self, client: str, weight: int, now: float) -> Charge:
        """Add ``weight`` for ``client``; refused (with seconds to wait) once over the limit."""
        window = math.floor(now / self.window_s)
        start, used = self._used.get(client, (window, 0))
        used = used + weight if start == window else weight
        self._used[client] = (window, used)
        if used <= self.limit:
            return Charge(used, None)
        return Charge(used, max(1, math.ceil((window + 1) * self.window_s - now)))
