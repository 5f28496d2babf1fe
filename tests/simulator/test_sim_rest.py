"""The simulator's REST API answers as Binance's does: shapes, parameters, errors and weights."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from streamforge.simulator import SimConfig, SimulatorThread

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
#: A past, complete stretch of the synthetic history.
PAST = 1_741_564_800_000  # 2025-03-10 00:00 UTC


def test_ping_and_time(http: httpx.Client) -> None:
    assert http.get("/api/v3/ping").json() == {}
    server_time = http.get("/api/v3/time").json()["serverTime"]
    assert abs(server_time - time.time() * 1000) < 5_000


def test_exchange_info_lists_symbols_with_their_filters(http: httpx.Client) -> None:
    info = http.get("/api/v3/exchangeInfo").json()
    assert info["timezone"] == "UTC"
    weight = next(r for r in info["rateLimits"] if r["rateLimitType"] == "REQUEST_WEIGHT")
    assert weight["interval"] == "MINUTE"
    btc = next(s for s in info["symbols"] if s["symbol"] == "BTCUSDT")
    assert (btc["baseAsset"], btc["quoteAsset"], btc["status"]) == ("BTC", "USDT", "TRADING")
    filters = {f["filterType"]: f for f in btc["filters"]}
    assert filters["PRICE_FILTER"]["tickSize"] == "0.01000000"
    assert filters["LOT_SIZE"]["stepSize"] == "0.00001000"
    assert [s["symbol"] for s in info["symbols"]] == ["BTCUSDT", "ETHUSDT"]

    one = http.get("/api/v3/exchangeInfo", params={"symbol": "ETHUSDT"}).json()
    assert [s["symbol"] for s in one["symbols"]] == ["ETHUSDT"]
    some = http.get("/api/v3/exchangeInfo", params={"symbols": '["ETHUSDT","BTCUSDT"]'}).json()
    assert [s["symbol"] for s in some["symbols"]] == ["ETHUSDT", "BTCUSDT"]


def test_prices_and_quantities_obey_the_filters(http: httpx.Client) -> None:
    info = http.get("/api/v3/exchangeInfo", params={"symbol": "BTCUSDT"}).json()
    filters = {f["filterType"]: f for f in info["symbols"][0]["filters"]}
    tick = Decimal(filters["PRICE_FILTER"]["tickSize"])
    step = Decimal(filters["LOT_SIZE"]["stepSize"])
    trades = http.get(
        "/api/v3/aggTrades", params={"symbol": "BTCUSDT", "startTime": PAST, "limit": 1000}
    ).json()
    assert len(trades) == 1000
    for trade in trades:
        assert len(trade["p"].split(".")[1]) == 8
        assert Decimal(trade["p"]) % tick == 0
        assert Decimal(trade["q"]) % step == 0
        assert Decimal(trade["q"]) > 0


@pytest.mark.parametrize(
    ("path", "params", "code"),
    [
        ("/api/v3/klines", {"symbol": "NOPEUSDT", "interval": "1m"}, -1121),
        ("/api/v3/klines", {"interval": "1m"}, -1102),
        ("/api/v3/klines", {"symbol": "BTCUSDT"}, -1102),
        ("/api/v3/klines", {"symbol": "BTCUSDT", "interval": "7m"}, -1120),
        ("/api/v3/klines", {"symbol": "BTCUSDT", "interval": "1m", "limit": "ten"}, -1100),
        ("/api/v3/klines", {"symbol": "BTCUSDT", "interval": "1m", "limit": 0}, -1130),
        (
            "/api/v3/klines",
            {"symbol": "BTCUSDT", "interval": "1m", "startTime": PAST + 1, "endTime": PAST},
            -1023,
        ),
        (
            "/api/v3/aggTrades",
            {"symbol": "BTCUSDT", "startTime": PAST, "endTime": PAST + HOUR_MS},
            -1127,
        ),
        ("/api/v3/depth", {"symbol": "btc"}, -1121),
        ("/api/v3/exchangeInfo", {"symbol": "NOPEUSDT"}, -1121),
    ],
)
def test_bad_requests_get_binance_error_json(
    http: httpx.Client, path: str, params: dict[str, object], code: int
) -> None:
    response = http.get(path, params=params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["msg"], str)
    assert body["msg"]


@pytest.fixture
def fresh_budget() -> Iterator[httpx.Client]:
    with (
        SimulatorThread(SimConfig(symbols=("BTCUSDT",))) as running,
        httpx.Client(base_url=running.rest_url) as client,
    ):
        yield client


@pytest.mark.parametrize(
    ("path", "params", "weight"),
    [
        ("/api/v3/ping", {}, 1),
        ("/api/v3/time", {}, 1),
        ("/api/v3/exchangeInfo", {}, 20),
        ("/api/v3/depth", {"symbol": "BTCUSDT"}, 5),
        ("/api/v3/depth", {"symbol": "BTCUSDT", "limit": 500}, 25),
        ("/api/v3/depth", {"symbol": "BTCUSDT", "limit": 1000}, 50),
        ("/api/v3/depth", {"symbol": "BTCUSDT", "limit": 5000}, 250),
        ("/api/v3/klines", {"symbol": "BTCUSDT", "interval": "1h"}, 2),
        ("/api/v3/aggTrades", {"symbol": "BTCUSDT"}, 4),
    ],
)
def test_each_response_reports_the_weight_used_so_far(
    fresh_budget: httpx.Client, path: str, params: dict[str, object], weight: int
) -> None:
    first = fresh_budget.get(path, params=params)
    second = fresh_budget.get(path, params=params)
    assert first.status_code == second.status_code == 200
    used = int(second.headers["X-MBX-USED-WEIGHT-1M"]) - int(first.headers["X-MBX-USED-WEIGHT-1M"])
    assert used == weight


def test_klines_without_a_range_are_the_latest_500(http: httpx.Client) -> None:
    rows = http.get("/api/v3/klines", params={"symbol": "BTCUSDT", "interval": "1m"}).json()
    assert len(rows) == 500
    now = time.time() * 1000
    assert rows[-1][0] <= now <= rows[-1][6]  # the kline still open is the last one
    assert all(b[0] - a[0] == 60_000 for a, b in itertools.pairwise(rows))
    assert all(row[6] == row[0] + 59_999 for row in rows)


def test_klines_limit_is_capped_at_1000(http: httpx.Client) -> None:
    rows = http.get(
        "/api/v3/klines", params={"symbol": "ETHUSDT", "interval": "1m", "limit": 5000}
    ).json()
    assert len(rows) == 1000


def test_klines_are_selected_by_open_time_within_start_and_end(http: httpx.Client) -> None:
    rows = http.get(
        "/api/v3/klines",
        params={
            "symbol": "BTCUSDT",
            "interval": "5m",
            "startTime": PAST + 1,
            "endTime": PAST + HOUR_MS,
        },
    ).json()
    opens = [row[0] for row in rows]
    # PAST itself opens before startTime; PAST + 1 h opens exactly at endTime (inclusive)
    assert opens == [PAST + i * 300_000 for i in range(1, 13)]
    assert rows[0][:6]
    assert isinstance(rows[0][8], int)
    assert rows[0][11] == "0"


def test_klines_of_wide_intervals_open_on_the_utc_calendar(http: httpx.Client) -> None:
    def opens(interval: str) -> list[int]:
        rows = http.get(
            "/api/v3/klines",
            params={"symbol": "BTCUSDT", "interval": interval, "startTime": PAST, "limit": 3},
        ).json()
        return [row[0] for row in rows]

    assert opens("1d") == [PAST, PAST + DAY_MS, PAST + 2 * DAY_MS]
    assert opens("1w") == [PAST, PAST + 7 * DAY_MS, PAST + 14 * DAY_MS]  # 2025-03-10 is a Monday
    assert opens("1M") == [1_743_465_600_000, 1_746_057_600_000, 1_748_736_000_000]  # Apr-Jun


def test_agg_trades_page_by_id_without_gaps(http: httpx.Client) -> None:
    # Start a little before an hour boundary so the pages cross it.
    start = PAST + HOUR_MS - 120_000
    first = http.get(
        "/api/v3/aggTrades", params={"symbol": "BTCUSDT", "startTime": start, "limit": 1}
    ).json()[0]
    trades = []
    next_id = first["a"]
    for _ in range(3):
        page = http.get(
            "/api/v3/aggTrades", params={"symbol": "BTCUSDT", "fromId": next_id, "limit": 1000}
        ).json()
        assert len(page) == 1000
        trades.extend(page)
        next_id = page[-1]["a"] + 1
    assert [t["a"] for t in trades] == list(range(first["a"], first["a"] + 3000))
    assert all(b["f"] == a["l"] + 1 for a, b in itertools.pairwise(trades))
    assert all(b["T"] >= a["T"] for a, b in itertools.pairwise(trades))
    assert trades[0]["T"] < PAST + HOUR_MS < trades[-1]["T"]


def test_agg_trades_by_time_are_inclusive_and_ordered(http: httpx.Client) -> None:
    start, end = PAST + 600_000, PAST + 900_000
    trades = http.get(
        "/api/v3/aggTrades",
        params={"symbol": "BTCUSDT", "startTime": start, "endTime": end, "limit": 1000},
    ).json()
    assert trades
    assert all(start <= t["T"] <= end for t in trades)
    before = http.get(
        "/api/v3/aggTrades", params={"symbol": "BTCUSDT", "endTime": start - 1, "limit": 1}
    ).json()
    assert before[0]["a"] == trades[0]["a"] - 1
    assert before[0]["T"] < start
    assert set(trades[0]) == {"a", "p", "q", "f", "l", "T", "m", "M"}


def test_latest_agg_trades_end_now(http: httpx.Client) -> None:
    trades = http.get("/api/v3/aggTrades", params={"symbol": "ETHUSDT", "limit": 20}).json()
    assert len(trades) == 20
    assert trades[-1]["T"] <= time.time() * 1000
    assert [t["a"] for t in trades] == list(range(trades[0]["a"], trades[0]["a"] + 20))


def test_depth_snapshot_is_sorted_uncrossed_and_limited(http: httpx.Client) -> None:
    book = http.get("/api/v3/depth", params={"symbol": "BTCUSDT", "limit": 50}).json()
    bids = [Decimal(p) for p, _ in book["bids"]]
    asks = [Decimal(p) for p, _ in book["asks"]]
    assert len(bids) == len(asks) == 50
    assert bids == sorted(bids, reverse=True)
    assert asks == sorted(asks)
    assert bids[0] < asks[0]
    assert all(Decimal(q) > 0 for _, q in book["bids"] + book["asks"])
    default = http.get("/api/v3/depth", params={"symbol": "BTCUSDT"}).json()
    assert len(default["bids"]) == 100
    assert default["lastUpdateId"] >= book["lastUpdateId"]
    full = http.get("/api/v3/depth", params={"symbol": "BTCUSDT", "limit": 9999}).json()
    assert len(full["bids"]) == 1000  # the book's depth; limit is capped at 5000


def test_the_book_follows_the_last_trade(http: httpx.Client) -> None:
    def last_trade() -> dict[str, object]:
        return http.get("/api/v3/aggTrades", params={"symbol": "ETHUSDT", "limit": 1}).json()[0]

    # The book steps every 100 ms: compare when no trade is younger than that.
    for _ in range(50):
        before = last_trade()
        book = http.get("/api/v3/depth", params={"symbol": "ETHUSDT", "limit": 5}).json()
        if last_trade() == before and time.time() * 1000 - int(str(before["T"])) > 300:
            break
        time.sleep(0.3)
    price = Decimal(str(before["p"]))
    best_bid, best_ask = Decimal(book["bids"][0][0]), Decimal(book["asks"][0][0])
    assert best_bid <= price <= best_ask
    assert price == (best_bid if before["m"] else best_ask)  # the taker took the best level
