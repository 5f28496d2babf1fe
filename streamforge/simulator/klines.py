"""Klines as Binance selects them, each one the exact summary of its aggregate trades."""

from __future__ import annotations

from typing import NamedTuple

from streamforge.exchanges.binance.intervals import Interval
from streamforge.simulator.bars import Bar
from streamforge.simulator.history import SymbolHistory


class Kline(NamedTuple):
    """One kline; ``bar`` is None when nothing traded, and then ``previous_close`` is its OHLC."""

    open_time: int
    close_time: int
    bar: Bar | None
    previous_close: int


def select_klines(
    history: SymbolHistory,
    interval: Interval,
    *,
    start: int | None,
    end: int | None,
    limit: int | None,
    now: int,
) -> list[Kline]:
    """Klines by Binance's rules: open times within ``[start, end]`` (both optional), at most
    ``limit`` of them, the oldest ones when ``start`` is given, else the newest ones; the kline that
    is still open holds the trades up to ``now``. Klines end where the market begins (genesis).
    """
    upper = now if end is None else min(end, now)
    earliest = interval.open_time(history.genesis_ms)
    opens: list[int] = []
    if start is not None:
        moment = max(interval.open_time(start), earliest)
        if moment < start:
            moment = interval.next_open(moment)
        while moment <= upper and (limit is None or len(opens) < limit):
            opens.append(moment)
            moment = interval.next_open(moment)
    else:
        moment = interval.open_time(upper)
        while moment >= earliest and (limit is None or len(opens) < limit):
            opens.append(moment)
            moment = interval.previous_open(moment)
        opens.reverse()
    if not opens:
        return []
    before = history.last_trade_before(opens[0])
    price = before.price if before else history.spec.reference_ticks
    klines = []
    for open_time in opens:
        close_time = interval.next_open(open_time) - 1
        bar = history.bar(open_time, min(close_time, now) + 1)
        klines.append(Kline(open_time, close_time, bar, price))
        if bar is not None:
            price = bar.close
    return klines
