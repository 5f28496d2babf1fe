"""The exchange-agnostic L2 order book: ordering, removals, bounds and exactness."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamforge.exchanges.orderbook import BookSide, OrderBook
from streamforge.schemas.fields import Level


def bids(levels: list[Level], max_levels: int = 5000) -> BookSide:
    side = BookSide(best_is_highest=True, max_levels=max_levels)
    side.apply(levels)
    return side


def asks(levels: list[Level], max_levels: int = 5000) -> BookSide:
    side = BookSide(best_is_highest=False, max_levels=max_levels)
    side.apply(levels)
    return side


def test_prices_are_ordered_by_value_not_by_text() -> None:
    levels = [("9.5", "1"), ("10.25", "2"), ("100", "3"), ("0.00000001", "4")]

    assert bids(levels).top(4) == [("100", "3"), ("10.25", "2"), ("9.5", "1"), ("0.00000001", "4")]
    assert asks(levels).top(4) == [("0.00000001", "4"), ("9.5", "1"), ("10.25", "2"), ("100", "3")]


def test_best_bid_is_the_highest_and_best_ask_the_lowest() -> None:
    book = OrderBook()
    book.apply(
        bids=[("0.33989000", "1565.60000000"), ("0.33980000", "10.00000000")],
        asks=[("0.34012000", "703.00000000"), ("0.34020000", "1.00000000")],
        update_id=42,
    )

    assert book.best_bid() == ("0.33989000", "1565.60000000")
    assert book.best_ask() == ("0.34012000", "703.00000000")
    assert book.update_id == 42


def test_an_empty_side_has_no_best_level() -> None:
    book = OrderBook()

    assert book.best_bid() is None
    assert book.best_ask() is None
    assert book.bids.top(5) == []


def test_an_update_replaces_the_quantity_text_exactly() -> None:
    side = bids([("1.00000000", "2.50000000")])
    side.apply([("1.00000000", "2.50000001")])

    assert side.top(1) == [("1.00000000", "2.50000001")]
    assert len(side) == 1


@pytest.mark.parametrize("zero", ["0", "0.0", "0.00000000", "00.000"])
def test_a_zero_quantity_in_any_spelling_removes_the_level(zero: str) -> None:
    side = bids([("2.0", "1"), ("1.0", "1")])
    side.apply([("2.0", zero)])

    assert side.top(5) == [("1.0", "1")]


def test_removing_a_level_the_book_does_not_hold_changes_nothing() -> None:
    side = asks([("2.0", "1")])
    side.apply([("3.0", "0.00000000")])

    assert side.top(5) == [("2.0", "1")]


def test_two_spellings_of_one_price_are_one_level() -> None:
    side = bids([("1.5", "1")])
    side.apply([("1.50000000", "7")])
    assert side.top(5) == [("1.5", "7")]

    side.apply([("1.500", "0")])
    assert side.top(5) == []


def test_prices_finer_than_the_default_eight_decimals_stay_exact() -> None:
    side = asks([("0.00000001", "1"), ("0.0000000105", "2"), ("0.000000010", "3")])

    # 0.000000010 is another spelling of 0.00000001; 0.0000000105 is just above it.
    assert side.top(5) == [("0.00000001", "3"), ("0.0000000105", "2")]


def test_top_n_is_best_first_and_stops_at_n() -> None:
    side = bids([(f"{p}.00", "1") for p in range(1, 11)])

    assert [price for price, _ in side.top(3)] == ["10.00", "9.00", "8.00"]
    assert len(side.top(100)) == 10
    assert side.top(0) == []


def test_a_full_side_drops_the_level_farthest_from_the_top() -> None:
    side = bids([("10", "1"), ("9", "1"), ("8", "1")], max_levels=3)
    side.apply([("9.5", "1")])

    assert [price for price, _ in side.top(5)] == ["10", "9.5", "9"]

    side = asks([("10", "1"), ("11", "1"), ("12", "1")], max_levels=3)
    side.apply([("10.5", "1")])

    assert [price for price, _ in side.top(5)] == ["10", "10.5", "11"]


def test_a_full_side_ignores_a_new_level_beyond_its_farthest() -> None:
    side = bids([("10", "1"), ("9", "1")], max_levels=2)
    side.apply([("8", "1")])

    assert [price for price, _ in side.top(5)] == ["10", "9"]


def test_load_replaces_the_side_and_keeps_the_best_max_levels() -> None:
    side = asks([("50", "1")], max_levels=2)
    side.load([("12", "1"), ("10", "2"), ("11", "3"), ("9", "0.0")])

    assert side.top(5) == [("10", "2"), ("11", "3")]


def test_clear_empties_the_book_and_resets_its_update_id() -> None:
    book = OrderBook()
    book.load([("1", "1")], [("2", "1")], update_id=7)
    book.clear()

    assert (book.best_bid(), book.best_ask(), book.update_id) == (None, None, 0)


def test_max_levels_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_levels"):
        BookSide(best_is_highest=True, max_levels=0)


def test_parsed_prices_are_forgotten_once_far_more_than_the_live_levels() -> None:
    side = bids([], max_levels=10)
    for price in range(1, 1000):
        side.apply([(f"{price}.0", "1"), (f"{price}.0", "0")])

    assert len(side) == 0
    assert len(side._key_of) <= 2 * side.max_levels


# --- against a naive reference: a dict of exact values, sorted on every read ---------------


class ReferenceSide:
    """Levels by exact value (first spelling kept), sorted on demand, trimmed like BookSide."""

    def __init__(self, best_is_highest: bool, max_levels: int) -> None:
        self.best_is_highest = best_is_highest
        self.max_levels = max_levels
        self.levels: dict[Decimal, tuple[str, str]] = {}

    def apply(self, levels: list[Level]) -> None:
        for price, quantity in levels:
            value = Decimal(price)
            if Decimal(quantity) == 0:
                self.levels.pop(value, None)
                continue
            spelling = self.levels.get(value, (price, ""))[0]
            self.levels[value] = (spelling, quantity)
            if len(self.levels) > self.max_levels:
                farthest = min(self.levels) if self.best_is_highest else max(self.levels)
                del self.levels[farthest]

    def top(self, n: int) -> list[Level]:
        ordered = sorted(self.levels, reverse=self.best_is_highest)
        return [self.levels[value] for value in ordered[:n]]


# Prices on a grid of hundredths, spelled with 0 to 10 decimals (some finer than the default
# scale), so that one value often arrives under several spellings.
price_texts = st.builds(
    lambda cents, decimals: f"{Decimal(cents) / 100:.{decimals}f}",
    st.integers(min_value=1, max_value=60),
    st.integers(min_value=2, max_value=10),
) | st.integers(min_value=0, max_value=9).map(str)
nonzero_quantities = st.sampled_from(["1", "0.5", "2.00000000", "31.23100000"])
quantities = nonzero_quantities | st.sampled_from(["0", "0.00000000"])
level_lists = st.lists(st.tuples(price_texts, quantities), max_size=12)


@settings(max_examples=300, deadline=None)
@given(
    best_is_highest=st.booleans(),
    max_levels=st.integers(min_value=1, max_value=25),
    snapshot=st.lists(st.tuples(price_texts, nonzero_quantities), max_size=40),
    diffs=st.lists(level_lists, max_size=25),
    depth=st.integers(min_value=1, max_value=30),
)
def test_a_side_matches_the_reference_after_every_diff(
    best_is_highest: bool,
    max_levels: int,
    snapshot: list[Level],
    diffs: list[list[Level]],
    depth: int,
) -> None:
    side = BookSide(best_is_highest=best_is_highest, max_levels=max_levels)
    reference = ReferenceSide(best_is_highest, max_levels)
    side.load(snapshot)
    reference.apply(snapshot)
    assert side.top(depth) == reference.top(depth)

    for diff in diffs:
        side.apply(diff)
        reference.apply(diff)

        assert side.top(depth) == reference.top(depth)
        assert side.best() == (reference.top(1)[0] if reference.levels else None)
        assert len(side) == len(reference.levels)
