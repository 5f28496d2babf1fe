"""Hour templates: one hour of aggregate trades with prices relative to the hour's opening level.

The synthetic market strings hours together, each one a template picked by the seed and shifted
to the price the previous hour ended at. Because a template's minute and hour summaries are
computed once, a kline of any width costs a few additions instead of a walk over its trades, and a
month of history can be served without generating it up front.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate, compress, pairwise
from operator import mul, not_

from streamforge.simulator.bars import Bar, merge

HOUR_MS = 3_600_000
MINUTE_MS = 60_000
#: Hourly volatility of the synthetic price, a fraction of the reference price.
HOURLY_VOLATILITY = 0.006
#: Chance that an aggregate trade fills one more maker order (geometric number of fills).
_EXTRA_FILL = 0.4


@dataclass(frozen=True, slots=True)
class HourTemplate:
    """One hour of aggregate trades, ascending by time.

    ``raw_starts[i]`` is the index of the first individual trade of aggregate ``i`` (one more
    entry than there are aggregates): aggregate ``i`` fills ``raw_starts[i]..raw_starts[i+1]-1``.
    """

    times: list[int]
    prices: list[int]
    qtys: list[int]
    makers: list[bool]
    raw_starts: list[int]
    minute_bars: tuple[Bar | None, ...]
    bar: Bar | None

    @property
    def count(self) -> int:
        """Number of aggregate trades."""
        return len(self.times)

    @property
    def raw_count(self) -> int:
        """Number of individual trades."""
        return self.raw_starts[-1]

    @property
    def end_price(self) -> int:
        """Relative price of the hour's last trade (0 for an hour without trades)."""
        return self.prices[-1] if self.prices else 0

    def index_at(self, offset_ms: int) -> int:
        """Index of the first trade at or after ``offset_ms`` into the hour."""
        return bisect_left(self.times, offset_ms)

    def slice_bar(self, start: int, stop: int) -> Bar | None:
        """Summary of the trades with indices ``start..stop-1``."""
        if start >= stop:
            return None
        prices = self.prices[start:stop]
        qtys = self.qtys[start:stop]
        takers = list(map(not_, self.makers[start:stop]))
        return Bar(
            prices[0],
            max(prices),
            min(prices),
            prices[-1],
            sum(qtys),
            sum(map(mul, prices, qtys)),
            self.raw_starts[stop] - self.raw_starts[start],
            sum(compress(qtys, takers)),
            sum(map(mul, compress(prices, takers), compress(qtys, takers))),
            self.raw_starts[start],
            self.raw_starts[stop] - 1,
        )

    def range_bar(self, start_ms: int, end_ms: int) -> Bar | None:
        """Summary of the trades in ``[start_ms, end_ms)`` (offsets into the hour)."""
        first_minute = -(-start_ms // MINUTE_MS)
        last_minute = end_ms // MINUTE_MS
        if first_minute >= last_minute:
            return self.slice_bar(self.index_at(start_ms), self.index_at(end_ms))
        head = self.slice_bar(self.index_at(start_ms), self.index_at(first_minute * MINUTE_MS))
        for minute in self.minute_bars[first_minute:last_minute]:
            head = merge(head, minute)
        tail_start = self.index_at(last_minute * MINUTE_MS)
        return merge(head, self.slice_bar(tail_start, self.index_at(end_ms)))


def _template(
    times: list[int], prices: list[int], qtys: list[int], makers: list[bool], fills: list[int]
) -> HourTemplate:
    raw_starts = [0, *accumulate(fills)]
    draft = HourTemplate(times, prices, qtys, makers, raw_starts, (), None)
    bounds = [bisect_left(times, minute * MINUTE_MS) for minute in range(61)]
    minute_bars = tuple(draft.slice_bar(bounds[m], bounds[m + 1]) for m in range(60))
    return HourTemplate(
        times, prices, qtys, makers, raw_starts, minute_bars, draft.slice_bar(0, len(times))
    )


def random_template(
    rng: random.Random, trades_per_hour: float, hourly_sigma_ticks: float, lots_per_trade: float
) -> HourTemplate:
    """A random hour: uniform trade times, a Gaussian walk in ticks, log-normal sizes.

    A price rise is a taker buy (``m`` false) and a fall a taker sell, as a walk through the book
    would make it.
    """
    count = max(0, round(trades_per_hour * rng.uniform(0.6, 1.4)))
    times = sorted([rng.randrange(HOUR_MS) for _ in range(count)])
    sigma = hourly_sigma_ticks / math.sqrt(max(count, 1))
    steps = [round(rng.gauss(0.0, sigma)) for _ in range(count)]
    makers = [step < 0 or (step == 0 and rng.random() < 0.5) for step in steps]
    fills = [_fills(rng) for _ in range(count)]
    # lognormvariate(0, 0.9) has mean exp(0.405): divide it out to keep the typical size.
    scale = lots_per_trade / 1.5
    qtys = [max(fill, round(scale * rng.lognormvariate(0.0, 0.9))) for fill in fills]
    return _template(times, list(accumulate(steps)), qtys, makers, fills)


def mirrored(template: HourTemplate) -> HourTemplate:
    """The same hour with the price path upside down (every taker on the other side)."""
    return _template(
        template.times,
        [-price for price in template.prices],
        template.qtys,
        [not maker for maker in template.makers],
        _differences(template.raw_starts),
    )


def _fills(rng: random.Random) -> int:
    fills = 1
    while rng.random() < _EXTRA_FILL:
        fills += 1
    return fills


def _differences(starts: Sequence[int]) -> list[int]:
    return [b - a for a, b in pairwise(starts)]
