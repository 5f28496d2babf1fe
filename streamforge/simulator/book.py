"""A live order book that follows the trades and reports itself as Binance diff-depth events.

After every step the best ask is the price of the last taker buy (or one or two ticks above the
last taker sell) and the best bid the mirror image, so the book agrees with the trade stream.
Each step's changes form one event whose update ids continue the previous event's
(``U == previous u + 1``); applying the events to a snapshot rebuilds this book exactly.
"""

from __future__ import annotations

import random
from bisect import bisect_left, insort
from typing import NamedTuple

from streamforge.simulator.history import AggTrade
from streamforge.simulator.symbols import SymbolSpec

#: Levels near the top that churn (quantity changes, cancels, new orders) every step.
_ACTIVE_LEVELS = 20
#: At most this many levels are added to one side in one step (the rest in later steps).
_MAX_ADDS = 100

Level = tuple[int, int]


class DepthEvent(NamedTuple):
    """One diff: prices in ticks and quantities in lots (0 removes the level)."""

    first_update_id: int
    final_update_id: int
    time: int
    bids: list[Level]
    asks: list[Level]


class Top(NamedTuple):
    """Best bid and ask with their quantities."""

    bid: int
    bid_qty: int
    ask: int
    ask_qty: int


class _Side:
    """One side of the book keyed so that ascending keys walk away from the best price."""

    def __init__(self, sign: int) -> None:
        self.sign = sign
        self.keys: list[int] = []
        self.qty: dict[int, int] = {}
        self.changes: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self.keys)

    def best(self) -> int:
        return self.keys[0] * self.sign

    def farthest(self) -> int:
        return self.keys[-1] * self.sign

    def price_at(self, index: int) -> int:
        return self.keys[index] * self.sign

    def set(self, price: int, qty: int) -> None:
        key = price * self.sign
        if qty:
            if key not in self.qty:
                insort(self.keys, key)
            self.qty[key] = qty
        elif key in self.qty:
            del self.qty[key]
            del self.keys[bisect_left(self.keys, key)]
        self.changes[price] = qty

    def drop_better_than(self, price: int) -> None:
        """Remove every level that would cross ``price`` (it becomes the best)."""
        cut = bisect_left(self.keys, price * self.sign)
        for key in self.keys[:cut]:
            del self.qty[key]
            self.changes[key * self.sign] = 0
        del self.keys[:cut]

    def next_beyond(self, price: int) -> int | None:
        """The first level price farther from the top than ``price``."""
        index = bisect_left(self.keys, price * self.sign + 1)
        return self.keys[index] * self.sign if index < len(self.keys) else None

    def levels(self, limit: int) -> list[Level]:
        return [(key * self.sign, self.qty[key]) for key in self.keys[:limit]]

    def take_changes(self) -> list[Level]:
        changes = sorted(self.changes.items(), key=lambda item: item[0] * self.sign)
        self.changes = {}
        return changes


class BookSim:
    """The order book of one symbol; :meth:`step` moves it along with the trades."""

    def __init__(
        self, spec: SymbolSpec, rng: random.Random, depth: int, first_update_id: int
    ) -> None:
        self.spec = spec
        self.update_id = first_update_id - 1
        self._rng = rng
        self._depth = depth
        self._bids = _Side(-1)
        self._asks = _Side(1)
        self._spacing = max(1, round(spec.reference_ticks * 2e-5))
        self._lots = spec.reference_lots_per_trade * 2

    def top(self) -> Top:
        """Best bid and ask; the book is never empty once it has stepped."""
        bids, asks = self._bids, self._asks
        return Top(bids.best(), bids.qty[bids.keys[0]], asks.best(), asks.qty[asks.keys[0]])

    def snapshot(self, limit: int) -> tuple[int, list[Level], list[Level]]:
        """``(lastUpdateId, bids, asks)``, best levels first, up to ``limit`` of them a side."""
        return self.update_id, self._bids.levels(limit), self._asks.levels(limit)

    def step(self, time_ms: int, last_trade: AggTrade | None) -> DepthEvent | None:
        """Follow the last trade, let orders come and go, and return the diff (None if none)."""
        budget = _MAX_ADDS if self._bids else self._depth
        if last_trade is not None:
            self._follow(last_trade)
        elif not self._bids:
            self._follow(AggTrade(0, self.spec.reference_ticks, 1, 0, 0, time_ms, False))
        self._churn()
        for side, direction in ((self._bids, -1), (self._asks, 1)):
            self._keep_depth(side, direction, budget)
        bids, asks = self._bids.take_changes(), self._asks.take_changes()
        if not bids and not asks:
            return None
        first = self.update_id + 1
        self.update_id += len(bids) + len(asks)
        return DepthEvent(first, self.update_id, time_ms, bids, asks)

    def _quantity(self) -> int:
        return max(1, round(self._lots * self._rng.lognormvariate(0.0, 1.0)))

    def _gap(self) -> int:
        return 1 + self._rng.randrange(2 * self._spacing)

    def _follow(self, trade: AggTrade) -> None:
        spread = 1 + (self._rng.random() < 0.3)
        if trade.maker:  # the taker sold into the best bid
            bid, ask = trade.price, trade.price + spread
        else:  # the taker bought from the best ask
            bid, ask = max(1, trade.price - spread), max(trade.price, spread + 1)
        for side, price, direction in ((self._bids, bid, -1), (self._asks, ask, 1)):
            side.drop_better_than(price)
            if price * side.sign not in side.qty:
                side.set(price, self._quantity())
            self._fill_below_top(side, direction)

    def _fill_below_top(self, side: _Side, direction: int) -> None:
        """Place orders between a new best price and the old levels behind it."""
        price = side.best()
        stop = side.next_beyond(price)
        for _ in range(_MAX_ADDS):
            price += direction * self._gap()
            if price < 1 or (stop is not None and (price - stop) * direction >= 0):
                break
            side.set(price, self._quantity())

    def _churn(self) -> None:
        rng = self._rng
        for _ in range(1 + rng.randrange(4)):
            side = self._bids if rng.random() < 0.5 else self._asks
            # The best levels change most often, as in a real book.
            index = 0 if rng.random() < 0.3 else rng.randrange(min(_ACTIVE_LEVELS, len(side)))
            price = side.price_at(index)
            action = rng.random()
            if action < 0.15 and index > 0:
                side.set(price, 0)
            elif action < 0.3 and index > 0:
                new_price = price + side.sign * rng.randrange(1, self._spacing + 1)
                if new_price > 0:
                    side.set(new_price, self._quantity())
            else:
                side.set(price, self._quantity())

    def _keep_depth(self, side: _Side, direction: int, budget: int) -> None:
        while len(side) > self._depth:
            side.set(side.farthest(), 0)
        for _ in range(min(budget, self._depth - len(side))):
            price = side.farthest() + direction * self._gap()
            if price < 1:
                break
            side.set(price, self._quantity())
