"""The market screen: watchlist, order book ladder, trades tape and candle chart, live from Kafka.

The screen runs a :class:`~tui.market.feed.MarketFeed` as a worker from the moment it is mounted.
The feed folds every record into the shared :class:`~tui.market.state.MarketState` and posts one
:class:`~tui.market.feed.MarketUpdated` per frame interval; on that message the screen asks the
panes whose content changed to repaint, and each pane builds its lines from the state once. While
another screen covers it the state keeps following the market but no pane is built or repainted;
the panes catch up when the screen is shown again.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header

from streamforge.config import Settings
from streamforge.orchestration.params import ParamType, parse_param
from streamforge.schemas import now_millis
from tui.clock import Clock
from tui.market import DelayLog, MarketFeed, MarketUpdated
from tui.market.widgets import CandleChart, Ladder, LinesWidget, Tape, Watchlist
from tui.market.widgets.watchlist import FLASH_MS


class MarketScreen(Screen[None]):
    """Live market data of the watched symbols; the selected one fills ladder, tape and chart.

    Args:
        settings: How to reach Kafka and which topic prefix to use.
        watchlist: The symbols to watch, in order (the first is selected).
        feed: The market feed (built from ``settings`` and ``frame_s`` when omitted); the
            watchlist is added to its state.
        depth: Order book levels a side on the ladder.
        frame_s: Least seconds between two repaints for new data (of a feed built here).
        clock: Epoch milliseconds, for how long a changed price stays highlighted.
    """

    DEFAULT_CSS = """
    MarketScreen {
        layout: vertical;
    }
    MarketScreen .market-pane {
        border: round $primary-muted;
        border-title-color: $text-primary;
        padding: 0 1;
    }
    #market-watchlist {
        max-height: 14;
    }
    #market-panes {
        height: 1fr;
    }
    #market-book {
        width: 48;
    }
    #market-ladder {
        height: auto;
        max-height: 75%;
    }
    #market-tape {
        height: 1fr;
    }
    #market-candles {
        width: 1fr;
    }
    """

    BINDINGS = [
        Binding("up", "move(-1)", "Previous", key_display="↑", tooltip="Select the symbol above"),
        Binding("down", "move(1)", "Next", key_display="↓", tooltip="Select the symbol below"),
        Binding("c", "next_interval", "Candles", tooltip="Switch the candle chart: 1m or 5m"),
    ]

    def __init__(
        self,
        settings: Settings,
        watchlist: Sequence[str],
        *,
        feed: MarketFeed | None = None,
        depth: int = 10,
        frame_s: float = 0.05,
        clock: Clock = now_millis,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.feed = feed or MarketFeed(settings, frame_s=frame_s)
        self.state = self.feed.state
        self.clock = clock
        #: Delays from Kafka to the screen of the records shown (see :class:`DelayLog`).
        self.delays = DelayLog()
        for symbol in watchlist:
            self.state.add(_canonical(symbol))
        self._selected = next(iter(self.state.symbols), None)
        self._watchlist = Watchlist(self.state, clock, id="market-watchlist", classes="market-pane")
        self._ladder = Ladder(depth, id="market-ladder", classes="market-pane")
        self._tape = Tape(id="market-tape", classes="market-pane")
        self._candles = CandleChart(id="market-candles", classes="market-pane")
        self._panes: tuple[LinesWidget, ...] = (
            self._watchlist,
            self._ladder,
            self._tape,
            self._candles,
        )

    @property
    def selected(self) -> str | None:
        """The symbol shown on ladder, tape and chart (``None`` with an empty watchlist)."""
        return self._selected

    @property
    def symbols(self) -> tuple[str, ...]:
        """The watched symbols, in order."""
        return tuple(self.state.symbols)

    def compose(self) -> ComposeResult:
        yield Header()
        yield self._watchlist
        with Horizontal(id="market-panes"):
            with Vertical(id="market-book"):
                yield self._ladder
                yield self._tape
            yield self._candles
        yield Footer()

    def on_mount(self) -> None:
        self._watchlist.border_title = "Watchlist"
        self.select_symbol(self._selected)
        self.run_worker(self.feed.run(self), name="market-feed", group="market", exclusive=True)
        self.set_interval(FLASH_MS / 4000, self._expire_flashes)

    def select_symbol(self, symbol: str | None) -> None:
        """Show ``symbol`` (a watched one, or ``None`` for none) on ladder, tape and chart."""
        if symbol is not None and symbol not in self.state:
            raise KeyError(f"{symbol} is not watched")
        self._selected = symbol
        state = None if symbol is None else self.state.symbols[symbol]
        self._watchlist.selected = symbol
        self._ladder.show(state)
        self._tape.show(state)
        self._candles.show(state)
        self._set_titles()

    def add_symbol(self, symbol: str) -> None:
        """Watch ``symbol`` (at the end of the watchlist); raises ``ValueError`` if it is not a
        symbol. Selected if nothing was."""
        symbol = _canonical(symbol)
        if symbol in self.state:
            return
        self.state.add(symbol)
        self._watchlist.refresh(layout=True)
        if self._selected is None:
            self.select_symbol(symbol)

    def remove_symbol(self, symbol: str) -> None:
        """Stop watching ``symbol`` (nothing happens if it is not watched); if it was selected,
        its neighbour is selected instead."""
        symbol = symbol.strip().upper()
        symbols = list(self.state.symbols)
        if symbol not in symbols:
            return
        index = symbols.index(symbol)
        self.state.remove(symbol)
        self._watchlist.refresh(layout=True)
        if symbol == self._selected:
            rest = list(self.state.symbols)
            self.select_symbol(rest[min(index, len(rest) - 1)] if rest else None)

    def action_move(self, step: int) -> None:
        """Select the symbol ``step`` rows below (above if negative) the selected one."""
        symbols = list(self.state.symbols)
        if not symbols:
            return
        index = symbols.index(self._selected) if self._selected in symbols else 0
        self.select_symbol(symbols[max(0, min(index + step, len(symbols) - 1))])

    def action_next_interval(self) -> None:
        """Switch the candle chart to its next interval."""
        self._candles.next_interval()
        self._set_titles()

    @on(Watchlist.Selected)
    def _clicked(self, message: Watchlist.Selected) -> None:
        self.select_symbol(message.symbol)

    def on_market_updated(self, message: MarketUpdated) -> None:
        if not message.changed or not self._seen():
            return  # a hidden screen catches up in on_screen_resume
        self._repaint()
        if message.receipts:
            self.call_after_refresh(self.delays.shown, message.receipts)

    def _expire_flashes(self) -> None:
        if self._seen():
            self._watchlist.expire_flashes()

    def _seen(self) -> bool:
        """Whether the screen can be seen: on top, or under screens that show through."""
        stack = self.app.screen_stack
        if self not in stack:
            return False
        return all(screen.styles.background.a < 1 for screen in stack[stack.index(self) + 1 :])

    def on_screen_resume(self) -> None:
        self._repaint()

    def _repaint(self) -> None:
        for pane in self._panes:
            pane.refresh_if_changed()

    def _set_titles(self) -> None:
        symbol = self._selected or "-"
        self._ladder.border_title = f"Book {symbol}"
        self._tape.border_title = f"Trades {symbol}"
        self._candles.border_title = f"Candles {symbol} {self._candles.interval}"


def _canonical(symbol: str) -> str:
    canonical: str = parse_param("symbol", ParamType.SYMBOL, symbol)
    return canonical
