"""Panes of the market screen, drawn with Textual's line API."""

from tui.market.widgets.candles import CandleChart
from tui.market.widgets.ladder import Ladder
from tui.market.widgets.lines import LinesWidget
from tui.market.widgets.tape import Tape
from tui.market.widgets.watchlist import Watchlist

__all__ = ["CandleChart", "Ladder", "LinesWidget", "Tape", "Watchlist"]
