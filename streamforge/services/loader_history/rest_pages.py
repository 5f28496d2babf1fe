"""History from the REST API, page by page: klines by start time, trades by aggregate id.

Aggregate trades are paged by ``fromId`` (the exchange's own order), starting from the first id
of the range, found with time windows under one hour (the API's limit for a time query).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from streamforge.exchanges.binance.rest import MAX_ROWS, BinanceRest
from streamforge.schemas import Candle, Trade
from streamforge.services.loader_history.written import Mark

#: The longest window the API accepts for a time query of aggregate trades, minus a millisecond.
_WINDOW_MS = 3_600_000 - 1


async def kline_pages(
    rest: BinanceRest, symbol: str, interval: str, start: int, end: int, after: Mark | None
) -> AsyncIterator[list[Candle]]:
    """Closed klines opening in ``[start, end)`` after ``after``, oldest first, a page at a
    time; the kline still open (if the range reaches now) is left out."""
    cursor = start if after is None else max(start, after.time + 1)
    while cursor < end:
        page = await rest.klines(symbol, interval, start_time=cursor, end_time=end - 1)
        closed = [candle for candle in page if candle.closed]
        if closed:
            yield closed
        if len(page) < MAX_ROWS or len(closed) < len(page):
            return
        cursor = page[-1].open_time + 1


async def trade_pages(
    rest: BinanceRest, symbol: str, start: int, end: int, after: Mark | None
) -> AsyncIterator[list[Trade]]:
    """Aggregate trades with times in ``[start, end)`` and ids after ``after``, oldest first,
    a page at a time."""
    if after is not None and after.time >= start:
        next_id: int | None = after.position + 1
    else:
        next_id = await _first_id(rest, symbol, start, end)
    while next_id is not None:
        page = await rest.agg_trades(symbol, from_id=next_id)
        in_range = [trade for trade in page if trade.trade_time < end]
        if in_range:
            yield in_range
        if len(page) < MAX_ROWS or len(in_range) < len(page):
            return
        next_id = page[-1].trade_id + 1


async def _first_id(rest: BinanceRest, symbol: str, start: int, end: int) -> int | None:
    """The id of the first aggregate trade at or after ``start`` and before ``end``."""
    for window in range(start, end, _WINDOW_MS + 1):
        first = await rest.agg_trades(
            symbol, start_time=window, end_time=min(window + _WINDOW_MS, end - 1), limit=1
        )
        if first:
            return first[0].trade_id
    return None
