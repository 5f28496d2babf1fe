"""The market screen without a broker: selection, the watchlist, and no work in the background."""

from __future__ import annotations

from decimal import Decimal

import pytest
from textual.screen import Screen
from textual.widgets import Static

from tests.tui.market.helpers import fixed_market, ladder_sides, quote, shown_lines
from tests.tui.market.records import T0, book, trade
from tui.market import MarketUpdated
from tui.market.widgets import CandleChart, Ladder, Watchlist
from tui.market.widgets.watchlist import FLASH_MS

SIZE = (140, 40)


class Elsewhere(Screen[None]):
    """Another screen of the console."""

    def compose(self) -> object:
        yield Static("elsewhere")


async def test_arrow_keys_and_clicks_select_the_symbol_of_ladder_tape_and_chart() -> None:
    app = fixed_market()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.market
        assert screen.selected == "BTCUSDT"
        await pilot.press("down", "down")
        assert screen.selected == "ETHUSDT"
        assert screen.query_one(Ladder).border_title == "Book ETHUSDT"
        await pilot.press("up")
        assert screen.selected == "BTCUSDT"
        await pilot.click(Watchlist, offset=(3, 3))  # border, header, first row, second row
        assert screen.selected == "ETHUSDT"
        await pilot.press("c")
        assert screen.query_one(CandleChart).border_title == "Candles ETHUSDT 5m"
        with pytest.raises(KeyError):
            screen.select_symbol("DOGEUSDT")


async def test_symbols_are_added_and_removed_and_the_selection_moves_to_a_neighbour() -> None:
    app = fixed_market()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.market
        screen.add_symbol("solusdt")
        screen.add_symbol("SOLUSDT")
        with pytest.raises(ValueError, match="not a symbol"):
            screen.add_symbol("not a symbol!")
        assert screen.symbols == ("BTCUSDT", "ETHUSDT", "SOLUSDT")
        await pilot.pause()
        assert quote(screen, "SOLUSDT") == ["-", "-", "-"]
        screen.remove_symbol("btcusdt")
        assert screen.selected == "ETHUSDT"
        screen.remove_symbol("DOGEUSDT")
        screen.remove_symbol("ETHUSDT")
        screen.remove_symbol("SOLUSDT")
        assert screen.selected is None
        assert screen.symbols == ()
        await pilot.pause()
        assert shown_lines(screen.query_one(Ladder))[0] == "no book yet"
        screen.add_symbol("ETHUSDT")
        assert screen.selected == "ETHUSDT"
        await pilot.pause()
        assert ladder_sides(screen)[0], "the newest book of a symbol watched again is shown"


async def test_a_screen_in_the_background_repaints_nothing_until_it_is_shown_again() -> None:
    app = fixed_market()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.market
        await pilot.pause()
        before = ladder_sides(screen)
        await app.push_screen(Elsewhere())
        screen.state.apply([book("BTCUSDT", 5000, 70000.0, at=T0 + 10)])
        changed = frozenset({"BTCUSDT"})
        screen.post_message(MarketUpdated(changed, screen.feed.stats, screen.feed.status))
        await pilot.pause()
        assert ladder_sides(screen) == before, "the state changed, the screen did not"
        app.pop_screen()
        await pilot.pause()
        bids, asks = ladder_sides(screen)
        assert asks[0][0] == Decimal("70000")
        assert bids[0][0] == Decimal("69999.99")


async def test_a_changed_price_is_highlighted_for_a_second_of_the_clock() -> None:
    now = [T0]
    app = fixed_market(clock=lambda: now[0])
    async with app.run_test(size=SIZE) as pilot:
        screen = app.market
        watchlist = screen.query_one(Watchlist)
        flash = watchlist.component_style("watchlist--flash-down").bgcolor

        def last_price_background() -> object:
            row = watchlist.render_line(1)  # under the header: BTCUSDT
            return next(s.style.bgcolor for s in row if s.text.strip() == "64000" and s.style)

        await pilot.pause()
        screen.state.apply([trade("BTCUSDT", 9000, 64000.0, "0.5", buy=False, at=T0 + 1)])
        changed = frozenset({"BTCUSDT"})
        screen.post_message(MarketUpdated(changed, screen.feed.stats, screen.feed.status))
        await pilot.pause()
        assert last_price_background() == flash
        now[0] += FLASH_MS - 1
        await pilot.pause(0.3)
        assert last_price_background() == flash
        now[0] += 1
        await pilot.pause(0.3)
        assert last_price_background() != flash
