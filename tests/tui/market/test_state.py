"""The market state: books patched by BBOs, bounded sparkline, tape and candles, 24h change."""

from __future__ import annotations

import pytest

from tests.tui.market.records import MINUTE, T0, bbo, book, candle, ticker, trade
from tui.market import Limits, MarketState


def levels(state: MarketState, symbol: str = "BTCUSDT") -> tuple[list[str], list[str]]:
    """Bid and ask prices of ``symbol``'s book, best first."""
    ladder = state.symbols[symbol].book
    return [price for price, _ in ladder.bids], [price for price, _ in ladder.asks]


def test_the_book_is_the_snapshot_until_a_newer_bbo_moves_its_top() -> None:
    state = MarketState(["BTCUSDT"])
    assert state.apply([book("BTCUSDT", 100, 64000.0, depth=3)]) == {"BTCUSDT"}
    assert levels(state) == (
        ["63999.99000000", "63999.98000000", "63999.97000000"],
        ["64000.00000000", "64000.01000000", "64000.02000000"],
    )
    # A better bid is inserted on top (the depth stays), an ask taken out removes its level.
    state.apply([bbo("BTCUSDT", 101, 63999.995, 64000.01)])
    bids, asks = levels(state)
    assert bids == ["63999.99500000", "63999.99000000", "63999.98000000"]
    assert asks == ["64000.01000000", "64000.02000000"]
    assert state.symbols["BTCUSDT"].book.asks[0] == ("64000.01000000", "2.00000000")
    # A lower bid removes the levels above it.
    state.apply([bbo("BTCUSDT", 102, 63999.98, 64000.01)])
    assert levels(state)[0] == ["63999.98000000"]


def test_stale_records_do_not_move_the_book_and_a_late_snapshot_keeps_the_newer_top() -> None:
    state = MarketState(["BTCUSDT"])
    state.apply([book("BTCUSDT", 100, 64000.0, depth=3, at=T0)])
    assert state.apply([bbo("BTCUSDT", 100, 1.0, 2.0)]) == set()  # not newer than the book
    state.apply([bbo("BTCUSDT", 105, 63999.995, 64000.0)])
    # A snapshot taken before that BBO arrives later: its depth counts, the BBO's top stays.
    state.apply([book("BTCUSDT", 103, 64000.0, depth=3, at=T0 + 1)])
    assert levels(state)[0] == ["63999.99500000", "63999.99000000", "63999.98000000"]
    # A snapshot older than the one applied changes nothing.
    before = state.symbols["BTCUSDT"].book_rev
    assert state.apply([book("BTCUSDT", 90, 50000.0, at=T0 - 1)]) == set()
    assert state.symbols["BTCUSDT"].book_rev == before


def test_the_sparkline_keeps_the_last_price_of_each_second_and_is_bounded() -> None:
    state = MarketState(["BTCUSDT"], Limits(spark_len=4, spark_bucket_ms=1000))
    prices = [100.0 + i for i in range(10)]
    state.apply(
        [trade("BTCUSDT", i, p, "1", buy=True, at=T0 + i * 1000) for i, p in enumerate(prices)]
    )
    # Within one second only the last price counts.
    state.apply([trade("BTCUSDT", 10, 120.0, "1", buy=True, at=T0 + 9500)])
    symbol = state.symbols["BTCUSDT"]
    assert list(symbol.prices) == [106.0, 107.0, 108.0, 120.0]
    assert (symbol.last, symbol.last_value) == ("120.00000000", 120.0)


def test_the_tape_is_a_bounded_ring_of_the_newest_trades() -> None:
    state = MarketState(["BTCUSDT"], Limits(trades_len=3))
    state.apply([trade("BTCUSDT", i, 100.0 + i, "1", buy=i % 2 == 0, at=T0 + i) for i in range(7)])
    assert [t.trade_id for t in state.symbols["BTCUSDT"].trades] == [4, 5, 6]


def test_candles_are_kept_per_interval_updated_in_place_and_bounded() -> None:
    state = MarketState(["BTCUSDT"], Limits(candles_len=3))
    state.apply([candle("BTCUSDT", "1m", T0 + i * MINUTE, 100.0, 101.0) for i in range(5)])
    state.apply([candle("BTCUSDT", "5m", T0, 100.0, 104.0)])
    changed = state.apply([candle("BTCUSDT", "1m", T0 + 4 * MINUTE, 100.0, 99.0, closed=False)])
    assert changed == {"BTCUSDT"}
    # A candle older than those held, and an interval not kept, change nothing.
    assert state.apply([candle("BTCUSDT", "1m", T0, 100.0, 102.0)]) == set()
    assert state.apply([candle("BTCUSDT", "1h", T0, 100.0, 102.0)]) == set()
    series = state.symbols["BTCUSDT"].candles
    assert set(series) == {"1m", "5m"}
    assert [c.open_time for c in series["1m"]] == [T0 + i * MINUTE for i in (2, 3, 4)]
    assert [c.close for c in series["1m"]][-1] == "99.00000000"
    assert [c.close for c in series["5m"]] == ["104.00000000"]


def test_24h_change_compares_the_last_price_with_the_tickers_open() -> None:
    state = MarketState(["BTCUSDT"])
    symbol = state.symbols["BTCUSDT"]
    assert symbol.change_pct is None
    state.apply([ticker("BTCUSDT", 100.0, 105.0, "42.5", at=T0)])
    assert symbol.change_pct == pytest.approx(5.0)
    assert symbol.last == "105.00000000"
    state.apply([trade("BTCUSDT", 1, 110.0, "1", buy=True, at=T0 + 1)])
    assert symbol.change_pct == pytest.approx(10.0)
    # An older ticker neither replaces the statistics nor the newer trade's price.
    assert state.apply([ticker("BTCUSDT", 50.0, 60.0, "1", at=T0 - 1)]) == set()
    assert symbol.ticker is not None and symbol.ticker.volume == "42.5"
    assert symbol.last == "110.00000000"


def test_only_watched_symbols_change_but_every_newest_book_is_kept_for_later() -> None:
    state = MarketState(["BTCUSDT"])
    changed = state.apply(
        [
            trade("ETHUSDT", 1, 3000.0, "1", buy=True, at=T0 + 5),
            book("ETHUSDT", 7, 3000.0, at=T0),
            book("ETHUSDT", 8, 3001.0, at=T0 + 1),
            book("ETHUSDT", 6, 2999.0, at=T0 - 1),
        ]
    )
    assert changed == set()
    assert "ETHUSDT" not in state
    assert state.last_event_ms == T0 + 5
    added = state.add("ETHUSDT")
    assert added.book.update_id == 8
    assert added.last is None
    watch_rev = state.watch_rev
    state.add("ETHUSDT")
    assert state.watch_rev == watch_rev
    state.remove("ETHUSDT")
    assert list(state.symbols) == ["BTCUSDT"]
    assert state.watch_rev == watch_rev + 1
