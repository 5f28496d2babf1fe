"""Binance's JSON shapes (REST rows, stream events) and bulk-file CSV rows of synthetic data."""

from __future__ import annotations

from typing import Any

from streamforge.simulator.bars import Bar
from streamforge.simulator.history import AggTrade
from streamforge.simulator.klines import Kline
from streamforge.simulator.symbols import SymbolSpec

JsonObject = dict[str, Any]


def agg_trade_row(spec: SymbolSpec, trade: AggTrade) -> JsonObject:
    """A row of ``GET /api/v3/aggTrades``."""
    return {
        "a": trade.id,
        "p": spec.price(trade.price),
        "q": spec.qty(trade.qty),
        "f": trade.first_id,
        "l": trade.last_id,
        "T": trade.time,
        "m": trade.maker,
        "M": True,
    }


def agg_trade_event(spec: SymbolSpec, trade: AggTrade, event_ms: int) -> JsonObject:
    """The ``<symbol>@aggTrade`` event."""
    return {"e": "aggTrade", "E": event_ms, "s": spec.symbol, **agg_trade_row(spec, trade)}


def trade_events(spec: SymbolSpec, trade: AggTrade, event_ms: int) -> list[JsonObject]:
    """The ``<symbol>@trade`` events of the individual trades an aggregate trade is made of.

    The aggregate quantity is split as evenly as whole lots allow, so the parts add up exactly.
    """
    fills = trade.last_id - trade.first_id + 1
    share, extra = divmod(trade.qty, fills)
    price = spec.price(trade.price)
    return [
        {
            "e": "trade",
            "E": event_ms,
            "s": spec.symbol,
            "t": trade.first_id + i,
            "p": price,
            "q": spec.qty(share + (i < extra)),
            "T": trade.time,
            "m": trade.maker,
            "M": True,
        }
        for i in range(fills)
    ]


def _ohlcv(spec: SymbolSpec, kline: Kline) -> tuple[str, str, str, str, str, str, int, str, str]:
    bar = kline.bar
    if bar is None:
        price = spec.price(kline.previous_close)
        zero = spec.qty(0)
        return price, price, price, price, zero, zero, 0, zero, zero
    return (
        spec.price(bar.open),
        spec.price(bar.high),
        spec.price(bar.low),
        spec.price(bar.close),
        spec.qty(bar.volume),
        spec.quote_amount(bar.quote),
        bar.trades,
        spec.qty(bar.taker_volume),
        spec.quote_amount(bar.taker_quote),
    )


def kline_row(spec: SymbolSpec, kline: Kline, time_scale: int = 1) -> list[Any]:
    """A row of ``GET /api/v3/klines`` (``time_scale=1000`` gives bulk files' microseconds)."""
    o, h, low, c, v, q, n, tv, tq = _ohlcv(spec, kline)
    return [
        kline.open_time * time_scale,
        o,
        h,
        low,
        c,
        v,
        (kline.close_time + 1) * time_scale - 1,
        q,
        n,
        tv,
        tq,
        "0",
    ]


def kline_event(
    spec: SymbolSpec, interval: str, kline: Kline, closed: bool, event_ms: int
) -> JsonObject:
    """The ``<symbol>@kline_<interval>`` event."""
    o, h, low, c, v, q, n, tv, tq = _ohlcv(spec, kline)
    bar = kline.bar
    return {
        "e": "kline",
        "E": event_ms,
        "s": spec.symbol,
        "k": {
            "t": kline.open_time,
            "T": kline.close_time,
            "s": spec.symbol,
            "i": interval,
            "f": bar.first_trade_id if bar else -1,
            "L": bar.last_trade_id if bar else -1,
            "o": o,
            "c": c,
            "h": h,
            "l": low,
            "v": v,
            "n": n,
            "x": closed,
            "q": q,
            "V": tv,
            "Q": tq,
            "B": "0",
        },
    }


def mini_ticker_event(spec: SymbolSpec, bar: Bar, event_ms: int) -> JsonObject:
    """The ``<symbol>@miniTicker`` event (24 hour rolling window)."""
    return {
        "e": "24hrMiniTicker",
        "E": event_ms,
        "s": spec.symbol,
        "c": spec.price(bar.close),
        "o": spec.price(bar.open),
        "h": spec.price(bar.high),
        "l": spec.price(bar.low),
        "v": spec.qty(bar.volume),
        "q": spec.quote_amount(bar.quote),
    }


def levels(spec: SymbolSpec, items: list[tuple[int, int]]) -> list[list[str]]:
    """``[[price, quantity], ...]`` of (ticks, lots) pairs."""
    return [[spec.price(price), spec.qty(qty)] for price, qty in items]


def agg_trade_csv(spec: SymbolSpec, trade: AggTrade, time_scale: int) -> str:
    """A line of a bulk aggTrades file (no header, Python-style booleans as Binance writes them)."""
    return (
        f"{trade.id},{spec.price(trade.price)},{spec.qty(trade.qty)},{trade.first_id},"
        f"{trade.last_id},{trade.time * time_scale},{trade.maker},True"
    )


def kline_csv(spec: SymbolSpec, kline: Kline, time_scale: int) -> str:
    """A line of a bulk klines file."""
    return ",".join(str(value) for value in kline_row(spec, kline, time_scale))
