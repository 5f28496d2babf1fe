"""Binance's local order book procedure: buffering, snapshots, continuity and resyncs."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamforge.exchanges.binance.book_sync import BookSync, DiffResult, SnapshotResult
from streamforge.schemas import BBO, BookSnapshot, DepthDiff
from streamforge.schemas.fields import Level

APPLIED, BUFFERED, STALE, RESYNC = (
    DiffResult.APPLIED,
    DiffResult.BUFFERED,
    DiffResult.STALE,
    DiffResult.RESYNC,
)


def diff(
    first: int, final: int, bids: list[Level] | None = None, asks: list[Level] | None = None
) -> DepthDiff:
    return DepthDiff(
        exchange="binance",
        symbol="BTCUSDT",
        first_update_id=first,
        final_update_id=final,
        bids=bids or [],
        asks=asks or [],
        event_time=1,
        receive_time=2,
    )


def snapshot(
    last_update_id: int, bids: list[Level] | None = None, asks: list[Level] | None = None
) -> BookSnapshot:
    bids = [("100.0", "1")] if bids is None else bids
    asks = [("101.0", "1")] if asks is None else asks
    return BookSnapshot(
        exchange="binance",
        symbol="BTCUSDT",
        last_update_id=last_update_id,
        depth=max(len(bids), len(asks)),
        bids=bids,
        asks=asks,
        timestamp=3,
    )


def synced_at(update_id: int) -> BookSync:
    sync = BookSync("BTCUSDT")
    assert sync.apply_snapshot(snapshot(update_id)) is SnapshotResult.SYNCED
    return sync


def test_diffs_are_buffered_until_a_snapshot_arrives() -> None:
    sync = BookSync("BTCUSDT")

    assert sync.apply_diff(diff(11, 12)) is BUFFERED
    assert sync.apply_diff(diff(13, 15)) is BUFFERED
    assert (sync.synced, sync.buffered, sync.best_bid()) == (False, 2, None)


def test_a_snapshot_drops_the_diffs_it_covers_and_replays_the_rest() -> None:
    sync = BookSync("BTCUSDT")
    sync.apply_diff(diff(11, 12, bids=[("99.0", "5")]))  # covered by the snapshot
    sync.apply_diff(diff(13, 15, bids=[("100.5", "2")]))  # straddles 14
    sync.apply_diff(diff(16, 16, asks=[("101.0", "0")]))

    assert sync.apply_snapshot(snapshot(13, asks=[("101.0", "1"), ("102.0", "4")])) is (
        SnapshotResult.SYNCED
    )
    assert (sync.update_id, sync.buffered) == (16, 0)
    assert sync.best_bid() == ("100.5", "2")
    assert sync.best_ask() == ("102.0", "4")
    assert sync.snapshot(depth=5, timestamp=9) == BookSnapshot(
        exchange="binance",
        symbol="BTCUSDT",
        last_update_id=16,
        depth=5,
        bids=[("100.5", "2"), ("100.0", "1")],
        asks=[("102.0", "4")],
        timestamp=9,
    )


def test_a_snapshot_older_than_the_buffered_diffs_asks_for_a_newer_one() -> None:
    sync = BookSync("BTCUSDT")
    sync.apply_diff(diff(11, 12))

    assert sync.apply_snapshot(snapshot(9)) is SnapshotResult.NEED_NEWER
    assert (sync.synced, sync.buffered) == (False, 1)
    assert sync.apply_snapshot(snapshot(11)) is SnapshotResult.SYNCED
    assert sync.update_id == 12


def test_a_snapshot_just_before_the_first_buffered_diff_is_continuous() -> None:
    sync = BookSync("BTCUSDT")
    sync.apply_diff(diff(11, 12))

    assert sync.apply_snapshot(snapshot(10)) is SnapshotResult.SYNCED
    assert sync.update_id == 12


def test_diffs_continue_the_book_one_after_another() -> None:
    sync = synced_at(10)

    assert sync.apply_diff(diff(11, 13, bids=[("100.0", "7")])) is APPLIED
    assert sync.apply_diff(diff(14, 14, asks=[("100.5", "1")])) is APPLIED
    assert (sync.update_id, sync.best_bid(), sync.best_ask()) == (
        14,
        ("100.0", "7"),
        ("100.5", "1"),
    )


def test_the_first_diff_after_a_snapshot_may_straddle_it() -> None:
    sync = synced_at(10)

    assert sync.apply_diff(diff(8, 12)) is APPLIED
    assert sync.update_id == 12


def test_a_diff_the_book_already_covers_is_stale_and_changes_nothing() -> None:
    sync = synced_at(10)
    sync.apply_diff(diff(11, 12, bids=[("100.0", "2")]))

    assert sync.apply_diff(diff(9, 10, bids=[("100.0", "9")])) is STALE
    assert sync.apply_diff(diff(11, 12, bids=[("100.0", "2")])) is STALE  # a duplicate
    assert (sync.update_id, sync.best_bid()) == (12, ("100.0", "2"))


def test_a_gap_voids_the_book_and_starts_buffering_with_the_diff_after_it() -> None:
    sync = synced_at(10)

    assert sync.apply_diff(diff(12, 13)) is RESYNC
    assert (sync.synced, sync.update_id, sync.best_bid(), sync.buffered) == (False, None, None, 1)
    assert sync.bbo(1, 2) is None
    assert sync.snapshot(depth=5, timestamp=1) is None


def test_diffs_arriving_while_a_resync_snapshot_is_fetched_are_not_lost() -> None:
    sync = synced_at(10)
    sync.apply_diff(diff(12, 13, bids=[("100.2", "1")]))  # gap: resync
    sync.apply_diff(diff(14, 15, bids=[("100.4", "1")]))
    sync.apply_diff(diff(16, 16, bids=[("100.6", "1")]))

    assert sync.apply_snapshot(snapshot(14)) is SnapshotResult.SYNCED
    assert sync.update_id == 16
    view = sync.snapshot(depth=5, timestamp=0)
    assert view is not None
    assert [price for price, _ in view.bids] == ["100.6", "100.4", "100.0"]


def test_a_diff_older_than_the_buffered_ones_is_stale() -> None:
    sync = BookSync("BTCUSDT")
    sync.apply_diff(diff(13, 14, bids=[("100.0", "2")]))

    assert sync.apply_diff(diff(11, 12, bids=[("100.0", "9")])) is STALE
    assert sync.apply_diff(diff(13, 14, bids=[("100.0", "2")])) is STALE
    assert sync.buffered == 1
    assert sync.apply_snapshot(snapshot(12)) is SnapshotResult.SYNCED
    assert sync.best_bid() == ("100.0", "2")


def test_a_gap_between_buffered_diffs_voids_the_ones_before_it() -> None:
    sync = BookSync("BTCUSDT")
    sync.apply_diff(diff(11, 12))
    sync.apply_diff(diff(20, 21))

    assert sync.buffered == 1
    assert sync.apply_snapshot(snapshot(15)) is SnapshotResult.NEED_NEWER
    assert sync.apply_snapshot(snapshot(19)) is SnapshotResult.SYNCED


def test_the_buffer_keeps_the_newest_diffs_when_full() -> None:
    sync = BookSync("BTCUSDT", max_buffer=3)
    for update_id in range(11, 16):
        sync.apply_diff(diff(update_id, update_id))

    assert sync.buffered == 3
    assert sync.apply_snapshot(snapshot(10)) is SnapshotResult.NEED_NEWER
    assert sync.apply_snapshot(snapshot(12)) is SnapshotResult.SYNCED
    assert sync.update_id == 15


def test_a_snapshot_not_newer_than_the_live_book_is_ignored() -> None:
    sync = synced_at(10)
    sync.apply_diff(diff(11, 12, bids=[("100.0", "3")]))

    assert sync.apply_snapshot(snapshot(12, bids=[("1.0", "1")])) is SnapshotResult.STALE
    assert sync.best_bid() == ("100.0", "3")


def test_a_newer_snapshot_refreshes_the_live_book() -> None:
    sync = synced_at(10)

    assert sync.apply_snapshot(snapshot(20, bids=[("99.0", "1")])) is SnapshotResult.SYNCED
    assert (sync.update_id, sync.best_bid()) == (20, ("99.0", "1"))
    assert sync.apply_diff(diff(15, 19)) is STALE
    assert sync.apply_diff(diff(21, 21)) is APPLIED


def test_reset_forgets_the_book_and_the_buffer() -> None:
    sync = synced_at(10)
    sync.reset()

    assert (sync.synced, sync.buffered, sync.best_ask()) == (False, 0, None)


def test_the_bbo_view_is_the_live_book_top() -> None:
    sync = synced_at(10)

    assert sync.bbo(event_time=5, receive_time=6) == BBO(
        exchange="binance",
        symbol="BTCUSDT",
        update_id=10,
        bid="100.0",
        bid_qty="1",
        ask="101.0",
        ask_qty="1",
        event_time=5,
        receive_time=6,
    )


def test_a_book_with_an_empty_side_has_no_bbo() -> None:
    sync = BookSync("BTCUSDT")
    sync.apply_snapshot(snapshot(10, asks=[]))

    assert sync.bbo(1, 2) is None


def test_records_of_another_symbol_are_refused() -> None:
    sync = BookSync("ETHBTC")

    with pytest.raises(ValueError, match="BTCUSDT record given to the ETHBTC book"):
        sync.apply_diff(diff(1, 2))
    with pytest.raises(ValueError, match="BTCUSDT record given to the ETHBTC book"):
        sync.apply_snapshot(snapshot(1))


# --- against the exchange's true book, through lost, repeated and reordered diffs -----------

PRICES = [f"{cents / 100:.2f}" for cents in range(100, 130)]


@st.composite
def exchange_history(draw: st.DrawFn) -> list[DepthDiff]:
    """A continuous diff stream: each diff covers the ids right after the previous one."""
    history = []
    final = 1000
    for _ in range(draw(st.integers(min_value=1, max_value=30))):
        first, final = final + 1, final + draw(st.integers(min_value=1, max_value=3))
        changes = st.lists(
            st.tuples(st.sampled_from(PRICES), st.sampled_from(["0", "1.5", "2", "0.25"])),
            max_size=4,
        )
        history.append(diff(first, final, draw(changes), draw(changes)))
    return history


def true_books(history: list[DepthDiff]) -> dict[int, tuple[dict[str, str], dict[str, str]]]:
    """The exchange's book after each update id of the history (and before it: id 1000)."""
    bids: dict[str, str] = {}
    asks: dict[str, str] = {}
    books = {1000: ({}, {})}
    for event in history:
        for side, levels in ((bids, event.bids), (asks, event.asks)):
            for price, quantity in levels:
                if Decimal(quantity):
                    side[price] = quantity
                else:
                    side.pop(price, None)
        books[event.final_update_id] = (dict(bids), dict(asks))
    return books


