"""``md.bbo``: one best-bid-and-offer stream per symbol that only moves forward.

Two sources feed it: the exchange's bookTicker stream (when subscribed) and the local order book's
top after each applied diff (so ``md.bbo`` is complete without bookTicker). Both carry the book's
update id, but frames of different streams may arrive out of order, so a BBO is published only when
its update id is above the last one seen for the symbol and its top (prices and quantities) differs
from the last published; an unchanged top still advances the id, so an older BBO arriving late can
never overwrite a newer state.
"""

from __future__ import annotations

from streamforge.schemas import BBO, encode
from streamforge.services.loader_ws.publisher import Publisher

_Top = tuple[str, str, str, str]


class BboGate:
    """Publishes a BBO to ``md.bbo`` when it is newer and the top of book changed."""

    def __init__(self, publisher: Publisher, topic: str) -> None:
        self._publisher = publisher
        self._topic = topic
        self._last: dict[str, tuple[int, _Top]] = {}

    def offer(self, bbo: BBO, key: bytes) -> None:
        """Publish ``bbo`` if it changes the symbol's top of book."""
        top = (bbo.bid, bbo.bid_qty, bbo.ask, bbo.ask_qty)
        last = self._last.get(bbo.symbol)
        if last is not None:
            last_id, last_top = last
            if bbo.update_id <= last_id:
                return
            if top == last_top:
                self._last[bbo.symbol] = (bbo.update_id, top)
                return
        if self._publisher.offer(self._topic, key, encode(bbo), bbo.event_time):
            self._last[bbo.symbol] = (bbo.update_id, top)

    def forget(self, symbol: str) -> None:
        """Drop what is known of ``symbol`` (unsubscribed)."""
        self._last.pop(symbol, None)
