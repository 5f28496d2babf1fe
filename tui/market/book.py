"""The order book behind the ladder: the latest ``md.book`` snapshot with its top kept current by
``md.bbo``.

``md.book`` brings the top N levels a side about once a second; ``md.bbo`` brings every change of
the best bid and ask in between. A BBO newer than the book makes its prices the best levels: levels
at or beyond them on their side are gone, a new price is inserted on top. Deeper levels are the
snapshot's until the next one arrives. Records of the two topics may be read out of order, so a
BBO only applies when its update id is above the book's, and a snapshot re-applies the newest BBO
when that is newer than itself.
"""

from __future__ import annotations

from streamforge.schemas import BBO, BookSnapshot
from streamforge.schemas.fields import Level


class LadderBook:
    """Top-of-book levels of one symbol, best first, as the exchange's exact texts."""

    __slots__ = ("_bbo", "_snapshot_key", "asks", "bids", "update_id")

    def __init__(self) -> None:
        self.bids: list[Level] = []
        self.asks: list[Level] = []
        #: Update id of the newest snapshot or BBO applied (-1 before any).
        self.update_id = -1
        self._snapshot_key = (-1, -1)
        self._bbo: BBO | None = None

    def apply_snapshot(self, book: BookSnapshot) -> bool:
        """Take ``book``'s levels unless a newer snapshot was applied; return whether it was."""
        # Timestamp first: an exchange or simulator that restarts counts its update ids anew.
        key = (book.timestamp, book.last_update_id)
        if key <= self._snapshot_key:
            return False
        self._snapshot_key = key
        self.bids = list(book.bids)
        self.asks = list(book.asks)
        self.update_id = book.last_update_id
        bbo = self._bbo
        if bbo is not None and bbo.update_id > book.last_update_id:
            self._patch(bbo)
        return True

    def apply_bbo(self, bbo: BBO) -> bool:
        """Make ``bbo``'s prices the best levels if it is newer than the book; return whether."""
        if bbo.update_id <= self.update_id:
            return False
        self._bbo = bbo
        self._patch(bbo)
        return True

    def _patch(self, bbo: BBO) -> None:
        self.update_id = bbo.update_id
        _set_best(self.bids, bbo.bid, bbo.bid_qty, bids=True)
        _set_best(self.asks, bbo.ask, bbo.ask_qty, bids=False)


def _set_best(levels: list[Level], price: str, qty: str, *, bids: bool) -> None:
    """Put ``(price, qty)`` on top of ``levels`` in place, dropping levels at or better than it
    and keeping the number of levels when one is inserted."""
    best = float(price)
    depth = len(levels)
    gone = 0
    if bids:
        while gone < depth and float(levels[gone][0]) >= best:
            gone += 1
    else:
        while gone < depth and float(levels[gone][0]) <= best:
            gone += 1
    levels[:gone] = [(price, qty)]
    if gone == 0 and depth:
        levels.pop()
