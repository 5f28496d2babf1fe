"""The market screen against a real broker fed by the simulator through loader-ws."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal

import pytest
from textual.pilot import Pilot

from streamforge.bus import topics
from streamforge.config import Settings
from streamforge.schemas import BBO, BookSnapshot
from streamforge.simulator import Simulator
from tests.services.loader_ws.helpers import MARKET, SYMBOLS, loader, pointed_at, reader, running
from tests.tui.market.helpers import MarketApp, ladder_sides, quote, watchlist_row
from tests.tui.waiting import eventually
from tui.screens.market import MarketScreen

pytestmark = pytest.mark.kafka

DEPTH = 10
SIZE = (140, 45)
Until = Callable[[Callable[[], bool], str], Awaitable[None]]


def waiter(pilot: Pilot[None]) -> Until:
    async def until(condition: Callable[[], bool], what: str) -> None:
        await eventually(condition, what, pause=lambda: pilot.pause(0.05))

    return until


def top(screen: MarketScreen) -> tuple[Decimal, Decimal] | None:
    """Best bid and best ask on the ladder."""
    bids, asks = ladder_sides(screen)
    return (bids[0][0], asks[0][0]) if bids and asks else None


async def test_the_ticker_row_updates_and_the_ladder_top_follows_the_exchange(
    settings: Settings,
) -> None:
    symbol = SYMBOLS[0]
    app = MarketApp(MarketScreen(settings, SYMBOLS, depth=DEPTH))
    async with Simulator(MARKET) as sim, app.run_test(size=SIZE) as pilot:
        screen, until = app.market, waiter(pilot)
        await until(lambda: screen.feed.stats.connected, "the market feed to connect")
        service = loader(*SYMBOLS, book_depth=DEPTH, book_interval=0.2)
        async with running(service, pointed_at(settings, sim)):
            await until(lambda: len(set(quote(screen, symbol)) - {"-"}) == 3, "a full quote")
            first = watchlist_row(screen, symbol)
            await until(lambda: watchlist_row(screen, symbol) != first, "the row to update")
            await until(
                lambda: [len(side) for side in ladder_sides(screen)] == [DEPTH, DEPTH],
                "a ladder of ten levels a side",
            )
        # loader-ws has stopped and everything it published is on the broker: the ladder's top
        # ends as the exchange's top of book at the newest update id in md.bbo and md.book.
        async with reader(settings, topics.BBO, BBO) as md_bbo:
            bbos = [b for b in await md_bbo.read_all() if b.symbol == symbol]
        async with reader(settings, topics.BOOK, BookSnapshot) as md_book:
            books = [b for b in await md_book.read_all() if b.symbol == symbol]
        tops = [(b.update_id, b.bid, b.ask) for b in bbos]
        tops += [(b.last_update_id, b.bids[0][0], b.asks[0][0]) for b in books]
        _, bid, ask = max(tops)
        await until(lambda: top(screen) == (Decimal(bid), Decimal(ask)), "the exchange's top")
        assert screen.feed.stats.messages_total > 0
        assert screen.delays.frames > 0


async def test_a_console_opened_later_shows_every_symbols_latest_book_from_md_book(
    settings: Settings,
) -> None:
    async with Simulator(MARKET) as sim:
        service = loader(*SYMBOLS, book_depth=DEPTH, book_interval=0.2)
        async with (
            running(service, pointed_at(settings, sim)),
            reader(settings, topics.BOOK, BookSnapshot) as md_book,
        ):
            await md_book.read_until(lambda books: {b.symbol for b in books} == set(SYMBOLS))
        books = await md_book.read_all()
    latest = {b.symbol: b for b in books}  # the topic keeps each symbol's books in order

    app = MarketApp(MarketScreen(settings, SYMBOLS, depth=DEPTH))
    async with app.run_test(size=SIZE) as pilot:
        screen, until = app.market, waiter(pilot)
        for symbol in SYMBOLS:
            book = latest[symbol]
            expected = (
                [(Decimal(p), Decimal(q)) for p, q in book.bids[:DEPTH]],
                [(Decimal(p), Decimal(q)) for p, q in book.asks[:DEPTH]],
            )
            await until(lambda e=expected: ladder_sides(screen) == e, f"{symbol}'s latest book")
            # Live topics are read from their end: no trade or ticker from before the start.
            assert quote(screen, symbol) == ["-", "-", "-"]
            await pilot.press("down")
        assert screen.selected == SYMBOLS[-1]
