"""The store contract: every backend passes these same tests (see ``conftest.store``)."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pandas as pd
import pytest

from streamforge.schemas import BBO, Candle, Trade
from streamforge.storage import (
    EdgeSet,
    GraphData,
    ModelRecord,
    RecordKind,
    Store,
    VertexSet,
    open_store,
)
from streamforge.storage.tables import rows_of
from tests.storage.records import MINUTE, T0, candle, trade

TRADE_COLUMNS = ["time", "exchange", "symbol", *Trade.__struct_fields__[:-3]]
CANDLE_COLUMNS = ["time", "exchange", "symbol", *Candle.__struct_fields__[:-3]]


def test_upsert_counts_what_it_writes(store: Store) -> None:
    written = store.upsert([trade(1), trade(2), candle(0), trade(3)])

    assert written == 4
    assert store.count(RecordKind.TRADES, "BTCUSDT") == 3
    assert store.count(RecordKind.CANDLES, "BTCUSDT", interval="1m") == 1
    assert store.upsert([]) == 0


def test_redelivery_overwrites_and_never_duplicates(store: Store) -> None:
    store.upsert([trade(i) for i in range(5)] + [candle(i) for i in range(3)])

    written = store.upsert(
        [trade(2, price="1.00000000"), candle(1, close="2.50000000", closed=False)]
    )

    assert written == 2
    assert store.count(RecordKind.TRADES, "BTCUSDT") == 5
    assert store.count(RecordKind.CANDLES, "BTCUSDT", interval="1m") == 3
    trades = store.trades("BTCUSDT", exact=True)
    assert (
        trades["price"].tolist() == ["60000.10000000"] * 2 + ["1.00000000"] + ["60000.10000000"] * 2
    )
    candles = store.candles("BTCUSDT", "1m", exact=True)
    assert candles["close"].tolist()[1] == "2.50000000"
    assert candles["closed"].tolist() == [True, False, True]


def test_the_last_of_equal_ids_in_one_batch_wins(store: Store) -> None:
    store.upsert([trade(7, qty="1.0"), trade(7, qty="2.0"), trade(7, qty="3.0")])

    assert store.count(RecordKind.TRADES, "BTCUSDT") == 1
    assert store.trades("BTCUSDT", exact=True)["qty"].tolist() == ["3.0"]


def test_large_batches_keep_every_record(store: Store) -> None:
    # More than one multi-row statement, plus a remainder.
    records = [trade(i) for i in range(1_234)]
    assert store.upsert(records) == 1_234
    assert store.count(RecordKind.TRADES, "BTCUSDT") == 1_234
    assert store.trades("BTCUSDT")["trade_id"].tolist() == list(range(1_234))


def test_rows_as_a_writer_process_receives_them_are_stored_like_the_records(
    store: Store,
) -> None:
    def records(symbol: str) -> list[Trade | Candle]:
        return [trade(1, symbol=symbol), trade(2, symbol=symbol), candle(0, symbol=symbol)]

    # The rows of ETHUSDT's records after a trip through MessagePack: lists, not tuples.
    rows = msgspec.msgpack.decode(
        msgspec.msgpack.encode(rows_of(records("ETHUSDT"))),
        type=dict[RecordKind, list[list[Any]]],
    )

    assert store.upsert_rows(rows) == 3
    store.upsert(records("BTCUSDT"))

    for read in (
        lambda symbol: store.trades(symbol, exact=True),
        lambda symbol: store.candles(symbol, "1m", exact=True),
    ):
        from_rows, from_records = read("ETHUSDT"), read("BTCUSDT")
        assert len(from_rows) > 0
        pd.testing.assert_frame_equal(
            from_rows.drop(columns="symbol"), from_records.drop(columns="symbol")
        )


def test_decimals_are_exact_text_or_floats(store: Store) -> None:
    store.upsert([trade(1, price="0.00000100", qty="123456789.12345678"), candle(0)])

    exact = store.trades("BTCUSDT", exact=True)
    assert exact.loc[0, "price"] == "0.00000100"
    assert exact.loc[0, "qty"] == "123456789.12345678"
    floats = store.trades("BTCUSDT")
    assert floats["price"].dtype == "float64"
    assert floats.loc[0, "price"] == pytest.approx(1e-6)
    assert store.candles("BTCUSDT", "1m", exact=True).loc[0, "volume"] == "12.00000100"


def test_ranges_are_half_open_on_trade_and_open_time(store: Store) -> None:
    store.upsert([trade(i) for i in range(10)] + [candle(i) for i in range(10)])

    assert store.count(RecordKind.TRADES, "BTCUSDT", start=T0 + 2, end=T0 + 5) == 3
    assert store.trades("BTCUSDT", start=T0 + 2, end=T0 + 5)["trade_id"].tolist() == [2, 3, 4]
    assert store.count(RecordKind.TRADES, "BTCUSDT", start=T0 + 8) == 2
    assert store.count(RecordKind.TRADES, "BTCUSDT", end=T0 + 1) == 1
    assert store.count(RecordKind.TRADES, "BTCUSDT", start=T0 + 5, end=T0 + 5) == 0
    window = {"start": T0 + 3 * MINUTE, "end": T0 + 6 * MINUTE}
    assert store.count(RecordKind.CANDLES, "BTCUSDT", interval="1m", **window) == 3
    opened = store.candles("BTCUSDT", "1m", **window)["open_time"].tolist()
    assert opened == [T0 + 3 * MINUTE, T0 + 4 * MINUTE, T0 + 5 * MINUTE]


def test_counts_filter_by_exchange_symbol_and_interval(store: Store) -> None:
    store.upsert(
        [
            candle(0),
            candle(1),
            candle(0, interval="5m"),
            candle(0, symbol="ETHUSDT"),
            candle(0, exchange="bybit"),
            trade(1, symbol="ETHUSDT"),
        ]
    )

    assert store.count(RecordKind.CANDLES, "BTCUSDT", interval="1m") == 2
    assert store.count(RecordKind.CANDLES, "BTCUSDT", interval="5m") == 1
    assert store.count(RecordKind.CANDLES, "BTCUSDT") == 3
    assert store.count(RecordKind.CANDLES, "BTCUSDT", exchange="bybit") == 1
    assert store.count("trades", "ETHUSDT") == 1  # type: ignore[arg-type]
    assert store.count(RecordKind.TRADES, "BTCUSDT") == 0
    assert len(store.candles("BTCUSDT", "5m")) == 1


def test_trades_frame_has_a_column_per_field_typed_and_ordered(store: Store) -> None:
    store.upsert([trade(i) for i in (5, 3, 9, 1)])

    frame = store.trades("BTCUSDT")

    assert list(frame.columns) == TRADE_COLUMNS
    assert frame["trade_id"].tolist() == [1, 3, 5, 9]
    assert frame.index.tolist() == [0, 1, 2, 3]
    for column in ("trade_id", "first_trade_id", "trade_time", "event_time", "receive_time"):
        assert frame[column].dtype == "int64", column
    assert frame["buyer_is_maker"].dtype == "bool"
    assert frame["buyer_is_maker"].tolist() == [True, True, True, True]
    assert frame["qty"].dtype == "float64"
    assert str(frame["time"].dt.tz) == "UTC"
    assert frame.loc[0, "time"] == pd.Timestamp(T0 + 1, unit="ms", tz="UTC")
    assert frame.loc[0, "symbol"] == "BTCUSDT"


def test_candles_frame_has_a_column_per_field_typed_and_ordered(store: Store) -> None:
    store.upsert([candle(i) for i in (2, 0, 1)])

    frame = store.candles("BTCUSDT", "1m")

    assert list(frame.columns) == CANDLE_COLUMNS
    assert frame["open_time"].tolist() == [T0, T0 + MINUTE, T0 + 2 * MINUTE]
    assert frame["trades"].tolist() == [100, 101, 102]
    assert frame["trades"].dtype == "int64"
    assert frame["closed"].dtype == "bool"
    assert frame["high"].tolist() == [60100.5] * 3
    assert (frame["time"] == pd.to_datetime(frame["open_time"], unit="ms", utc=True)).all()
    assert frame.loc[0, "interval"] == "1m"


def test_empty_frames_keep_columns_and_dtypes(store: Store) -> None:
    trades = store.trades("BTCUSDT")
    candles = store.candles("BTCUSDT", "1m", exact=True)

    assert len(trades) == 0
    assert list(trades.columns) == TRADE_COLUMNS
    assert trades["trade_id"].dtype == "int64"
    assert trades["price"].dtype == "float64"
    assert list(candles.columns) == CANDLE_COLUMNS
    assert candles["closed"].dtype == "bool"


def test_only_trades_and_candles_are_stored(store: Store) -> None:
    bbo = BBO(
        exchange="binance",
        symbol="BTCUSDT",
        update_id=1,
        bid="1.0",
        bid_qty="1.0",
        ask="2.0",
        ask_qty="1.0",
        event_time=T0,
        receive_time=T0,
    )

    with pytest.raises(TypeError, match="BBO"):
        store.upsert([trade(1), bbo])  # type: ignore[list-item]

    assert store.count(RecordKind.TRADES, "BTCUSDT") == 0


def test_trades_have_no_interval(store: Store) -> None:
    with pytest.raises(ValueError, match="interval"):
        store.count(RecordKind.TRADES, "BTCUSDT", interval="1m")


async def test_a_store_works_from_worker_threads(store: Store) -> None:
    await asyncio.to_thread(store.upsert, [trade(i) for i in range(100)])

    count = await asyncio.to_thread(store.count, RecordKind.TRADES, "BTCUSDT")

    assert count == 100


def test_records_persist_across_opens(store_url: str) -> None:
    with open_store(store_url) as first:
        first.upsert([trade(1), candle(0)])
        first.put_workflow({"queue_id": "q1", "state": "running"})

    with open_store(store_url) as second:
        assert second.count(RecordKind.TRADES, "BTCUSDT") == 1
        assert second.count(RecordKind.CANDLES, "BTCUSDT", interval="1m") == 1
        assert second.workflow("q1") == {"queue_id": "q1", "state": "running"}


def test_workflow_views_are_kept_by_queue_id_and_overwritten(store: Store) -> None:
    first = {"queue_id": "wf-b", "state": "running", "services": [{"name": "loader", "n": 1}]}
    store.put_workflow(first)
    store.put_workflow({"queue_id": "wf-a", "state": "done", "progress": 1.0, "error": None})
    store.put_workflow(first | {"state": "stopped"})

    assert store.workflow("wf-b") == first | {"state": "stopped"}
    assert store.workflow("wf-missing") is None
    assert store.workflow("not/a key") is None
    assert [view["queue_id"] for view in store.workflows()] == ["wf-a", "wf-b"]
    assert store.workflows()[0] == {
        "queue_id": "wf-a",
        "state": "done",
        "progress": 1.0,
        "error": None,
    }


def test_a_workflow_view_needs_a_queue_id(store: Store) -> None:
    with pytest.raises(ValueError, match="queue_id"):
        store.put_workflow({"state": "running"})


def _graph(name: str = "btc_1m", weight: float = 0.5) -> GraphData:
    return GraphData(
        name=name,
        vertex_sets=[
            VertexSet(
                "candle", [{"_key": str(T0 + i * MINUTE), "close": 1.0 + i} for i in range(3)]
            ),
            VertexSet("symbol", [{"_key": "BTCUSDT", "features": [1, 2.5, None]}]),
        ],
        edge_sets=[
            EdgeSet(
                "next",
                "candle",
                "candle",
                [
                    {"_from": str(T0 + MINUTE), "_to": str(T0 + 2 * MINUTE), "weight": weight},
                    {"_from": str(T0), "_to": str(T0 + MINUTE), "weight": weight},
                ],
            ),
            EdgeSet("of", "candle", "symbol", [{"_from": str(T0), "_to": "BTCUSDT"}]),
        ],
        metadata={"interval": "1m", "window": [T0, T0 + 3 * MINUTE]},
    )


def test_graphs_round_trip(store: Store) -> None:
    graph = _graph()
    store.put_graph(graph)

    assert store.graph("btc_1m") == graph
    assert store.graph("missing") is None
    assert store.graph("not/a name") is None


def test_graph_vertices_come_back_by_key_and_edges_in_order(store: Store) -> None:
    keys = ["b", "c", "a", "10", "9"]
    graph = GraphData(
        "order",
        [VertexSet("v", [{"_key": key} for key in keys])],
        [EdgeSet("e", "v", "v", [{"_from": k, "_to": "a", "i": i} for i, k in enumerate(keys)])],
    )
    store.put_graph(graph)

    got = store.graph("order")

    assert got is not None
    assert [v["_key"] for v in got.vertex_sets[0].vertices] == sorted(keys)
    assert got.edge_sets[0].edges == graph.edge_sets[0].edges


def test_putting_a_graph_again_replaces_it_entirely(store: Store) -> None:
    store.put_graph(_graph())
    store.put_graph(_graph("other"))
    replacement = GraphData(
        "btc_1m",
        [VertexSet("trade", [{"_key": "1"}, {"_key": "2"}])],
        [EdgeSet("follows", "trade", "trade", [{"_from": "1", "_to": "2"}])],
        {"version": 2},
    )

    store.put_graph(replacement)

    assert store.graph("btc_1m") == replacement
    assert store.graph("other") == _graph("other")
    assert store.graph_names() == ["btc_1m", "other"]


def test_graphs_may_be_empty(store: Store) -> None:
    empty = GraphData("empty", [VertexSet("v")], [EdgeSet("e", "v", "v")])
    store.put_graph(empty)

    assert store.graph("empty") == empty


def test_model_records_are_kept_by_name_and_ordered_by_creation(store: Store) -> None:
    late = ModelRecord("gcn-b", T0 + 10, "btc_1m", {"lr": 0.01, "layers": 2}, {"auc": 0.71})
    early = ModelRecord("gcn-a", T0, "btc_1m", {"lr": 0.1}, {}, artifact="models/gcn-a.pt")
    store.put_model(late)
    store.put_model(early)
    retrained = ModelRecord("gcn-b", T0 + 20, "btc_1m", {"lr": 0.01, "layers": 3}, {"auc": 0.74})
    store.put_model(retrained)

    assert store.models() == [early, retrained]
