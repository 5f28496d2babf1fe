"""The deterministic trade history of one synthetic symbol, from its genesis to any later time.

Hour ``h`` (counted from genesis) plays template number ``choice[h]`` shifted to price level
``base[h]``; its aggregate trade ids start at ``agg_start[h]`` and its individual trade ids at
``raw_start[h]``. These per-hour numbers are a walk from genesis that is extended lazily and costs
a few microseconds an hour; trades themselves are only materialised for the hours a query touches.
Nothing here knows the current time: callers clamp queries to "now", which is how the live feed and
the history stay one and the same market.
"""

from __future__ import annotations

import random
import threading
from bisect import bisect_right
from functools import lru_cache
from typing import NamedTuple

from streamforge.simulator.bars import Bar, merge
from streamforge.simulator.symbols import SymbolSpec
from streamforge.simulator.templates import (
    HOUR_MS,
    HOURLY_VOLATILITY,
    HourTemplate,
    mirrored,
    random_template,
)

#: Distinct random hours per symbol; each also appears mirrored, so the walk has no drift.
TEMPLATES = 32
#: Pull of the price back towards the symbol's reference level, per hour.
_REVERSION = 0.003


class AggTrade(NamedTuple):
    """One aggregate trade; ``price`` in ticks, ``qty`` in lots, ``time`` in epoch ms."""

    id: int
    price: int
    qty: int
    first_id: int
    last_id: int
    time: int
    maker: bool


@lru_cache(maxsize=512)
def _hour_template(spec: SymbolSpec, seed: int, trade_rate: float, index: int) -> HourTemplate:
    if index >= TEMPLATES:
        return mirrored(_hour_template(spec, seed, trade_rate, index - TEMPLATES))
    rng = random.Random(f"{seed}:{spec.symbol}:hour:{index}")
    return random_template(
        rng,
        trades_per_hour=trade_rate * 3600,
        hourly_sigma_ticks=spec.reference_ticks * HOURLY_VOLATILITY,
        lots_per_trade=spec.reference_lots_per_trade,
    )


