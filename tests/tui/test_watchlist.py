"""Watching symbols: ``a`` and ``x`` change the market screen's watchlist and ask loader-ws to
subscribe or unsubscribe; the status bar reports the market feed once the screen exists."""

from __future__ import annotations

from textual.widgets import Input

from streamforge.schemas import CommandName, EventName
from tests.tui.driving import jobs_of, note_of_dialog, waiter
from tests.tui.story import OFFLINE, OfflineMarketFeed, ReplayFeed, answer_with, console
from tui.app import StreamForgeApp
from tui.screens import SymbolScreen
from tui.screens.market import MarketScreen
from tui.widgets import StatusBar

SIZE = (140, 40)


def watching_console() -> tuple[StreamForgeApp, ReplayFeed]:
    """A console whose loader-ws accepts every (un)subscription."""
    answer = answer_with(EventName.ACCEPTED, "loader-ws__host-1", symbols=["BTCUSDT", "SOLUSDT"])
    return console(feed=ReplayFeed(answer=answer), market_feed=OfflineMarketFeed(OFFLINE))


def market_of(app: StreamForgeApp) -> MarketScreen:
    assert app.market is not None
    return app.market


async def test_a_watched_symbol_is_subscribed_and_shown_on_the_market_screen() -> None:
    app, feed = watching_console()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("m")
        assert isinstance(app.screen, MarketScreen)
        await pilot.press("a", *"solusdt", "enter")
        await waiter(pilot)(lambda: len(feed.sent) == 1, "the subscription")

        (subscribe,) = feed.sent
        assert (subscribe.command, subscribe.queue_id, subscribe.target) == (
            CommandName.SUBSCRIBE,
            "*",
            "loader-ws",
        )
        assert subscribe.payload == {"symbols": ["SOLUSDT"]}
        assert market_of(app).symbols == ("BTCUSDT", "ETHUSDT", "SOLUSDT")
        assert app.watchlist == ["BTCUSDT", "ETHUSDT", "SOLUSDT"]


async def test_unwatching_offers_the_selected_symbol_and_unsubscribes_it() -> None:
    app, feed = watching_console()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("m", "down", "x")
        dialog = app.screen
        assert isinstance(dialog, SymbolScreen)
        assert dialog.query_one("#symbol", Input).value == "ETHUSDT"
        await pilot.press("enter")
        await waiter(pilot)(lambda: len(feed.sent) == 1, "the unsubscription")

        (unsubscribe,) = feed.sent
        assert unsubscribe.command is CommandName.UNSUBSCRIBE
        assert unsubscribe.payload == {"symbols": ["ETHUSDT"]}
        assert market_of(app).symbols == ("BTCUSDT",)


async def test_a_symbol_watched_already_is_refused_in_the_dialog() -> None:
    app, feed = watching_console()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a", *"btcusdt", "enter")
        dialog = app.screen
        assert isinstance(dialog, SymbolScreen)
        assert note_of_dialog(dialog) == "BTCUSDT is watched already"
        await pilot.press("escape")
        assert feed.sent == []
        assert app.watchlist == ["BTCUSDT", "ETHUSDT"]


async def test_the_status_bar_adds_the_market_feed_once_the_market_screen_exists() -> None:
    app, _ = watching_console()
    async with app.run_test(size=SIZE) as pilot:
        status = jobs_of(app).query_one(StatusBar)
        assert " market " not in status.render().plain
        await pilot.press("m", "j")
        await waiter(pilot)(lambda: "market " in status.render().plain, "the market feed")
        assert "│  market 0 · 0.0/s · lag 0 · no data yet · 0 reconnects" in status.render().plain
