"""Which decoded market records go to the store: trades and candles, optionally of some symbols."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from streamforge.schemas import AnyMarketRecord, Candle, Trade


class Kept(NamedTuple):
    """The trades and candles to store, each in the order read, and how many of the other
    records were of another kind or of a symbol not selected."""

    trades: list[Trade]
    candles: list[Candle]
    other_kind: int
    other_symbol: int


class Selection:
    """Keeps trades and candles (the kinds the store holds) of ``symbols`` (None: all)."""

    def __init__(self, symbols: Iterable[str] | None = None) -> None:
        self.symbols = frozenset(symbols) if symbols is not None else None

    def keep(self, values: Sequence[AnyMarketRecord]) -> Kept:
        """The trades and candles among ``values``, of the selected symbols."""
        trades = [v for v in values if type(v) is Trade]
        candles = [v for v in values if type(v) is Candle]
        other_kind = len(values) - len(trades) - len(candles)
        if self.symbols is None:
            return Kept(trades, candles, other_kind, 0)
        symbols = self.symbols
        selected = len(trades) + len(candles)
        trades = [t for t in trades if t.symbol in symbols]
        candles = [c for c in candles if c.symbol in symbols]
        return Kept(trades, candles, other_kind, selected - len(trades) - len(candles))
