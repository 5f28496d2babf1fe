"""A load over bulk-file days and REST edges ends with exactly what the exchange serves."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from streamforge.bus import ensure_topics, platform_topics
from streamforge.schemas import Event, EventName, Trade
from streamforge.services.host import EXIT_FINISHED
from streamforge.services.loader_history.plan import Kind
from streamforge.simulator import SimulatorThread
from tests.services.loader_history.helpers import (
    INTERVAL,
    SYMBOL,
    Reference,
    TamperingProxy,
    TopicContent,
    assert_loaded_exactly,
    events_until_terminal,
    job,
    read_topic,
    run_job,
    settings_for,
)
from tests.simulator.reference import kline_fields, kline_of

pytestmark = pytest.mark.kafka

BULK_DAYS = ("2024-12-31", "2025-01-01")


@dataclass
class Loaded:
    code: int
    content: TopicContent
    events: list[Event]
    proxy: TamperingProxy


@pytest.fixture(scope="module")
async def loaded(
    kafka_bootstrap: str, sim: SimulatorThread, tmp_path_factory: pytest.TempPathFactory
) -> Loaded:
    """The standard load, run once for the tests of this module."""
    async with TamperingProxy(sim.data_url) as proxy:
        settings = settings_for(
            kafka_bootstrap, sim, tmp_path_factory.mktemp("load"), data_url=proxy.url
        )
        await ensure_topics(settings, platform_topics(market_partitions=1))
        code = await run_job(settings, "q-load", job())
    return Loaded(
        code,
        await read_topic(settings, "q-load"),
        await events_until_terminal(settings, "q-load"),
        proxy,
    )


def test_the_topic_holds_what_rest_serves_for_the_range(
    loaded: Loaded, expected: Reference
) -> None:
    assert loaded.code == EXIT_FINISHED
    assert len(expected.klines) == (66 * 60) // 15  # 66 hours of 15m klines
    assert len(expected.trades) > 20_000
    assert_loaded_exactly(loaded.content, expected)


def test_whole_past_days_come_from_bulk_files_and_the_edges_from_rest(loaded: Loaded) -> None:
    # 2025-01-01's files hold microseconds: the equality with REST shows they were normalized.
    assert loaded.proxy.files() == {
        *(f"{SYMBOL}-{INTERVAL}-{day}.zip" for day in BULK_DAYS),
        *(f"{SYMBOL}-aggTrades-{day}.zip" for day in BULK_DAYS),
    }


def test_klines_built_from_the_loaded_trades_equal_the_loaded_klines(loaded: Loaded) -> None:
    width = 15 * 60_000
    by_open: dict[int, list[dict[str, Any]]] = {}
    for trade in loaded.content.trades:
        by_open.setdefault(trade.trade_time - trade.trade_time % width, []).append(_row(trade))
    candles = loaded.content.candles
    assert len(by_open) == len(candles)  # a trade in every kline at this rate
    for candle in candles:
        expected = kline_of(by_open[candle.open_time])
        row = [candle.open_time, candle.open, candle.high, candle.low, candle.close]
        row += [candle.volume, candle.close_time, candle.quote_volume, candle.trades]
        row += [candle.taker_buy_volume, candle.taker_buy_quote_volume]
        assert kline_fields(row) == expected, candle.open_time


def _row(trade: Trade) -> dict[str, Any]:
    """A trade as the REST row the reference aggregation reads."""
    return {
        "p": trade.price,
        "q": trade.qty,
        "m": trade.buyer_is_maker,
        "f": trade.first_trade_id,
        "l": trade.last_trade_id,
    }


def test_progress_rises_to_one_and_finished_carries_the_topic_end_offsets(
    loaded: Loaded, expected: Reference
) -> None:
    loading = [e.payload for e in loaded.events if e.event is EventName.LOADING]
    assert len(loading) >= 2
    progress = [p.get("progress", 0.0) for p in loading]
    written = [p["records_written"] for p in loading]
    assert progress == sorted(progress) and written == sorted(written)
    finished = loaded.events[-1]
    assert finished.event is EventName.FINISHED
    total = len(expected.klines) + len(expected.trades)
    assert finished.payload["progress"] == 1.0
    assert finished.payload["records_written"] == total
    assert finished.payload["counts"] == {
        Kind.KLINES.value: len(expected.klines),
        Kind.TRADES.value: len(expected.trades),
    }
    offsets = finished.payload["end_offsets"]
    assert offsets["topic"].endswith("wf-q-load-data")
    written_partitions = {p: end for p, end in loaded.content.end_offsets.items() if end}
    assert {int(p): end for p, end in offsets["partitions"].items()} == written_partitions
    assert sum(written_partitions.values()) == total


async def test_rest_only_loads_the_same_records(
    settings: Any, expected: Reference, tmp_path: Path
) -> None:
    assert await run_job(settings, "q-rest", job(bulk=False)) == EXIT_FINISHED
    assert_loaded_exactly(await read_topic(settings, "q-rest"), expected)