class SymbolHistory:
    """Every aggregate trade of one symbol since ``genesis_ms``, generated on demand."""

    def __init__(self, spec: SymbolSpec, *, seed: int, trade_rate: float, genesis_ms: int) -> None:
        if genesis_ms % HOUR_MS:
            raise ValueError("genesis must fall on a whole hour")
        self.spec = spec
        self.genesis_ms = genesis_ms
        self._seed = seed
        self._trade_rate = trade_rate
        self._rng = random.Random(f"{seed}:{spec.symbol}:plan")
        self._choice: list[int] = []
        self._base: list[int] = []
        self._agg_start = [1]
        self._raw_start = [1]
        self._next_base = spec.reference_ticks
        self._lock = threading.Lock()

    # -- the per-hour plan -------------------------------------------------------------------

    def hour_of(self, time_ms: int) -> int:
        """Hour index (from genesis) of an epoch-ms time; negative before genesis."""
        return (time_ms - self.genesis_ms) // HOUR_MS

    def _template(self, hour: int) -> HourTemplate:
        return _hour_template(self.spec, self._seed, self._trade_rate, self._choice[hour])

    def _extend(self, hour: int) -> None:
        if hour < len(self._choice):
            return
        with self._lock:
            reference = self.spec.reference_ticks
            while len(self._choice) <= hour:
                choice = self._rng.randrange(2 * TEMPLATES)
                template = _hour_template(self.spec, self._seed, self._trade_rate, choice)
                lowest = template.bar.low if template.bar else 0
                base = max(self._next_base, 1 - lowest, 1)
                self._choice.append(choice)
                self._base.append(base)
                self._agg_start.append(self._agg_start[-1] + template.count)
                self._raw_start.append(self._raw_start[-1] + template.raw_count)
                pull = round(_REVERSION * (reference - base))
                self._next_base = base + template.end_price + pull

    def _trades(self, hour: int, start: int, stop: int) -> list[AggTrade]:
        template = self._template(hour)
        base, agg0, raw0 = self._base[hour], self._agg_start[hour], self._raw_start[hour]
        t0 = self.genesis_ms + hour * HOUR_MS
        prices, qtys, times, makers = (
            template.prices,
            template.qtys,
            template.times,
            template.makers,
        )
        starts = template.raw_starts
        return [
            AggTrade(
                agg0 + i,
                base + prices[i],
                qtys[i],
                raw0 + starts[i],
                raw0 + starts[i + 1] - 1,
                t0 + times[i],
                makers[i],
            )
            for i in range(start, stop)
        ]

    def _index_at(self, hour: int, time_ms: int) -> int:
        return self._template(hour).index_at(time_ms - self.genesis_ms - hour * HOUR_MS)

    # -- queries -------------------------------------------------------------------------------

    def trades_between(
        self, start_ms: int, end_ms: int, limit: int | None = None
    ) -> list[AggTrade]:
        """Up to ``limit`` trades with ``start_ms <= time < end_ms``, oldest first."""
        start_ms = max(start_ms, self.genesis_ms)
        out: list[AggTrade] = []
        hour = self.hour_of(start_ms)
        last_hour = self.hour_of(end_ms - 1)
        if hour > last_hour:
            return out
        self._extend(last_hour)
        first_hour = hour
        while hour <= last_hour and (limit is None or len(out) < limit):
            first = self._index_at(hour, start_ms) if hour == first_hour else 0
            stop = self._index_at(hour, end_ms) if hour == last_hour else self._template(hour).count
            if limit is not None:
                stop = min(stop, first + limit - len(out))
            out.extend(self._trades(hour, first, stop))
            hour += 1
        return out

    def trades_from_id(self, from_id: int, end_ms: int, limit: int) -> list[AggTrade]:
        """Up to ``limit`` trades with ``id >= from_id`` and ``time < end_ms``, oldest first."""
        last_hour = self.hour_of(end_ms - 1)
        if last_hour < 0:
            return []
        self._extend(last_hour)
        from_id = max(from_id, 1)
        hour = bisect_right(self._agg_start, from_id) - 1
        if hour > last_hour:
            return []
        start_ms = self.genesis_ms + hour * HOUR_MS
        first = from_id - self._agg_start[hour]
        trades = self.trades_between(start_ms, end_ms, first + limit)
        return trades[first:]

    def trades_before(self, end_ms: int, limit: int) -> list[AggTrade]:
        """The last ``limit`` trades with ``time < end_ms``, oldest first."""
        out: list[AggTrade] = []
        hour = last_hour = self.hour_of(end_ms - 1)
        if hour >= 0:
            self._extend(hour)
        while hour >= 0 and len(out) < limit:
            template = self._template(hour)
            stop = self._index_at(hour, end_ms) if hour == last_hour else template.count
            out[:0] = self._trades(hour, max(0, stop - (limit - len(out))), stop)
            hour -= 1
        return out

    def last_trade_before(self, end_ms: int) -> AggTrade | None:
        """The latest trade with ``time < end_ms``, if any since genesis."""
        trades = self.trades_before(end_ms, 1)
        return trades[0] if trades else None

    def bar(self, start_ms: int, end_ms: int) -> Bar | None:
        """Summary of the trades with ``start_ms <= time < end_ms``."""
        start_ms = max(start_ms, self.genesis_ms)
        if start_ms >= end_ms:
            return None
        self._extend(self.hour_of(end_ms - 1))
        result: Bar | None = None
        time = start_ms
        while time < end_ms:
            hour = self.hour_of(time)
            hour_start = self.genesis_ms + hour * HOUR_MS
            stop = min(end_ms, hour_start + HOUR_MS)
            template = self._template(hour)
            if time == hour_start and stop == hour_start + HOUR_MS:
                piece = template.bar
            else:
                piece = template.range_bar(time - hour_start, stop - hour_start)
            if piece is not None:
                result = merge(result, piece.shifted(self._base[hour], self._raw_start[hour]))
            time = stop
        return result
