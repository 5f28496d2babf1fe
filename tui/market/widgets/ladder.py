"""The order book ladder: asks above, bids below, cumulative depth bars, spread and mid."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from decimal import Decimal
from itertools import accumulate

from rich.style import Style
from textual.geometry import Size
from textual.strip import Strip

from streamforge.schemas.fields import Level
from tui.market.format import align_decimals, decimals_of, format_exact, trim_zeros
from tui.market.state import SymbolState
from tui.market.widgets.lines import LinesWidget


class Ladder(LinesWidget):
    """The top ``depth`` levels a side of one symbol's book, best prices next to the middle line.

    Each row shows price, quantity and the quantity summed from the best level; a bar behind the
    row, drawn from the right, is that sum against the largest sum shown on either side.
    """

    COMPONENT_CLASSES = {
        "ladder--header",
        "ladder--bid",
        "ladder--ask",
        "ladder--bid-bar",
        "ladder--ask-bar",
        "ladder--mid",
    }

    DEFAULT_CSS = """
    Ladder > .ladder--header {
        color: $text-muted;
        text-style: bold;
    }
    Ladder > .ladder--bid {
        color: $text-success;
    }
    Ladder > .ladder--ask {
        color: $text-error;
    }
    Ladder > .ladder--bid-bar {
        background: $success 25%;
    }
    Ladder > .ladder--ask-bar {
        background: $error 25%;
    }
    Ladder > .ladder--mid {
        color: $text;
        text-style: bold;
        background: $boost;
    }
    """

    def __init__(self, depth: int = 10, *, id: str | None = None, classes: str | None = None):
        super().__init__(id=id, classes=classes)
        if depth < 1:
            raise ValueError("depth must be positive")
        self.depth = depth
        self._symbol: SymbolState | None = None

    def show(self, symbol: SymbolState | None) -> None:
        """Show ``symbol``'s book."""
        self._symbol = symbol
        self.refresh_if_changed()

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return 2 * self.depth + 2  # the header, the levels and the middle line

    def content_key(self) -> Hashable:
        symbol = self._symbol
        return None if symbol is None else (symbol, symbol.book_rev)

    def build_lines(self, width: int, height: int) -> list[Strip]:
        symbol = self._symbol
        mid_style = self.component_style("ladder--mid")
        if symbol is None or not (symbol.book.bids or symbol.book.asks):
            return [self.strip([("no book yet", mid_style)], width)]
        levels = max(min(self.depth, (height - 2) // 2), 0)
        asks = symbol.book.asks[:levels]
        bids = symbol.book.bids[:levels]
        prices = align_decimals([price for price, _ in asks + bids])
        qtys = align_decimals([qty for _, qty in asks + bids])
        places = max(map(decimals_of, qtys), default=0)
        ask_sums = list(accumulate(float(qty) for _, qty in asks))
        bid_sums = list(accumulate(float(qty) for _, qty in bids))
        largest = max(ask_sums[-1:] + bid_sums[-1:]) or 1.0
        sums = [f"{total:.{places}f}" for total in ask_sums + bid_sums]
        titles = ("price", "qty", "total")
        widths = [
            max([len(title), *map(len, cells)])
            for title, cells in zip(titles, (prices, qtys, sums), strict=True)
        ]
        header = _row(titles, widths)
        lines = [self.strip([(header, self.component_style("ladder--header"))], width)]
        side = (self.component_style("ladder--ask"), self.component_background("ladder--ask-bar"))
        for index in reversed(range(len(asks))):
            text = _row((prices[index], qtys[index], sums[index]), widths)
            lines.append(self._bar_row(text, ask_sums[index] / largest, width, *side))
        lines.append(self.strip([(_mid_line(asks, bids), mid_style)], width, mid_style))
        side = (self.component_style("ladder--bid"), self.component_background("ladder--bid-bar"))
        for index in range(len(bids)):
            at = len(asks) + index
            text = _row((prices[at], qtys[at], sums[at]), widths)
            lines.append(self._bar_row(text, bid_sums[index] / largest, width, *side))
        return lines

    def _bar_row(self, text: str, share: float, width: int, style: Style, bar: Style) -> Strip:
        text = f"{text:<{width}}"[:width]
        cut = width - round(share * width)
        return self.strip([(text[:cut], style), (text[cut:], style + bar)], width)


def _row(cells: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join(f"{cell:>{width}}" for cell, width in zip(cells, widths, strict=True))


def _mid_line(asks: Sequence[Level], bids: Sequence[Level]) -> str:
    """Spread (absolute and in basis points of the mid) and mid price, exactly."""
    if not asks or not bids:
        return "one-sided book"
    ask, bid = asks[0][0], bids[0][0]
    places = max(decimals_of(trim_zeros(ask)), decimals_of(trim_zeros(bid)))
    spread = Decimal(ask) - Decimal(bid)
    mid = (Decimal(ask) + Decimal(bid)) / 2
    bps = spread / mid * 10_000 if mid else Decimal(0)
    return f"spread {format_exact(spread, places)} ({bps:.2f} bps)  mid {format_exact(mid, places)}"
