"""What the market screen tests share: a minimal app showing the screen, and readers of what
its panes show."""

from __future__ import annotations

from decimal import Decimal

from textual.app import App

from streamforge.config import load_settings
from tests.tui.market.records import SYMBOLS, T0, market
from tui.clock import Clock
from tui.feed import MessageTarget
from tui.market import MarketFeed
from tui.market.widgets import Ladder, LinesWidget, Watchlist
from tui.screens.market import MarketScreen

#: One price level as shown: price and quantity.
Shown = tuple[Decimal, Decimal]


class MarketApp(App[None]):
    """Just the market screen (the console's own app adds its other screens)."""

    def __init__(self, market: MarketScreen) -> None:
        super().__init__()
        self.market = market

    def on_mount(self) -> None:
        self.push_screen(self.market)


class OfflineFeed(MarketFeed):
    """A feed that never connects: the test fills its state."""

    async def run(self, target: MessageTarget) -> None:
        return


def fixed_market(clock: Clock = lambda: T0) -> MarketApp:
    """The market screen over :func:`~tests.tui.market.records.market`, by default with its
    clock stopped at :data:`~tests.tui.market.records.T0`."""
    settings = load_settings(env={})
    screen = MarketScreen(settings, SYMBOLS, feed=OfflineFeed(settings), clock=clock)
    screen.state.apply(market())
    return MarketApp(screen)


def shown_lines(pane: LinesWidget) -> list[str]:
    """The text of every line of ``pane``'s content, as last painted."""
    return [pane.render_line(y).text.rstrip() for y in range(pane.size.height)]


def ladder_sides(screen: MarketScreen) -> tuple[list[Shown], list[Shown]]:
    """Bids and asks on the ladder, best first."""
    lines = shown_lines(screen.query_one(Ladder))
    middle = next((i for i, line in enumerate(lines) if line.startswith("spread")), None)
    if middle is None:
        return [], []
    asks = [_level(line) for line in reversed(lines[1:middle])]
    bids = [_level(line) for line in lines[middle + 1 :] if line]
    return bids, asks


def _level(line: str) -> Shown:
    price, qty, _ = line.split()
    return Decimal(price), Decimal(qty)


def watchlist_row(screen: MarketScreen, symbol: str) -> str:
    """``symbol``'s row on the watchlist (empty if it has none)."""
    rows = shown_lines(screen.query_one(Watchlist))
    return next((row for row in rows if row.split()[:1] == [symbol]), "")


def quote(screen: MarketScreen, symbol: str) -> list[str]:
    """Last price, 24-hour change and volume on ``symbol``'s watchlist row."""
    return watchlist_row(screen, symbol).split()[1:4]
