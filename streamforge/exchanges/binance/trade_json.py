"""Aggregate trades in the Trade contract's JSON, for the loaders' hot paths.

Building a :class:`~streamforge.schemas.Trade` runs its text checks, and on a loader's hot path
that costs more than decoding the exchange's payload. Where the texts are already checked (a
stream payload or a bulk block, checked as a whole), a loader builds an :data:`UncheckedTrade`
instead: it encodes byte for byte as the Trade would, which tests hold equal.
"""

from __future__ import annotations

import msgspec

from streamforge.schemas import Trade, encode
from streamforge.schemas.market import unchecked

#: Encodes exactly as :class:`~streamforge.schemas.Trade`; its constructor checks nothing.
UncheckedTrade = unchecked(Trade)


class EncodedTrade(msgspec.Struct, frozen=True, gc=False):
    """A trade already encoded as its contract's JSON (``value``), with what a loader routes
    and orders it by."""

    symbol: str
    trade_id: int
    event_time: int
    value: bytes

    @classmethod
    def of(cls, trade: Trade) -> EncodedTrade:
        """``trade``, encoded."""
        return cls(trade.symbol, trade.trade_id, trade.event_time, encode(trade))
