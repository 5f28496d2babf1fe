"""Snapshots of the market screen on a fixed market and a fixed clock (no broker involved).

Update them after a deliberate change of the screen with ``pytest --snapshot-update``.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot

from tests.tui.market.helpers import fixed_market
from tests.tui.market.records import T0, trade
from tui.market import MarketUpdated

SIZE = (140, 40)
Snap = Callable[..., bool]


def test_the_market_screen_shows_the_watchlist_and_the_first_symbols_book_trades_and_1m_candles(
    snap_compare: Snap,
) -> None:
    assert snap_compare(fixed_market(), terminal_size=SIZE)


def test_c_switches_the_candle_chart_to_5m_candles(snap_compare: Snap) -> None:
    assert snap_compare(fixed_market(), press=["c"], terminal_size=SIZE)


def test_down_selects_the_next_symbol_for_the_ladder_the_tape_and_the_chart(
    snap_compare: Snap,
) -> None:
    assert snap_compare(fixed_market(), press=["down"], terminal_size=SIZE)


def test_a_last_price_that_went_up_is_highlighted_in_green(snap_compare: Snap) -> None:
    app = fixed_market()

    async def trade_higher(pilot: Pilot[None]) -> None:
        await pilot.pause()
        screen = app.market
        screen.state.apply([trade("BTCUSDT", 9000, 64500.0, "0.5", buy=True, at=T0 + 1)])
        changed = frozenset({"BTCUSDT"})
        screen.post_message(MarketUpdated(changed, screen.feed.stats, screen.feed.status))

    assert snap_compare(app, run_before=trade_higher, terminal_size=SIZE)
