"""A candlestick chart in text: one column per candle, prices on the right, times below."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from datetime import UTC, datetime
from itertools import groupby

from textual.strip import Strip

from streamforge.schemas import Candle
from tui.market.format import decimals_of, trim_zeros
from tui.market.state import INTERVALS, SymbolState
from tui.market.widgets.lines import LinesWidget

#: Glyphs of a candle's body (between open and close) and of its wicks.
BODY, WICK = "┃", "│"
#: Columns per candle: the candle and a gap.
STEP = 2


class CandleChart(LinesWidget):
    """The newest candles of one symbol and :attr:`interval` that fit, scaled to the lowest low
    and highest high shown; rising candles (close at or above open) green, falling ones red.
    The body spans open to close, the wicks high to low."""

    COMPONENT_CLASSES = {"candles--up", "candles--down", "candles--axis"}

    DEFAULT_CSS = """
    CandleChart > .candles--up {
        color: $text-success;
    }
    CandleChart > .candles--down {
        color: $text-error;
    }
    CandleChart > .candles--axis {
        color: $text-muted;
    }
    """

    def __init__(
        self,
        intervals: Sequence[str] = INTERVALS,
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        if not intervals:
            raise ValueError("at least one interval is needed")
        self.intervals = tuple(intervals)
        self._interval = self.intervals[0]
        self._symbol: SymbolState | None = None

    @property
    def interval(self) -> str:
        """The candle interval shown."""
        return self._interval

    def next_interval(self) -> str:
        """Show the next of :attr:`intervals` (after the last, the first); return it."""
        index = self.intervals.index(self._interval)
        self._interval = self.intervals[(index + 1) % len(self.intervals)]
        self.refresh_if_changed()
        return self._interval

    def show(self, symbol: SymbolState | None) -> None:
        """Show ``symbol``'s candles."""
        self._symbol = symbol
        self.refresh_if_changed()

    def content_key(self) -> Hashable:
        symbol = self._symbol
        return self._interval, None if symbol is None else (symbol, symbol.candles_rev)

    def build_lines(self, width: int, height: int) -> list[Strip]:
        axis = self.component_style("candles--axis")
        series = None if self._symbol is None else self._symbol.candles.get(self._interval)
        candles = list(series or ())[-(width // STEP) :]
        rows = height - 1
        if not candles or rows < 2:
            return [self.strip([(f"no {self._interval} candles yet", axis)], width)]
        places = max(decimals_of(trim_zeros(candle.close)) for candle in candles)
        # The labels of more candles are at least as wide as those of the ones that fit.
        plot = max(width - max(map(len, _labels(_ohlc(candles), rows, places)[2].values())), 0)
        candles = candles[len(candles) - plot // STEP :]
        ohlc = _ohlc(candles)
        high, low, labels = _labels(ohlc, rows, places)
        up, down = self.component_style("candles--up"), self.component_style("candles--down")
        runs = [
            (start * STEP, end * STEP, up if rising else down)
            for start, end, rising in _runs_of_colour(ohlc)
        ]
        gap = " " * (plot - len(candles) * STEP)
        lines = []
        for row, cells in enumerate(_draw(ohlc, rows, high, low)):
            text = "".join(cells)
            parts = [(text[start:end], style) for start, end, style in runs]
            parts.append((gap + labels.get(row, ""), axis))
            lines.append(self.strip(parts, width))
        if candles:
            first, last = _minute(candles[0].open_time), _minute(candles[-1].open_time)
            span = (len(candles) - 1) * STEP + 1 - len(last)
            times = f"{first:<{span}}{last}" if span > len(first) else last
            lines.append(self.strip([(times, axis)], width))
        return lines


OHLC = tuple[float, float, float, float]


def _ohlc(candles: Sequence[Candle]) -> list[OHLC]:
    return [(float(c.open), float(c.high), float(c.low), float(c.close)) for c in candles]


def _labels(ohlc: Sequence[OHLC], rows: int, places: int) -> tuple[float, float, dict[int, str]]:
    """The highest high, the lowest low and the price labels by row (top, middle, bottom)."""
    if not ohlc:
        return 0.0, 0.0, {}
    high = max(candle[1] for candle in ohlc)
    low = min(candle[2] for candle in ohlc)
    labels = {0: high, rows // 2: (high + low) / 2, rows - 1: low}
    return high, low, {row: f" {value:.{places}f}" for row, value in labels.items()}


def _draw(ohlc: Sequence[OHLC], rows: int, high: float, low: float) -> list[list[str]]:
    """The chart's cells, :data:`STEP` columns a candle, row 0 at ``high`` and the last row at
    ``low``."""
    grid = [[" "] * (len(ohlc) * STEP) for _ in range(rows)]
    scale = (rows - 1) / (high - low) if high > low else 0.0
    for index, (opened, top, bottom, closed) in enumerate(ohlc):
        column = index * STEP
        body_top = round((high - max(opened, closed)) * scale)
        body_bottom = round((high - min(opened, closed)) * scale)
        for row in range(round((high - top) * scale), round((high - bottom) * scale) + 1):
            grid[row][column] = BODY if body_top <= row <= body_bottom else WICK
    return grid


def _runs_of_colour(ohlc: Sequence[OHLC]) -> list[tuple[int, int, bool]]:
    """Runs of neighbouring candles that rose (close at or above open) or fell:
    ``(first, end, rose)``."""
    runs = []
    start = 0
    for rising, group in groupby(closed >= opened for opened, _, _, closed in ohlc):
        end = start + len(list(group))
        runs.append((start, end, rising))
        start = end
    return runs


def _minute(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%H:%M")
