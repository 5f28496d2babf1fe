"""WebSocket streams: Binance's frames and ids, the order book protocol, SUBSCRIBE, the limits."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from decimal import Decimal
from typing import Any

import aiohttp
import httpx
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from streamforge.simulator import SimConfig, Simulator, SimulatorThread
from tests.simulator.reference import NaiveBook, kline_fields, read_until_closed


async def collect(ws: ClientConnection, seconds: float) -> list[dict[str, Any]]:
    """Every frame received within ``seconds``, decoded."""
    frames = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            frames.append(json.loads(await asyncio.wait_for(ws.recv(), left)))
        except TimeoutError:
            break
    return frames


def by_stream(frames: list[dict[str, Any]], stream: str) -> list[dict[str, Any]]:
    return [frame["data"] for frame in frames if frame["stream"] == stream]


async def test_combined_streams_wrap_frames_and_keep_ids_continuous(
    busy_sim: SimulatorThread,
) -> None:
    url = f"{busy_sim.ws_url}/stream?streams=btcusdt@aggTrade/btcusdt@trade/btcusdt@depth@100ms"
    async with websockets.connect(url) as ws:
        frames = await collect(ws, 3.0)
        # Trades come at random (four a second on average): read on, up to 10 s in all, until
        # there are four aggregates to compare.
        for _ in range(7):
            if len(by_stream(frames, "btcusdt@aggTrade")) >= 4:
                break
            frames += await collect(ws, 1.0)
        # An aggregate goes out just before its trades, so the window may end between them:
        # read on until the last aggregate's trades are in (frames past that are dropped).
        last = by_stream(frames, "btcusdt@aggTrade")[-1]["l"]
        async with asyncio.timeout(5.0):
            while all(t["t"] < last for t in by_stream(frames, "btcusdt@trade")[-1:]):
                frame = json.loads(await ws.recv())
                if frame["stream"] == "btcusdt@trade" and frame["data"]["t"] <= last:
                    frames.append(frame)
    assert {frame["stream"] for frame in frames} == {
        "btcusdt@aggTrade",
        "btcusdt@trade",
        "btcusdt@depth@100ms",
    }
    aggregates = by_stream(frames, "btcusdt@aggTrade")
    trades = by_stream(frames, "btcusdt@trade")
    diffs = by_stream(frames, "btcusdt@depth@100ms")
    assert len(aggregates) >= 4
    assert len(diffs) >= 20
    assert [a["a"] for a in aggregates] == list(range(aggregates[0]["a"], aggregates[-1]["a"] + 1))
    assert [t["t"] for t in trades] == list(range(aggregates[0]["f"], aggregates[-1]["l"] + 1))
    assert all(b["U"] == a["u"] + 1 for a, b in itertools.pairwise(diffs))
    assert all(d["e"] == "depthUpdate" and d["s"] == "BTCUSDT" for d in diffs)
    for aggregate in aggregates:  # the individual trades add up to their aggregate
        parts = [t for t in trades if aggregate["f"] <= t["t"] <= aggregate["l"]]
        assert sum(Decimal(t["q"]) for t in parts) == Decimal(aggregate["q"])
        assert {(t["p"], t["m"], t["T"]) for t in parts} == {
            (aggregate["p"], aggregate["m"], aggregate["T"])
        }


async def test_diffs_applied_to_a_snapshot_give_the_book_ticker(
    busy_sim: SimulatorThread,
) -> None:
    url = f"{busy_sim.ws_url}/stream?streams=btcusdt@depth@100ms/btcusdt@bookTicker"
    async with (
        websockets.connect(url) as ws,
        httpx.AsyncClient(base_url=busy_sim.rest_url) as rest,
    ):
        buffered = await collect(ws, 0.5)
        snapshot = (await rest.get("/api/v3/depth?symbol=BTCUSDT&limit=5000")).json()
        frames = buffered + await collect(ws, 2.5)
    book = NaiveBook(snapshot)
    diffs = [d for d in by_stream(frames, "btcusdt@depth@100ms") if d["u"] > book.update_id]
    assert diffs[0]["U"] <= book.update_id + 1 <= diffs[0]["u"]
    compared = 0
    for frame in frames:
        data = frame["data"]
        if frame["stream"] == "btcusdt@depth@100ms":
            book.apply(data)
        elif data["u"] >= book.update_id and data["u"] > snapshot["lastUpdateId"]:
            assert data["u"] == book.update_id
            assert book.best() == (data["b"], data["B"], data["a"], data["A"])
            compared += 1
    assert compared >= 5


async def test_raw_streams_send_bare_payloads(busy_sim: SimulatorThread) -> None:
    async with websockets.connect(f"{busy_sim.ws_url}/ws/btcusdt@bookTicker") as ws:
        frames = await collect(ws, 1.0)
    assert frames
    assert all(set(f) == {"u", "s", "b", "B", "a", "A"} for f in frames)
    assert all(Decimal(f["b"]) < Decimal(f["a"]) for f in frames)


async def test_subscribe_list_combine_and_unsubscribe(busy_sim: SimulatorThread) -> None:
    async with websockets.connect(f"{busy_sim.ws_url}/ws") as ws:
        await ws.send(
            json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@bookTicker"], "id": 1})
        )
        assert json.loads(await ws.recv()) == {"result": None, "id": 1}
        assert "u" in json.loads(await ws.recv())  # raw connection: bare payload

        await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": "list2"}))
        await ws.send(json.dumps({"method": "SET_PROPERTY", "params": ["combined", True], "id": 3}))
        await ws.send(json.dumps({"method": "GET_PROPERTY", "params": ["combined"], "id": 4}))
        answers = [f for f in await collect(ws, 0.8) if "id" in f]
        assert answers == [
            {"result": ["btcusdt@bookTicker"], "id": "list2"},
            {"result": None, "id": 3},
            {"result": True, "id": 4},
        ]
        assert json.loads(await ws.recv())["stream"] == "btcusdt@bookTicker"

        await ws.send(
            json.dumps({"method": "UNSUBSCRIBE", "params": ["btcusdt@bookTicker"], "id": 5})
        )
        after = await collect(ws, 0.8)
        answer = after.index({"result": None, "id": 5})
        assert after[answer + 1 :] == []  # nothing once the answer is out


@pytest.mark.parametrize(
    ("request_text", "code"),
    [
        ("{not json", 3),
        ('{"method": "SUBSCRIBE", "params": ["btcusdt@nonsense"], "id": 1}', 2),
        ('{"method": "SUBSCRIBE", "params": ["BTCUSDT@trade"], "id": 1}', 2),
        ('{"method": "PUBLISH", "params": [], "id": 1}', 2),
        ('{"params": [], "id": 1}', 2),
        ('{"method": "LIST_SUBSCRIPTIONS", "id": 1.5}', 2),
        ('{"method": "SET_PROPERTY", "params": ["colour", true], "id": 1}', 0),
        ('{"method": "SET_PROPERTY", "params": ["combined", "yes"], "id": 1}', 1),
    ],
)
async def test_bad_requests_are_answered_with_binance_errors(
    busy_sim: SimulatorThread, request_text: str, code: int
) -> None:
    async with websockets.connect(f"{busy_sim.ws_url}/ws") as ws:
        await ws.send(request_text)
        answer = json.loads(await ws.recv())
    assert answer["error"]["code"] == code
    assert answer["error"]["msg"]


async def test_at_most_1024_streams_a_connection(busy_sim: SimulatorThread) -> None:
    names = [f"sym{i}usdt@trade" for i in range(1025)]
    async with websockets.connect(f"{busy_sim.ws_url}/ws") as ws:
        await ws.send(json.dumps({"method": "SUBSCRIBE", "params": names[:1024], "id": 1}))
        assert json.loads(await ws.recv()) == {"result": None, "id": 1}
        await ws.send(json.dumps({"method": "SUBSCRIBE", "params": names[1024:], "id": 2}))
        assert json.loads(await ws.recv())["error"]["code"] == 2
    async with websockets.connect(f"{busy_sim.ws_url}/stream?streams={'/'.join(names[1:])}"):
        pass
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(f"{busy_sim.ws_url}/stream?streams={'/'.join(names)}"):
            pass
    assert refused.value.response.status_code == 400


async def test_more_than_five_messages_a_second_disconnects(busy_sim: SimulatorThread) -> None:
    async with websockets.connect(f"{busy_sim.ws_url}/ws") as ws:
        for request_id in range(6):
            await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": request_id}))
        answers, code = await read_until_closed(ws)
    assert len(answers) == 5
    assert code == 1008


async def test_five_messages_a_second_are_fine(busy_sim: SimulatorThread) -> None:
    async with websockets.connect(f"{busy_sim.ws_url}/ws") as ws:
        for request_id in range(10):
            await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": request_id}))
            assert json.loads(await ws.recv()) == {"result": [], "id": request_id}
            await asyncio.sleep(0.25)


async def test_server_pings_and_drops_clients_that_never_pong() -> None:
    config = SimConfig(symbols=("ETHUSDT",), ping_interval_s=0.3, pong_timeout_s=1.0)
    async with Simulator(config) as sim, aiohttp.ClientSession() as session:
        async with session.ws_connect(f"{sim.ws_url}/ws", autoping=False) as silent:
            started = time.monotonic()
            first = await silent.receive(timeout=2)
            assert first.type is aiohttp.WSMsgType.PING
            while (await silent.receive(timeout=3)).type is aiohttp.WSMsgType.PING:
                pass
            assert silent.closed
            assert 0.9 < time.monotonic() - started < 2.5
        async with websockets.connect(f"{sim.ws_url}/ws") as answering:  # pongs automatically
            await asyncio.sleep(1.5)
            await answering.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 1}))
            assert json.loads(await answering.recv()) == {"result": [], "id": 1}


async def test_closed_klines_on_the_stream_equal_rest(busy_sim: SimulatorThread) -> None:
    async with websockets.connect(f"{busy_sim.ws_url}/ws/btcusdt@kline_1s") as ws:
        events = await collect(ws, 3.5)
    closed = [e["k"] for e in events if e["k"]["x"]]
    assert len(closed) >= 2
    assert all(e["k"]["i"] == "1s" for e in events)
    async with httpx.AsyncClient(base_url=busy_sim.rest_url) as rest:
        for kline in closed:
            (row,) = (
                await rest.get(
                    "/api/v3/klines",
                    params={
                        "symbol": "BTCUSDT",
                        "interval": "1s",
                        "startTime": kline["t"],
                        "limit": 1,
                    },
                )
            ).json()
            assert (row[0], row[6]) == (kline["t"], kline["T"])
            assert kline_fields(row) == {
                "open": kline["o"],
                "high": kline["h"],
                "low": kline["l"],
                "close": kline["c"],
                "volume": kline["v"],
                "quote": kline["q"],
                "trades": kline["n"],
                "taker_volume": kline["V"],
                "taker_quote": kline["Q"],
            }


async def test_mini_ticker_is_the_last_24_hours(busy_sim: SimulatorThread) -> None:
    async with websockets.connect(f"{busy_sim.ws_url}/ws/btcusdt@miniTicker") as ws:
        ticker = json.loads(await asyncio.wait_for(ws.recv(), 3))
    assert ticker["e"] == "24hrMiniTicker"
    assert ticker["s"] == "BTCUSDT"
    assert Decimal(ticker["l"]) <= Decimal(ticker["c"]) <= Decimal(ticker["h"])
    assert Decimal(ticker["v"]) > 0
    assert Decimal(ticker["q"]) > 0
