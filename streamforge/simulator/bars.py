"""The summary of a run of trades: what a kline row or a ticker reports."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Bar:
    """OHLC in ticks, volumes in lots, quote volumes in ticks times lots, trade ids inclusive.

    ``trades`` counts individual trades (the sum of ``l - f + 1`` over the aggregate trades).
    Inside an hour template prices and trade ids are relative; :meth:`shifted` makes them absolute.
    """

    open: int
    high: int
    low: int
    close: int
    volume: int
    quote: int
    trades: int
    taker_volume: int
    taker_quote: int
    first_trade_id: int
    last_trade_id: int

    def shifted(self, price: int, trade_id: int) -> Bar:
        """This bar with every price moved by ``price`` ticks and every trade id by ``trade_id``."""
        return Bar(
            self.open + price,
            self.high + price,
            self.low + price,
            self.close + price,
            self.volume,
            self.quote + price * self.volume,
            self.trades,
            self.taker_volume,
            self.taker_quote + price * self.taker_volume,
            self.first_trade_id + trade_id,
            self.last_trade_id + trade_id,
        )


def merge(first: Bar | None, second: Bar | None) -> Bar | None:
    """The bar of two consecutive runs of trades (either may be empty)."""
    if first is None:
        return second
    if second is None:
        return first
    return Bar(
        first.open,
        max(first.high, second.high),
        min(first.low, second.low),
        second.close,
        first.volume + second.volume,
        first.quote + second.quote,
        first.trades + second.trades,
        first.taker_volume + second.taker_volume,
        first.taker_quote + second.taker_quote,
        first.first_trade_id,
        second.last_trade_id,
    )
