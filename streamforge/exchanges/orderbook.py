"""An exchange-agnostic L2 order book: price levels as the exchange's exact text, kept in order.

Each side keeps ``price text -> quantity text`` in a dict (an update of an existing level is one
dict store) and a list of the live prices as exact scaled integers, sorted so that the best price
is the *last* element. Best bid/ask is then O(1), the top N is a slice, and inserting or removing
a level near the top (where almost all activity is) shifts only the few list slots above it.
A price is parsed only when its level is created; no float ever touches a price.

Memory is bounded: a side holds at most ``max_levels`` levels. A new level beyond that drops the
level farthest from the top (possibly the new one), as a full-depth snapshot capped at that depth
would. Dropped levels are unknown until the exchange updates them again.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable

from streamforge.schemas.fields import Level

#: Binance quotes at most 8 decimals; a price with more grows the side's scale on the fly.
DEFAULT_PRICE_DECIMALS = 8
#: Binance's deepest REST snapshot (limit 5000).
DEFAULT_MAX_LEVELS = 5000


def is_zero(quantity: str) -> bool:
    """Whether a decimal quantity text is zero in any spelling (``0``, ``0.00000000``)."""
    return not quantity.strip("0.")


class BookSide:
    """One side of a book: levels by exact price text, ordered best first.

    Prices must be decimal text as the wire contracts guarantee (digits with an optional
    fraction). Two spellings of one price (``1.5`` and ``1.50``) are the same level; the first
    spelling seen is the one reported.
    """

    __slots__ = ("_factors", "_key_of", "_keys", "_price_of", "_qty", "_sign", "max_levels")

    def __init__(
        self,
        *,
        best_is_highest: bool,
        max_levels: int = DEFAULT_MAX_LEVELS,
        price_decimals: int = DEFAULT_PRICE_DECIMALS,
    ) -> None:
        if max_levels < 1:
            raise ValueError(f"max_levels must be positive, got {max_levels}")
        self.max_levels = max_levels
        # Asks sort by negated price so that on both sides the best key is the largest.
        self._sign = 1 if best_is_highest else -1
        self._qty: dict[str, str] = {}
        self._key_of: dict[str, int] = {}
        self._price_of: dict[int, str] = {}
        self._keys: list[int] = []
        self._factors = self._factors_for(price_decimals)

    def __len__(self) -> int:
        return len(self._keys)

    def best(self) -> Level | None:
        """The best level, or None when the side is empty. O(1)."""
        if not self._keys:
            return None
        price = self._price_of[self._keys[-1]]
        return price, self._qty[price]

    def top(self, n: int) -> list[Level]:
        """The best ``n`` levels, best first."""
        if n <= 0:
            return []
        price_of, qty = self._price_of, self._qty
        return [(price_of[k], qty[price_of[k]]) for k in self._keys[: -n - 1 : -1]]

    def clear(self) -> None:
        """Remove every level."""
        self._qty.clear()
        self._key_of.clear()
        self._price_of.clear()
        self._keys.clear()

    def load(self, levels: Iterable[Level]) -> None:
        """Replace the side with ``levels`` (a snapshot), sorting once rather than per level."""
        self.clear()
        qty, key_of, price_of = self._qty, self._key_of, self._price_of
        for price, quantity in levels:
            if is_zero(quantity):
                continue
            key = self._key(price)
            known = price_of.get(key)
            if known is None:
                qty[price] = quantity
                key_of[price] = key
                price_of[key] = price
            else:
                qty[known] = quantity
        self._keys[:] = sorted(price_of)
        if len(self._keys) > self.max_levels:
            for key in self._keys[: len(self._keys) - self.max_levels]:
                self._forget(price_of[key])
            del self._keys[: len(self._keys) - self.max_levels]

    def apply(self, levels: Iterable[Level]) -> None:
        """Set each ``(price, quantity)`` level; a zero quantity removes the level.

        This is the hot path: an update of an existing level costs two dict operations.
        """
        qty = self._qty
        for price, quantity in levels:
            if price in qty:
                if quantity.strip("0."):
                    qty[price] = quantity
                else:
                    self._remove(price)
            elif quantity.strip("0."):
                self._insert(price, quantity)
            else:
                self._remove_spelling(price)

    def _insert(self, price: str, quantity: str) -> None:
        key = self._key(price)
        known = self._price_of.get(key)
        if known is not None:
            self._qty[known] = quantity
            return
        self._qty[price] = quantity
        self._key_of[price] = key
        self._price_of[key] = price
        keys = self._keys
        insort(keys, key)
        if len(keys) > self.max_levels:
            self._forget(self._price_of[keys[0]])
            del keys[0]

    def _remove(self, price: str) -> None:
        key = self._forget(price)
        keys = self._keys
        del keys[bisect_left(keys, key)]

    def _remove_spelling(self, price: str) -> None:
        """Remove the level of ``price`` if it is known under another spelling (``1.50``)."""
        known = self._price_of.get(self._key(price))
        if known is not None:
            self._remove(known)

    def _forget(self, price: str) -> int:
        """Drop ``price`` from the dicts (not from the sorted keys) and return its key."""
        del self._qty[price]
        key = self._key_of.pop(price)
        del self._price_of[key]
        return key

    def _key(self, price: str) -> int:
        """The exact sort key of ``price``: its value in units of 10**-scale, negated for asks."""
        dot = price.find(".")
        decimals = len(price) - dot - 1 if dot >= 0 else 0
        if decimals >= len(self._factors):
            self._rescale(decimals)
        return int(price.replace(".", "", 1)) * self._factors[decimals]

    def _rescale(self, decimals: int) -> None:
        """Grow the scale to ``decimals`` (a rare, finer-ticked price) and re-key every level."""
        growth = 10 ** (decimals + 1 - len(self._factors))
        self._factors = self._factors_for(decimals)
        # In place: callers may hold references to these containers.
        for price, key in self._key_of.items():
            self._key_of[price] = key * growth
        self._price_of.clear()
        self._price_of.update((key, price) for price, key in self._key_of.items())
        self._keys[:] = [key * growth for key in self._keys]

    def _factors_for(self, scale: int) -> list[int]:
        """Multipliers that turn a price with ``d`` decimals (digits only) into its key."""
        return [self._sign * 10 ** (scale - d) for d in range(scale + 1)]


class OrderBook:
    """A two-sided L2 book with the update id of the last change applied to it."""

    __slots__ = ("asks", "bids", "update_id")

    def __init__(
        self,
        *,
        max_levels: int = DEFAULT_MAX_LEVELS,
        price_decimals: int = DEFAULT_PRICE_DECIMALS,
    ) -> None:
        self.bids = BookSide(
            best_is_highest=True, max_levels=max_levels, price_decimals=price_decimals
        )
        self.asks = BookSide(
            best_is_highest=False, max_levels=max_levels, price_decimals=price_decimals
        )
        #: The exchange's id of the last update applied (0 for an empty book).
        self.update_id = 0

    def load(self, bids: Iterable[Level], asks: Iterable[Level], update_id: int) -> None:
        """Replace the whole book with a snapshot as of ``update_id``."""
        self.bids.load(bids)
        self.asks.load(asks)
        self.update_id = update_id

    def apply(self, bids: Iterable[Level], asks: Iterable[Level], update_id: int) -> None:
        """Apply one diff's level changes and record ``update_id`` as the book's id."""
        self.bids.apply(bids)
        self.asks.apply(asks)
        self.update_id = update_id

    def clear(self) -> None:
        """Empty both sides and reset the update id."""
        self.bids.clear()
        self.asks.clear()
        self.update_id = 0

    def best_bid(self) -> Level | None:
        """The highest bid ``(price, quantity)``, or None. O(1)."""
        return self.bids.best()

    def best_ask(self) -> Level | None:
        """The lowest ask ``(price, quantity)``, or None. O(1)."""
        return self.asks.best()
