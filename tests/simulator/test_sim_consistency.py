"""Klines are exactly the aggregation of the aggregate trades they summarise (checked over REST)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from streamforge.simulator import SimulatorThread
from tests.simulator.reference import agg_trades, kline_fields, kline_of

HOUR_MS = 3_600_000
START = 1_741_564_800_000 + 6 * HOUR_MS  # 2025-03-10 06:00 UTC
END = START + 2 * HOUR_MS


@pytest.fixture(scope="module")
def client(sim: SimulatorThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim.rest_url, timeout=30) as rest:
        yield rest


@pytest.fixture(scope="module")
def trades(client: httpx.Client) -> list[dict[str, Any]]:
    return agg_trades(client, "BTCUSDT", START, END)


@pytest.mark.parametrize(
    ("interval", "millis"),
    [("1m", 60_000), ("3m", 180_000), ("15m", 900_000), ("1h", HOUR_MS), ("2h", 2 * HOUR_MS)],
)
def test_every_kline_is_the_sum_of_its_trades(
    client: httpx.Client, trades: list[dict[str, Any]], interval: str, millis: int
) -> None:
    rows = client.get(
        "/api/v3/klines",
        params={
            "symbol": "BTCUSDT",
            "interval": interval,
            "startTime": START,
            "endTime": END - 1,
            "limit": 1000,
        },
    ).json()
    assert len(rows) == (END - START) // millis
    for row in rows:
        inside = [t for t in trades if row[0] <= t["T"] <= row[6]]
        assert inside, "the default trade rate fills every minute"
        assert kline_fields(row) == kline_of(inside)


def test_trade_ids_run_on_without_gaps_across_hours(trades: list[dict[str, Any]]) -> None:
    ids = [t["a"] for t in trades]
    assert ids == list(range(ids[0], ids[0] + len(ids)))
    assert all(b["f"] == a["l"] + 1 for a, b in itertools.pairwise(trades))
    assert trades[0]["T"] < START + HOUR_MS <= trades[-1]["T"]


def test_the_open_kline_holds_the_trades_so_far(client: httpx.Client) -> None:
    (row,) = client.get(
        "/api/v3/klines", params={"symbol": "ETHUSDT", "interval": "1h", "limit": 1}
    ).json()
    trades = agg_trades(client, "ETHUSDT", row[0], row[6] + 1)
    # A trade may land between the two requests: then the kline is one trade short.
    assert kline_fields(row) in (kline_of(trades), kline_of(trades[:-1]))
