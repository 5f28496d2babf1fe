"""Store write throughput: records upserted per second, new and re-delivered (overwrites).

Each rate is given per second of wall time and per second of this process's CPU time; on a busy
shared machine the second tells more about the store itself. Then the time of reading a tenth
of the trades back by time range, as a DataFrame and as a count.

Usage: ``python benchmarks/store.py [--trades N] [--candles N] [--batch N] [--url URL]``.
Without ``--url`` it writes a fresh SQLite file in a temporary directory; with one, records go to
that store under a symbol of their own.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from streamforge.schemas import Candle, Trade
from streamforge.storage import RecordKind, Store, open_store

MINUTE = 60_000


def make_trades(n: int, symbol: str) -> list[Trade]:
    """``n`` consecutive aggregate trades of ``symbol``, one every 10 ms."""
    return [
        Trade(
            exchange="binance",
            symbol=symbol,
            trade_id=i,
            price=f"{60_000 + i % 1_000}.{i % 100:02d}000000",
            qty=f"0.{i % 100_000:08d}",
            first_trade_id=3 * i,
            last_trade_id=3 * i + 2,
            trade_time=1_700_000_000_000 + 10 * i,
            buyer_is_maker=i % 2 == 0,
            event_time=1_700_000_000_001 + 10 * i,
            receive_time=1_700_000_000_002 + 10 * i,
        )
        for i in range(n)
    ]


def make_candles(n: int, symbol: str) -> list[Candle]:
    """``n`` consecutive closed 1m candles of ``symbol``."""
    return [
        Candle(
            exchange="binance",
            symbol=symbol,
            interval="1m",
            open_time=1_700_000_000_000 + MINUTE * i,
            close_time=1_700_000_000_000 + MINUTE * (i + 1) - 1,
            open="60000.01000000",
            high="60100.00000000",
            low="59900.00000000",
            close=f"{60_000 + i % 100}.00000000",
            volume="12.34567800",
            quote_volume="740740.68000000",
            trades=1_000 + i % 500,
            taker_buy_volume="6.00000000",
            taker_buy_quote_volume="360000.00000000",
            closed=True,
            event_time=1_700_000_000_000 + MINUTE * (i + 1),
            receive_time=1_700_000_000_001 + MINUTE * (i + 1),
        )
        for i in range(n)
    ]


def upsert_rate(store: Store, records: Sequence[Trade | Candle], batch: int) -> str:
    """Records per wall second and per CPU second of upserting ``records`` in ``batch``es."""
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(records), batch):
        store.upsert(records[i : i + batch])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return f"{len(records) / wall:>10,.0f}/s ({len(records) / cpu:>9,.0f}/cpu-s)"


def range_query(store: Store, trades: list[Trade]) -> str:
    """Best of three: milliseconds to read the middle tenth of ``trades`` by time range."""
    tenth = len(trades) // 10
    symbol = trades[0].symbol
    start, end = trades[4 * tenth].trade_time, trades[5 * tenth].trade_time
    frame = count = float("inf")
    for _ in range(3):
        wall = time.perf_counter()
        rows = len(store.trades(symbol, start=start, end=end))
        frame = min(frame, time.perf_counter() - wall)
        wall = time.perf_counter()
        store.count(RecordKind.TRADES, symbol, start=start, end=end)
        count = min(count, time.perf_counter() - wall)
    return f"{rows:,} trades by time range: {frame * 1e3:.1f} ms, counted in {count * 1e3:.2f} ms"


def run(store: Store, trades: list[Trade], candles: list[Candle], batch: int) -> None:
    print(f"{store.url}: batches of {batch:,} records")
    for name, records in (("trades", trades), ("candles", candles)):
        fresh = upsert_rate(store, records, batch)
        again = upsert_rate(store, records, batch)
        print(f"  {len(records):>9,} {name:<8} new {fresh}   overwrite {again}")
    if trades:
        print(f"  {range_query(store, trades)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trades", type=int, default=200_000)
    parser.add_argument("--candles", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=5_000, help="records per upsert call")
    parser.add_argument("--url", help="store URL (default: a fresh temporary SQLite file)")
    args = parser.parse_args()
    symbol = f"BENCH{int(time.time())}"
    trades = make_trades(args.trades, symbol)
    candles = make_candles(args.candles, symbol)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        with open_store(url) as store:
            run(store, trades, candles, args.batch)


if __name__ == "__main__":
    main()
