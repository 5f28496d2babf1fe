"""An exchange-agnostic L2 order book: price levels as the exchange's exact text, kept in order.

Each side keeps ``price text -> quantity text`` in a dict, so updating an existing level is one
dict store, and the live prices as exact scaled integers in a list sorted so that the best price
is the *last* element: best bid/ask is O(1), the top N is a slice, and inserting or removing a
level near the top (where almost all activity is) shifts only the few slots above it. A price
text is parsed to its integer once and the result cached; no float ever touches a price.

Memory is bounded: a side holds at most ``max_levels`` levels. A new level beyond that drops the
level farthest from the top (possibly the new one itself), as a snapshot capped at that depth
would; a dropped level stays unknown until the exchange sends it again. The parse cache remembers
at most ``max_levels`` prices beyond the live ones.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable

from streamforge.schemas.fields import Level

#: Binance quotes at most 8 decimals; a price with more grows a side's scale on the fly.
DEFAULT_PRICE_DECIMALS = 8
#: Binance's deepest REST snapshot (limit 5000).
DEFAULT_MAX_LEVELS = 5000


class BookSide:
    """One side of a book: levels by exact price text, ordered best first.

    Prices must be decimal text, as the wire contracts guarantee (digits, optional fraction).
    Two spellings of one price (``1.5`` and ``1.50``) are the same level, reported under the
    first spelling seen.
    """

    __slots__ = (
        "_factors",
        "_key_of",
        "_keys",
        "_price_of",
        "_qty",
        "_sign",
        "max_levels",
    )

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
        # Asks are negated so that on both sides the best price has the largest key.
        self._sign = 1 if best_is_highest else -1
        self._qty: dict[str, str] = {}  # live levels: price -> quantity
        self._price_of: dict[int, str] = {}  # live levels: key -> price
        self._keys: list[int] = []  # live keys, ascending: best last
        self._key_of: dict[str, int] = {}  # parse cache: price -> key, live or not
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
        """The best ``n`` levels (all of them when fewer), best first."""
        if n <= 0:
            return []
        qty = self._qty
        return [
            (price, qty[price])
            for price in map(self._price_of.__getitem__, self._keys[: -n - 1 : -1])
        ]

    def clear(self) -> None:
        """Remove every level."""
        self._qty.clear()
        self._price_of.clear()
        self._keys.clear()
        self._key_of.clear()

    def load(self, levels: Iterable[Level]) -> None:
        """Replace the side with ``levels`` (a snapshot), sorting once rather than per level."""
        self.clear()
        qty, key_of, price_of = self._qty, self._key_of, self._price_of
        for price, quantity in levels:
            if quantity.lstrip("0."):  # a quantity is zero when only 0s and a dot remain
                key_of[price] = key = self._parse(price)
                qty[price_of.setdefault(key, price)] = quantity
        keys = self._keys
        keys.extend(sorted(price_of))
        excess = len(keys) - self.max_levels
        if excess > 0:
            for key in keys[:excess]:
                del qty[price_of.pop(key)]
            del keys[:excess]

    def apply(self, levels: Iterable[Level]) -> None:
        """Set each ``(price, quantity)`` level in order; a zero quantity removes the level.

        The hot path of every book, hence inlined: updating a level costs two dict operations,
        inserting or removing one near the top a few more and a short bisect.
        """
        qty, key_of, price_of, keys = self._qty, self._key_of, self._price_of, self._keys
        max_levels = self.max_levels
        for price, quantity in levels:
            if quantity.lstrip("0."):  # non-zero
                if price in qty:
                    qty[price] = quantity
                    continue
                key = key_of.get(price)
                if key is None:
                    key = self._cache_key(price)
                known = price_of.get(key)
                if known is not None:  # another spelling of a live price
                    qty[known] = quantity
                    continue
                qty[price] = quantity
                price_of[key] = price
                insort(keys, key)
                if len(keys) > max_levels:
                    del qty[price_of.pop(keys[0])]
                    del keys[0]
            elif price in qty:
                key = key_of[price]
                del qty[price]
                del price_of[key]
                del keys[bisect_left(keys, key)]
            else:
                self._remove_spelling(price)

    def _remove_spelling(self, price: str) -> None:
        """Remove the level of ``price`` if it is live under another spelling (``1.50``)."""
        key = self._key_of.get(price)
        known = self._price_of.get(self._cache_key(price) if key is None else key)
        if known is not None:
            self.apply(((known, "0"),))

    def _cache_key(self, price: str) -> int:
        """Parse ``price`` and remember its key, first forgetting dead prices if there are many.

        Pruning frees at least ``max_levels`` entries, so it costs O(1) amortised per parse.
        """
        key_of = self._key_of
        if len(key_of) >= len(self._qty) + self.max_levels:
            live = {live_price: key_of[live_price] for live_price in self._qty}
            key_of.clear()
            key_of.update(live)
        key_of[price] = key = self._parse(price)
        return key

    def _parse(self, price: str) -> int:
        """The exact key of ``price``: its value in units of 10**-scale, negated for asks."""
        dot = price.find(".")
        decimals = len(price) - dot - 1 if dot >= 0 else 0
        if decimals >= len(self._factors):
            self._rescale(decimals)
        return int(price.replace(".", "", 1)) * self._factors[decimals]

    def _rescale(self, decimals: int) -> None:
        """Grow the scale to ``decimals`` (a finer-ticked price arrived) and re-key every level.

        Containers are updated in place: ``apply`` holds references to them.
        """
        growth = 10 ** (decimals + 1 - len(self._factors))
        self._factors = self._factors_for(decimals)
        for price, key in self._key_of.items():
            self._key_of[price] = key * growth
        rekeyed = {key * growth: price for key, price in self._price_of.items()}
        self._price_of.clear()
        self._price_of.update(rekeyed)
        self._keys[:] = [key * growth for key in self._keys]

    def _factors_for(self, scale: int) -> list[int]:
        """Multipliers from a price's digits to its key, indexed by the price's decimals."""
        return [self._sign * 10 ** (scale - d) for d in range(scale + 1)]


class OrderBook:
    """A two-sided L2 book and the update id of the last change applied to it."""

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
