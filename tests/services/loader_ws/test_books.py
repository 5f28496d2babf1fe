"""Order books: a sequence gap forces a resync after which the book is right; md.book holds
top-N snapshots at the configured rate."""

from __future__ import annotations

import itertools
import statistics
from bisect import bisect_right
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from streamforge.bus import topics
from streamforge.config import Settings
from streamforge.exchanges.binance.book_sync import BookSync, DiffResult
from streamforge.exchanges.binance.normalize import decode_frame
from streamforge.exchanges.binance.rest import BinanceRest
from streamforge.exchanges.binance.ws import BinanceStreams
from streamforge.schemas import BBO, BookSnapshot, DepthDiff, now_millis
from streamforge.simulator import Simulator
from tests.services.loader_ws.helpers import (
    SYMBOLS,
    eventually,
    loader,
    pointed_at,
    reader,
    running,
)

pytestmark = pytest.mark.kafka


@asynccontextmanager
async def book_tickers(sim: Simulator) -> AsyncIterator[dict[str, list[BBO]]]:
    """The exchange's own best bid/offer of each symbol, every change as it streams it."""
    seen: dict[str, list[BBO]] = {s: [] for s in SYMBOLS}

    def keep(frames: list[bytes], receive_ms: int) -> None:
        for frame in frames:
            bbo = decode_frame(frame, receive_ms)
            assert isinstance(bbo, BBO)
            seen[bbo.symbol].append(bbo)

    async with BinanceStreams(sim.ws_url, keep) as streams:
        await streams.add(f"{s.lower()}@bookTicker" for s in SYMBOLS)
        await eventually(lambda: all(seen.values()), what="first bookTickers")
        yield seen


def exchange_top(tickers: list[BBO], update_id: int) -> tuple[str, str, str, str]:
    """The exchange's top of book as of ``update_id``: its last bookTicker not above it."""
    index = bisect_right([t.update_id for t in tickers], update_id)
    assert index > 0, f"no bookTicker at or before {update_id}"
    t = tickers[index - 1]
    return (t.bid, t.bid_qty, t.ask, t.ask_qty)


async def test_a_skipped_update_id_resyncs_the_book_which_then_matches_the_exchange(
    settings: Settings, sim: Simulator
) -> None:
    async with book_tickers(sim) as tickers:
        service = loader(*SYMBOLS, kinds=("depth@100ms",), book_interval=0.3, book_depth=10)
        async with running(service, pointed_at(settings, sim)) as pipe:
            await eventually(lambda: all(map(pipe.books.synced, SYMBOLS)), what="books synced")
            sim.set_faults(depth_gap_next=1)
            await eventually(lambda: pipe.stats.resyncs == 1, what="the resync")
            resynced_at = now_millis()
            await eventually(lambda: all(map(pipe.books.synced, SYMBOLS)), what="books resynced")
            assert pipe.stats.snapshots >= 3
            async with BinanceRest(sim.rest_url) as rest:
                reference = {s: await rest.depth(s, limit=1000) for s in SYMBOLS}
            async with reader(settings, topics.BOOK, BookSnapshot) as md_book:
                await md_book.read_until(
                    lambda books: all(
                        any(
                            b.symbol == s and b.last_update_id > reference[s].last_update_id
                            for b in books
                        )
                        for s in SYMBOLS
                    )
                )
        async with (
            reader(settings, topics.BBO, BBO) as md_bbo,
            reader(settings, topics.DEPTH, DepthDiff) as md_depth,
        ):
            await md_bbo.read_all()
            await md_depth.read_all()
        ids = [(b.symbol, b.last_update_id) for b in md_book.values]
        ids += [(b.symbol, b.update_id) for b in md_bbo.values]
        last_id = {s: max(i for symbol, i in ids if symbol == s) for s in SYMBOLS}
        await eventually(
            lambda: all(tickers[s][-1].update_id > last_id[s] for s in SYMBOLS),
            what="the exchange's bookTickers past the last book",
        )

    # Every BBO and book the loader published, before and after the resync, shows the
    # exchange's top of book at that update id.
    assert {b.symbol for b in md_bbo.values if b.receive_time > resynced_at} == set(SYMBOLS)
    for bbo in md_bbo.values:
        top = (bbo.bid, bbo.bid_qty, bbo.ask, bbo.ask_qty)
        assert top == exchange_top(tickers[bbo.symbol], bbo.update_id)
    for book in md_book.values:
        assert (*book.bids[0], *book.asks[0]) == exchange_top(
            tickers[book.symbol], book.last_update_id
        )

    # After the resync every level of the published books equals the exchange's own snapshot
    # taken afterwards, moved forward by the published diffs.
    for symbol in SYMBOLS:
        expected = BookSync(symbol)
        expected.apply_snapshot(reference[symbol])
        books = {b.last_update_id: b for b in md_book.values if b.symbol == symbol}
        compared = 0
        for diff in (d for d in md_depth.values if d.symbol == symbol):
            if expected.apply_diff(diff) is DiffResult.APPLIED and expected.update_id in books:
                book = books[expected.update_id]
                assert book == expected.snapshot(10, book.timestamp)
                compared += 1
        assert compared > 0, symbol


async def test_md_book_holds_top_n_snapshots_at_the_configured_rate(
    settings: Settings, sim: Simulator
) -> None:
    service = loader(*SYMBOLS, kinds=("depth@100ms",), book_interval=0.5, book_depth=5)
    async with (
        running(service, pointed_at(settings, sim)),
        reader(settings, topics.BOOK, BookSnapshot) as md_book,
    ):
        await md_book.read_until(
            lambda books: all(sum(b.symbol == s for b in books) >= 8 for s in SYMBOLS)
        )

    for symbol in SYMBOLS:
        books = [b for b in md_book.values if b.symbol == symbol]
        for book in books:
            assert book.depth == 5
            assert 0 < len(book.bids) <= 5 and 0 < len(book.asks) <= 5
            bids = [float(price) for price, _ in book.bids]
            asks = [float(price) for price, _ in book.asks]
            assert bids == sorted(bids, reverse=True) and asks == sorted(asks)
            assert bids[0] < asks[0]
        ids = [b.last_update_id for b in books]
        assert ids == sorted(set(ids))
        gaps = [(b.timestamp - a.timestamp) / 1000 for a, b in itertools.pairwise(books)]
        assert min(gaps) >= 0.4
        assert statistics.median(gaps) <= 0.75
    keys = {record.key for record in md_book.records}
    assert keys == {f"binance:{s}".encode() for s in SYMBOLS}
