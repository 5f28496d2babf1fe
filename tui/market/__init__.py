"""Live market data in the console: state folded from ``md.*``, its feed and its panes."""

from tui.market.delays import DelayLog
from tui.market.feed import MarketFeed, MarketUpdated, Receipt
from tui.market.state import Limits, MarketState, SymbolState

__all__ = [
    "DelayLog",
    "Limits",
    "MarketFeed",
    "MarketState",
    "MarketUpdated",
    "Receipt",
    "SymbolState",
]
