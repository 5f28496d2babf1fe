"""End to end: ``streamforge submit backfill --wait`` over real Kafka, the simulator, the
queue-manager, loader-history and store-connector processes, into a SQLite store."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import httpx
import pytest

from streamforge.config import Settings
from streamforge.simulator import SimConfig, SimulatorThread
from streamforge.storage import RecordKind, open_store
from tests.processes import streamforge
from tests.services.queue_manager.helpers import QueueManagerProcess
from tests.simulator.reference import agg_trades, klines

pytestmark = pytest.mark.kafka

SYMBOL = "BTCUSDT"
INTERVAL = "5m"
START, END = "2024-08-01", "2024-08-03T06:00"
START_MS, END_MS = 1722470400000, 1722470400000 + 54 * 3600 * 1000


async def test_backfill_stores_exactly_what_the_exchange_serves_for_the_range(
    platform_settings: Settings, tmp_path: Path
) -> None:
    config = SimConfig(seed=11, symbols=(SYMBOL,), trade_rate=0.3, genesis=date(2024, 7, 30))
    with SimulatorThread(config) as sim:
        manager = QueueManagerProcess(platform_settings, tmp_path)
        env = {
            **manager.env,
            "STREAMFORGE_BINANCE_REST_URL": sim.rest_url,
            "STREAMFORGE_BINANCE_DATA_URL": sim.data_url,
        }
        manager.env = env
        with manager:
            code, out, err = await streamforge(
                env,
                *("submit", "backfill", "--symbol", SYMBOL, "--interval", INTERVAL),
                *("--from", START, "--to", END, "--wait", "--json"),
            )
            count_code, count_out, _ = await streamforge(
                env,
                *("store", "count", "--kind", "trades", "--symbol", SYMBOL),
                *("--from", START, "--to", END, "--json"),
            )
        with httpx.Client(base_url=sim.rest_url, timeout=60) as client:
            expected_trades = agg_trades(client, SYMBOL, START_MS, END_MS)
            expected_klines = klines(client, SYMBOL, INTERVAL, START_MS, END_MS)

    assert code == 0, err
    result = json.loads(out)
    assert result["status"] == "succeeded"
    assert [s["status"] for s in result["steps"]] == ["succeeded", "succeeded"]
    assert count_code == 0 and json.loads(count_out)["count"] == len(expected_trades)

    with open_store(env["STREAMFORGE_STORE_URL"]) as store:
        assert store.count(RecordKind.TRADES, SYMBOL) == len(expected_trades)
        assert store.count(RecordKind.CANDLES, SYMBOL, interval=INTERVAL) == len(expected_klines)
        trades = store.trades(SYMBOL, exact=True)
        candles = store.candles(SYMBOL, INTERVAL, exact=True)
    stored_trades = list(
        zip(
            trades["trade_id"], trades["price"], trades["qty"], trades["first_trade_id"],
            trades["last_trade_id"], trades["trade_time"], trades["buyer_is_maker"],
            strict=True,
        )
    )  # fmt: skip
    assert stored_trades == [
        (t["a"], t["p"], t["q"], t["f"], t["l"], t["T"], t["m"]) for t in expected_trades
    ]
    stored_klines = list(
        zip(
            candles["open_time"], candles["open"], candles["high"], candles["low"],
            candles["close"], candles["volume"], candles["close_time"],
            strict=True,
        )
    )  # fmt: skip
    assert stored_klines == [tuple(row[:7]) for row in expected_klines]
