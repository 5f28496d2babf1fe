"""Deterministic market records for the market tests: a small, fixed market of two symbols."""

from __future__ import annotations

from streamforge.schemas import BBO, AnyMarketRecord, BookSnapshot, Candle, Ticker, Trade

#: 2024-05-01 12:00:00 UTC, the time of the fixed market.
T0 = 1_714_564_800_000
MINUTE = 60_000
SYMBOLS = ("BTCUSDT", "ETHUSDT")
#: Base price and tick of each symbol.
MARKETS = {"BTCUSDT": (64_000.0, 0.01), "ETHUSDT": (3_100.0, 0.01)}


def price(value: float) -> str:
    """A price as the exchange writes it (eight decimals)."""
    return f"{value:.8f}"


def trade(symbol: str, trade_id: int, value: float, qty: str, *, buy: bool, at: int) -> Trade:
    return Trade(
        exchange="binance",
        symbol=symbol,
        trade_id=trade_id,
        price=price(value),
        qty=qty,
        first_trade_id=trade_id,
        last_trade_id=trade_id,
        trade_time=at,
        buyer_is_maker=not buy,
        event_time=at,
        receive_time=at,
    )


def book(symbol: str, update_id: int, mid: float, *, depth: int = 10, at: int = T0) -> BookSnapshot:
    """A book around ``mid``: one tick of spread, quantities growing away from the top."""
    _, tick = MARKETS[symbol]
    bids = [(price(mid - tick * (i + 1)), f"{0.5 + i * 0.25:.8f}") for i in range(depth)]
    asks = [(price(mid + tick * i), f"{0.4 + i * 0.3:.8f}") for i in range(depth)]
    return BookSnapshot(
        exchange="binance",
        symbol=symbol,
        last_update_id=update_id,
        depth=depth,
        bids=bids,
        asks=asks,
        timestamp=at,
    )


def bbo(symbol: str, update_id: int, bid: float, ask: float, *, at: int = T0) -> BBO:
    return BBO(
        exchange="binance",
        symbol=symbol,
        update_id=update_id,
        bid=price(bid),
        bid_qty="1.00000000",
        ask=price(ask),
        ask_qty="2.00000000",
        event_time=at,
        receive_time=at,
    )


def candle(
    symbol: str, interval: str, open_time: int, o: float, c: float, **extra: object
) -> Candle:
    size = {"1m": MINUTE, "5m": 5 * MINUTE, "1h": 60 * MINUTE}[interval]
    high = round(max(o, c) + abs(c - o) / 2 + 1, 2)
    low = round(min(o, c) - abs(c - o) / 2 - 1, 2)
    return Candle(
        exchange="binance",
        symbol=symbol,
        interval=interval,
        open_time=open_time,
        close_time=open_time + size - 1,
        open=price(o),
        high=price(high),
        low=price(low),
        close=price(c),
        volume="12.50000000",
        quote_volume="800000.00000000",
        trades=120,
        taker_buy_volume="6.00000000",
        taker_buy_quote_volume="400000.00000000",
        closed=bool(extra.get("closed", True)),
        event_time=open_time + size - 1,
        receive_time=open_time + size - 1,
    )


def ticker(symbol: str, opened: float, last: float, volume: str, *, at: int = T0) -> Ticker:
    return Ticker(
        exchange="binance",
        symbol=symbol,
        open=price(opened),
        high=price(max(opened, last) * 1.01),
        low=price(min(opened, last) * 0.99),
        last=price(last),
        volume=volume,
        quote_volume="1000000.00000000",
        event_time=at,
        receive_time=at,
    )


def market(minutes: int = 60) -> list[AnyMarketRecord]:
    """An hour of a made-up market ending at :data:`T0`: candles of both intervals, books,
    trades and tickers, in the order they could have been read."""
    records: list[AnyMarketRecord] = []
    for symbol, (base, _) in MARKETS.items():
        scale = base / 1000
        start = T0 - minutes * MINUTE
        closes = [round(base + scale * ((i * 7) % 11 - 5 + i / 6), 2) for i in range(minutes + 1)]
        for i in range(minutes):
            records.append(candle(symbol, "1m", start + i * MINUTE, closes[i], closes[i + 1]))
        for i in range(0, minutes, 5):
            records.append(candle(symbol, "5m", start + i * MINUTE, closes[i], closes[i + 5]))
        last = closes[-1]
        records.append(book(symbol, 1000, round(last, 2)))
        for i in range(40):
            value = round(last + scale * (((i * 5) % 9) - 4) / 10, 2)
            qty = f"{0.001 * (1 + (i * 37) % 50):.8f}"
            records.append(
                trade(symbol, 5000 + i, value, qty, buy=i % 3 != 0, at=T0 - (40 - i) * 1500)
            )
        records.append(
            ticker(
                symbol, base * 0.98, last, "15234.12300000" if symbol == "BTCUSDT" else "201456.5"
            )
        )
    return records
