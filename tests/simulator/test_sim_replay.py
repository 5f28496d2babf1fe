"""Replay mode serves a real recording: its frames in order, byte for byte, and its snapshots."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import websockets

from streamforge.exchanges.replay import read_replay
from streamforge.simulator import SimConfig, Simulator
from tests.simulator.reference import NaiveBook

RECORDING = Path(__file__).parents[1] / "data" / "binance" / "binance-spot-2021-08-14.jsonl"
ENTRIES = list(read_replay(RECORDING))
FRAMES = [entry.data for entry in ENTRIES if entry.t == "ws"]
STREAM_URL = urlsplit(next(entry.url for entry in ENTRIES if entry.t == "ws"))
SNAPSHOTS = {
    urlsplit(entry.url).query: entry.data
    for entry in ENTRIES
    if entry.t == "http" and entry.url.endswith("limit=5000")
}


def fast() -> Simulator:
    return Simulator(SimConfig(replay=RECORDING, speed=None))


async def receive(ws: websockets.ClientConnection, count: int) -> list[str]:
    return [str(await asyncio.wait_for(ws.recv(), 10)) for _ in range(count)]


async def test_a_client_of_the_recorded_url_gets_every_frame_in_order() -> None:
    async with (
        fast() as sim,
        websockets.connect(f"{sim.ws_url}{STREAM_URL.path}?{STREAM_URL.query}") as ws,
    ):
        assert await receive(ws, len(FRAMES)) == FRAMES


async def test_a_raw_stream_client_gets_only_its_payloads() -> None:
    expected = [
        json.loads(frame)["data"]
        for frame in FRAMES
        if json.loads(frame)["stream"] == "xmrbtc@aggTrade"
    ]
    async with fast() as sim, websockets.connect(f"{sim.ws_url}/ws/xmrbtc@aggTrade") as ws:
        frames = await receive(ws, len(expected))
    assert [json.loads(frame) for frame in frames] == expected
    assert all(frame.startswith('{"e":"aggTrade"') for frame in frames)


async def test_recorded_snapshots_are_served_whatever_the_parameter_order() -> None:
    async with fast() as sim, httpx.AsyncClient(base_url=sim.rest_url) as rest:
        for query, body in SNAPSHOTS.items():
            symbol = query.split("symbol=")[1].split("&")[0]
            response = await rest.get(f"/api/v3/depth?limit=5000&symbol={symbol}")
            assert response.status_code == 200
            assert response.text == body
        assert (await rest.get("/api/v3/depth?symbol=XMRBTC&limit=10")).status_code == 404
        assert (await rest.get("/api/v3/ping")).json() == {}


async def test_replayed_diffs_rebuild_the_recorded_book_tickers() -> None:
    async with (
        fast() as sim,
        websockets.connect(f"{sim.ws_url}{STREAM_URL.path}?{STREAM_URL.query}") as ws,
        httpx.AsyncClient(base_url=sim.rest_url) as rest,
    ):
        frames = [json.loads(frame) for frame in await receive(ws, len(FRAMES))]
        books = {
            symbol: NaiveBook((await rest.get(f"/api/v3/depth?symbol={symbol}&limit=5000")).json())
            for symbol in ("XMRBTC", "FTMUSDT", "SXPBTC", "BADGERBTC")
        }
    tickers: dict[str, list[tuple[int, str, str]]] = {symbol: [] for symbol in books}
    for frame in frames:
        if frame["stream"].endswith("@bookTicker"):
            data = frame["data"]
            tickers[data["s"]].append((data["u"], data["b"], data["a"]))
    compared = 0
    for frame in frames:
        data = frame["data"]
        if not frame["stream"].endswith("@depth@100ms"):
            continue
        book = books[data["s"]]
        if data["u"] <= book.update_id:
            continue
        book.apply(data)
        # The latest book ticker not beyond this batch shows the rebuilt book's top.
        latest = [t for t in sorted(tickers[data["s"]]) if t[0] <= book.update_id]
        if latest:
            assert book.best()[0::2] == latest[-1][1:]
            compared += 1
    assert compared > 400


async def test_the_recorded_pace_is_kept_at_a_speed_factor() -> None:
    duration = ENTRIES[-1].ts - ENTRIES[0].ts
    async with (
        Simulator(SimConfig(replay=RECORDING, speed=20.0)) as sim,
        websockets.connect(f"{sim.ws_url}{STREAM_URL.path}?{STREAM_URL.query}") as ws,
    ):
        started = time.monotonic()
        await receive(ws, len(FRAMES))
        elapsed = time.monotonic() - started
    assert duration / 20 * 0.9 <= elapsed <= duration / 20 + 2


async def test_a_depth_gap_drops_one_recorded_diff() -> None:
    diffs = [frame for frame in FRAMES if "@depth@100ms" in frame.split(",")[0]]
    async with fast() as sim:
        sim.set_faults(depth_gap_next=1)
        async with websockets.connect(f"{sim.ws_url}{STREAM_URL.path}?{STREAM_URL.query}") as ws:
            received = await receive(ws, len(FRAMES) - 1)
    assert [frame for frame in FRAMES if frame not in received] == [diffs[0]]
