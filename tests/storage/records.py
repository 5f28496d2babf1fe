"""Trades and candles to store in tests: defaults that pass the schema, fields overridable."""

from __future__ import annotations

from typing import Any

from streamforge.schemas import Candle, Trade

T0 = 1_700_000_000_000
MINUTE = 60_000


def trade(trade_id: int, **fields: Any) -> Trade:
    """Trade ``trade_id`` of BTCUSDT on binance, at ``T0 + trade_id`` ms unless overridden."""
    values: dict[str, Any] = {
        "exchange": "binance",
        "symbol": "BTCUSDT",
        "trade_id": trade_id,
        "price": "60000.10000000",
        "qty": "0.00000100",
        "first_trade_id": 10 * trade_id,
        "last_trade_id": 10 * trade_id + 3,
        "trade_time": T0 + trade_id,
        "buyer_is_maker": trade_id % 2 == 1,
        "event_time": T0 + trade_id + 1,
        "receive_time": T0 + trade_id + 2,
    }
    return Trade(**(values | fields))


def candle(index: int, **fields: Any) -> Candle:
    """The ``index``-th 1m candle of BTCUSDT on binance from ``T0``, unless overridden."""
    open_time = fields.pop("open_time", T0 + index * MINUTE)
    values: dict[str, Any] = {
        "exchange": "binance",
        "symbol": "BTCUSDT",
        "interval": "1m",
        "open_time": open_time,
        "close_time": open_time + MINUTE - 1,
        "open": "60000.00000000",
        "high": "60100.50000000",
        "low": "59900.25000000",
        "close": "60050.00000000",
        "volume": "12.00000100",
        "quote_volume": "720600.00000000",
        "trades": 100 + index,
        "taker_buy_volume": "6.00000000",
        "taker_buy_quote_volume": "360300.00000000",
        "closed": True,
        "event_time": open_time + MINUTE,
        "receive_time": open_time + MINUTE + 1,
    }
    return Candle(**(values | fields))
