"""The watchlist: one ticker row per symbol, the selected one marked."""

from __future__ import annotations

from collections.abc import Hashable

from textual import events
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip

from tui.clock import Clock
from tui.format import UNKNOWN
from tui.market.format import format_change, format_compact, sparkline, trim_zeros
from tui.market.state import MarketState, SymbolState
from tui.market.widgets.lines import LinesWidget

#: How long a changed last price stays highlighted, in milliseconds.
FLASH_MS = 1000
#: Cells of the columns before the sparkline: symbol, last, 24h change, volume.
WIDTHS = (10, 14, 9, 9)


class Watchlist(LinesWidget):
    """Ticker rows: symbol, last price, 24-hour change, volume and a sparkline of recent prices.

    A last price that changed is highlighted (green up, red down) for :data:`FLASH_MS` as measured
    by ``clock``, until :meth:`expire_flashes` ends it. Clicking a row posts
    :class:`Watchlist.Selected`.
    """

    COMPONENT_CLASSES = {
        "watchlist--header",
        "watchlist--cursor",
        "watchlist--up",
        "watchlist--down",
        "watchlist--flash-up",
        "watchlist--flash-down",
        "watchlist--spark",
    }

    DEFAULT_CSS = """
    Watchlist {
        height: auto;
    }
    Watchlist > .watchlist--header {
        color: $text-muted;
        text-style: bold;
    }
    Watchlist > .watchlist--cursor {
        background: $primary 35%;
    }
    Watchlist > .watchlist--up {
        color: $text-success;
    }
    Watchlist > .watchlist--down {
        color: $text-error;
    }
    Watchlist > .watchlist--flash-up {
        background: $success 60%;
        color: $text;
    }
    Watchlist > .watchlist--flash-down {
        background: $error 60%;
        color: $text;
    }
    Watchlist > .watchlist--spark {
        color: $accent;
    }
    """

    class Selected(Message):
        """A row was clicked."""

        def __init__(self, symbol: str) -> None:
            super().__init__()
            self.symbol = symbol

    def __init__(
        self,
        state: MarketState,
        clock: Clock,
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.state = state
        self.clock = clock
        self._selected: str | None = None
        self._first = 0
        self._shown: dict[str, str | None] = {}
        self._flashes: dict[str, tuple[int, bool]] = {}
        self._flash_rev = 0

    @property
    def selected(self) -> str | None:
        """The marked symbol."""
        return self._selected

    @selected.setter
    def selected(self, symbol: str | None) -> None:
        self._selected = symbol
        self.refresh_if_changed()

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return 1 + len(self.state.symbols)

    def content_key(self) -> Hashable:
        revisions = tuple(state.quote_rev for state in self.state.symbols.values())
        return (self.state.watch_rev, revisions, self._selected, self._flash_rev)

    def build_lines(self, width: int, height: int) -> list[Strip]:
        now = self.clock()
        symbols = list(self.state.symbols.values())
        self._note_changes(symbols, now)
        rows = max(height - 1, 0)
        index = next((i for i, s in enumerate(symbols) if s.symbol == self._selected), 0)
        self._first = max(0, min(index - rows + 1, len(symbols) - rows))
        styles = _Styles(self)
        header = "".join(_cells(("symbol", "last", "24h", "volume"))) + " trend"
        lines = [self.strip([(header, styles.header)], width)]
        for state in symbols[self._first : self._first + rows]:
            lines.append(self._row(state, width, styles, now))
        return lines

    def _row(self, state: SymbolState, width: int, styles: _Styles, now: int) -> Strip:
        base = styles.cursor if state.symbol == self._selected else styles.base
        change = state.change_pct
        ticker = state.ticker
        name, last, pct, volume = _cells(
            (
                state.symbol,
                UNKNOWN if state.last is None else trim_zeros(state.last),
                format_change(change),
                UNKNOWN if ticker is None else format_compact(float(ticker.volume)),
            )
        )
        last_style = base
        flash = self._flashes.get(state.symbol)
        if flash is not None and now - flash[0] < FLASH_MS:
            last_style = base + (styles.flash_up if flash[1] else styles.flash_down)
        trend = base
        if change is not None and change != 0:
            trend = base + (styles.up if change > 0 else styles.down)
        spark_width = width - sum(WIDTHS) - len(WIDTHS)
        spark = sparkline(state.prices, spark_width)
        parts = [
            (name, base),
            (last, last_style),
            (pct, trend),
            (volume, base),
            (f" {spark}", base + styles.spark),
        ]
        return self.strip(parts, width, base)

    def _note_changes(self, symbols: list[SymbolState], now: int) -> None:
        for state in symbols:
            before = self._shown.get(state.symbol)
            if before is not None and state.last is not None and state.last != before:
                up = float(state.last) > float(before)
                self._flashes[state.symbol] = (now, up)
            self._shown[state.symbol] = state.last

    def expire_flashes(self) -> None:
        """End the highlights that have lasted :data:`FLASH_MS` (call this a few times a
        highlight's duration)."""
        now = self.clock()
        expired = [s for s, (at, _) in self._flashes.items() if now - at >= FLASH_MS]
        if expired:
            for symbol in expired:
                del self._flashes[symbol]
            self._flash_rev += 1
            self.refresh_if_changed()

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        symbols = list(self.state.symbols)
        index = self._first + offset.y - 1
        if index < len(symbols):
            self.post_message(self.Selected(symbols[index]))


class _Styles:
    """The watchlist's styles, looked up once per build."""

    def __init__(self, widget: LinesWidget) -> None:
        self.base = widget.base_style
        self.header = widget.component_style("watchlist--header")
        self.cursor = widget.component_style("watchlist--cursor")
        self.up = widget.component_color("watchlist--up")
        self.down = widget.component_color("watchlist--down")
        self.flash_up = widget.component_style("watchlist--flash-up")
        self.flash_down = widget.component_style("watchlist--flash-down")
        self.spark = widget.component_color("watchlist--spark")


def _cells(values: tuple[str, str, str, str]) -> list[str]:
    """The values padded to their columns: the symbol on the left, the numbers on the right."""
    symbol, *numbers = values
    return [
        f"{symbol:<{WIDTHS[0]}}",
        *(f" {value:>{width}}" for value, width in zip(numbers, WIDTHS[1:], strict=True)),
    ]
