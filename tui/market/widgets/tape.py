"""The trades tape: the newest trades first, coloured by the taker's side."""

from __future__ import annotations

from collections.abc import Hashable
from itertools import islice

from textual.strip import Strip

from tui.format import format_clock
from tui.market.format import align_decimals
from tui.market.state import SymbolState
from tui.market.widgets.lines import LinesWidget

#: Formatted trade times remembered (more than a tape's height, far less than a day's trades).
TIMES_KEPT = 4096


class Tape(LinesWidget):
    """Time, price and quantity of one symbol's newest trades: green with an up arrow when the
    taker bought (the buyer was not the maker), red with a down arrow when the taker sold."""

    COMPONENT_CLASSES = {"tape--header", "tape--buy", "tape--sell"}

    DEFAULT_CSS = """
    Tape > .tape--header {
        color: $text-muted;
        text-style: bold;
    }
    Tape > .tape--buy {
        color: $text-success;
    }
    Tape > .tape--sell {
        color: $text-error;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._symbol: SymbolState | None = None
        self._times: dict[int, str] = {}

    def show(self, symbol: SymbolState | None) -> None:
        """Show ``symbol``'s trades."""
        self._symbol = symbol
        self.refresh_if_changed()

    def content_key(self) -> Hashable:
        symbol = self._symbol
        return None if symbol is None else (symbol, symbol.trades_rev)

    def build_lines(self, width: int, height: int) -> list[Strip]:
        symbol = self._symbol
        trades = [] if symbol is None else list(islice(reversed(symbol.trades), max(height - 1, 0)))
        prices = align_decimals([trade.price for trade in trades])
        qtys = align_decimals([trade.qty for trade in trades])
        price_width = max(map(len, prices), default=0)
        qty_width = max(map(len, qtys), default=0)
        header = f"{'time (UTC)':<12}  {'price':>{price_width}}  {'qty':>{qty_width}}"
        lines = [self.strip([(header, self.component_style("tape--header"))], width)]
        buy, sell = self.component_style("tape--buy"), self.component_style("tape--sell")
        for trade, price, qty in zip(trades, prices, qtys, strict=True):
            taker_buys = not trade.buyer_is_maker
            text = (
                f"{self._time_of(trade.trade_time)}  {price:>{price_width}}  "
                f"{qty:>{qty_width}} {'▲' if taker_buys else '▼'}"
            )
            lines.append(self.strip([(text, buy if taker_buys else sell)], width))
        return lines

    def _time_of(self, epoch_ms: int) -> str:
        """The trade time as shown; remembered, as a trade stays on the tape for many frames."""
        text = self._times.get(epoch_ms)
        if text is None:
            if len(self._times) >= TIMES_KEPT:
                self._times.clear()
            text = self._times[epoch_ms] = format_clock(epoch_ms)
        return text
