"""Order book throughput: price-level updates applied per second, and replay-file throughput.

Run as ``python benchmarks/book.py``. The synthetic feed is pre-decoded ``DepthDiff`` records for
several symbols with different tick sizes: a few hundred levels a side around a drifting mid, and
per diff a mix of quantity updates, inserts and removals close to that of the real recording
(about a third each, a few removals of unknown levels), crossed levels removed as the mid moves.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from streamforge.exchanges.binance.book_sync import BookSync
from streamforge.exchanges.binance.replay_book import replay_book
from streamforge.exchanges.orderbook import OrderBook
from streamforge.schemas import BookSnapshot, DepthDiff
from streamforge.schemas.fields import Level

RECORDING = (
    Path(__file__).resolve().parent.parent / "tests/data/binance/binance-spot-2021-08-14.jsonl"
)
ZERO = "0.00000000"
LOT = 100_000  # quantity step, in units of 1e-8
#: (symbol, tick size and starting mid, both in units of 1e-8)
MARKETS = [
    ("BTCUSDT", 1_000_000, 4_500_000_000_000),
    ("ETHBTC", 100, 7_000_000),
    ("XMRBTC", 100, 580_000),
    ("FTMUSDT", 1_000, 34_000_000),
]
DEPTH = 300  # levels a side around the mid
MEAN_DISTANCE = 20  # ticks from the mid, on average, of a changed level
# A touched live level is removed with this chance, else updated; a touched empty price is
# removed (a level the book never held) with UNKNOWN_SHARE, else filled. At equilibrium this gives
# about a third each of updates, inserts and removals, as in the recording.
REMOVE_SHARE = 0.5
UNKNOWN_SHARE = 0.1


def text(units: int) -> str:
    """Binance's 8-decimal text of a price or quantity given in units of 1e-8."""
    return f"{units // 100_000_000}.{units % 100_000_000:08d}"