def as_levels(side: dict[str, str], highest_first: bool) -> list[Level]:
    return sorted(side.items(), key=lambda level: Decimal(level[0]), reverse=highest_first)


def as_snapshot(update_id: int, book: tuple[dict[str, str], dict[str, str]]) -> BookSnapshot:
    return snapshot(update_id, as_levels(book[0], True), as_levels(book[1], False))


# What the network does to each diff; a snapshot may be fetched before any delivery.
deliveries = st.sampled_from(["deliver", "deliver", "deliver", "drop", "repeat", "swap"])


@settings(max_examples=300, deadline=None)
@given(history=exchange_history(), data=st.data())
def test_the_book_always_equals_the_exchange_book_or_says_it_cannot(
    history: list[DepthDiff], data: st.DataObject
) -> None:
    books = true_books(history)
    delivered: list[DepthDiff] = []
    pending = list(history)
    while pending:
        fate = data.draw(deliveries)
        event = pending.pop(0)
        if fate == "deliver":
            delivered.append(event)
        elif fate == "repeat":
            delivered += [event, event]
        elif fate == "swap" and pending:
            delivered += [pending.pop(0), event]

    sync = BookSync("BTCUSDT")
    for event in delivered:
        if not sync.synced and data.draw(st.integers(min_value=0, max_value=3)) == 0:
            # The snapshot reflects the exchange some time around now: any id it has reached.
            snapshot_id = data.draw(st.sampled_from(sorted(books)))
            before = sync.buffered
            result = sync.apply_snapshot(as_snapshot(snapshot_id, books[snapshot_id]))
            assert result is not SnapshotResult.STALE
            if result is SnapshotResult.NEED_NEWER:
                assert sync.buffered == before > 0
        previous = sync.update_id
        result = sync.apply_diff(event)

        if result is APPLIED:
            assert previous is not None
            assert event.first_update_id <= previous + 1 <= event.final_update_id
        elif result is STALE:
            covered = previous if previous is not None else event.final_update_id
            assert event.final_update_id <= covered
        elif result is RESYNC:
            assert previous is not None
            assert event.first_update_id > previous + 1
        else:
            assert result is BUFFERED
            assert previous is None

        if sync.synced:
            assert sync.update_id is not None
            bids, asks = books[sync.update_id]
            view = sync.snapshot(depth=len(PRICES), timestamp=0)
            assert view is not None
            assert view.bids == as_levels(bids, True)
            assert view.asks == as_levels(asks, False)