@dataclass
class Market:
    """The true state of one symbol's book while generating its diffs."""

    symbol: str
    tick: int
    mid: int
    update_id: int = 1_000
    bids: set[int] = field(default_factory=set)  # prices in ticks
    asks: set[int] = field(default_factory=set)

    def snapshot(self, rng: random.Random) -> BookSnapshot:
        self.bids = {self.mid // self.tick - d for d in range(1, DEPTH + 1)}
        self.asks = {self.mid // self.tick + d for d in range(1, DEPTH + 1)}
        return BookSnapshot(
            exchange="binance",
            symbol=self.symbol,
            last_update_id=self.update_id,
            depth=DEPTH,
            bids=[self.level(p, rng) for p in sorted(self.bids, reverse=True)],
            asks=[self.level(p, rng) for p in sorted(self.asks)],
            timestamp=0,
        )

    def level(self, ticks: int, rng: random.Random, quantity: str | None = None) -> Level:
        """A level at ``ticks``; by default a quantity of 0.001 to 10000 in lots of 0.001."""
        lots = int(10 ** rng.uniform(0, 7))
        return text(ticks * self.tick), quantity or text(lots * LOT)

    def diff(self, rng: random.Random, changes: int) -> DepthDiff:
        bids: list[Level] = []
        asks: list[Level] = []
        if rng.random() < 0.3:  # the mid moves; levels it crosses are filled
            self.mid += rng.choice((-1, 1)) * self.tick
            mid = self.mid // self.tick
            for crossed in [p for p in self.bids if p >= mid]:
                self.bids.discard(crossed)
                bids.append(self.level(crossed, rng, ZERO))
            for crossed in [p for p in self.asks if p <= mid]:
                self.asks.discard(crossed)
                asks.append(self.level(crossed, rng, ZERO))
        for _ in range(changes):
            is_bid = rng.random() < 0.5
            self.change(is_bid, bids if is_bid else asks, rng)
        first = self.update_id + 1
        self.update_id += rng.randint(1, 5)
        return DepthDiff(
            exchange="binance",
            symbol=self.symbol,
            first_update_id=first,
            final_update_id=self.update_id,
            bids=bids,
            asks=asks,
            event_time=0,
            receive_time=0,
        )

    def change(self, is_bid: bool, out: list[Level], rng: random.Random) -> None:
        """Touch one price near the mid: update or remove a live level, or fill an empty one."""
        side = self.bids if is_bid else self.asks
        mid = self.mid // self.tick
        distance = 1 + int(rng.expovariate(1 / MEAN_DISTANCE))
        price = mid - distance if is_bid else mid + distance
        if price in side:
            if rng.random() < REMOVE_SHARE:
                side.discard(price)
                out.append(self.level(price, rng, ZERO))
            else:
                out.append(self.level(price, rng))
        elif rng.random() < UNKNOWN_SHARE:
            out.append(self.level(price, rng, ZERO))
        else:
            side.add(price)
            out.append(self.level(price, rng))


def synthetic_feed(diffs: int, seed: int = 7) -> tuple[list[BookSnapshot], list[DepthDiff]]:
    """Snapshots of every market, then ``diffs`` diffs across them in random order."""
    rng = random.Random(seed)
    markets = [Market(symbol, tick, mid) for symbol, tick, mid in MARKETS]
    snapshots = [market.snapshot(rng) for market in markets]
    feed = [rng.choice(markets).diff(rng, rng.randint(4, 30)) for _ in range(diffs)]
    return snapshots, feed


def best_rate(prepare: Callable[[], Callable[[], object]], work: int, repeats: int = 7) -> float:
    """Best of ``repeats`` runs in units of ``work`` per second; ``prepare`` is not timed."""
    rates = []
    for _ in range(repeats):
        run = prepare()
        start = time.perf_counter()
        run()
        rates.append(work / (time.perf_counter() - start))
    return max(rates)


def main() -> None:
    snapshots, diffs = synthetic_feed(30_000)
    levels = sum(len(d.bids) + len(d.asks) for d in diffs)

    def plain_dicts() -> Callable[[], object]:
        sides: dict[str, dict[str, str]] = {s.symbol: {} for s in snapshots}

        def run() -> None:
            for diff in diffs:
                side = sides[diff.symbol]
                for price, quantity in diff.bids:
                    side[price] = quantity
                for price, quantity in diff.asks:
                    side[price] = quantity

        return run

    def books() -> Callable[[], object]:
        by_symbol = {s.symbol: OrderBook() for s in snapshots}
        for s in snapshots:
            by_symbol[s.symbol].load(s.bids, s.asks, s.last_update_id)

        def run() -> None:
            for diff in diffs:
                by_symbol[diff.symbol].apply(diff.bids, diff.asks, diff.final_update_id)

        return run

    def syncs() -> Callable[[], object]:
        by_symbol = {s.symbol: BookSync(s.symbol) for s in snapshots}
        for s in snapshots:
            by_symbol[s.symbol].apply_snapshot(s)

        def run() -> None:
            for diff in diffs:
                by_symbol[diff.symbol].apply_diff(diff)

        return run

    print(f"synthetic feed: {len(diffs):,} diffs, {len(snapshots)} symbols, {levels:,} levels")
    print("price-level updates applied per second:")
    print(f"  plain dict stores, no order (for scale) {best_rate(plain_dicts, levels):>12,.0f}")
    print(f"  OrderBook.apply                         {best_rate(books, levels):>12,.0f}")
    print(f"  BookSync.apply_diff                     {best_rate(syncs, levels):>12,.0f}")

    with RECORDING.open("rb") as recording:
        lines = sum(1 for line in recording if line.strip())
    megabytes = RECORDING.stat().st_size / 1e6
    rate = best_rate(lambda: lambda: list(replay_book(RECORDING)), lines)
    print(f"replay_book over {RECORDING.name} ({lines:,} lines, {megabytes:.1f} MB):")
    print(f"  {rate:,.0f} lines/s, {rate * megabytes / lines:.1f} MB/s")


if __name__ == "__main__":
    main()
