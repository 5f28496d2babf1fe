"""Every fault, triggered through the admin endpoint or the Python API, does what it says."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import websockets
from websockets.sync.client import connect

from streamforge.simulator import SimConfig, Simulator, SimulatorThread
from tests.simulator.reference import NaiveBook, read_until_closed


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(SimConfig(symbols=("BTCUSDT",))) as running:
        yield running


@pytest.fixture
async def rest(sim: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sim.rest_url) as client:
        yield client


async def admin(rest: httpx.AsyncClient, **changes: object) -> dict[str, object]:
    response = await rest.post("/_sim/faults", json=changes)
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


async def test_fault_settings_are_validated_and_reported(rest: httpx.AsyncClient) -> None:
    assert (await rest.get("/_sim/faults")).json()["rest_error_ratio"] == 0.0
    assert (await admin(rest, rest_error_ratio=0.25))["rest_error_ratio"] == 0.25
    for bad in ({"rest_error_ratio": 2}, {"no_such_fault": 1}, {"malformed_next": -1}):
        assert (await rest.post("/_sim/faults", json=bad)).status_code == 400
    assert (await rest.get("/_sim/faults")).json()["rest_error_ratio"] == 0.25
    assert (await rest.delete("/_sim/faults")).json()["rest_error_ratio"] == 0.0


async def test_the_next_n_requests_fail_with_5xx(rest: httpx.AsyncClient) -> None:
    await admin(rest, rest_error_next=2)
    statuses = [(await rest.get("/api/v3/ping")).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]


async def test_a_5xx_ratio_of_one_fails_every_request(rest: httpx.AsyncClient) -> None:
    await admin(rest, rest_error_ratio=1.0)
    failed = await rest.get("/api/v3/depth", params={"symbol": "BTCUSDT"})
    assert failed.status_code == 503
    assert failed.json()["code"] == -1001
    zipped = await rest.get("/data/spot/daily/klines/BTCUSDT/1h/BTCUSDT-1h-2025-03-10.zip")
    assert zipped.status_code == 503
    await rest.delete("/_sim/faults")
    assert (await rest.get("/api/v3/ping")).status_code == 200


async def test_latency_delays_answers_and_frames(sim: Simulator, rest: httpx.AsyncClient) -> None:
    sim.set_faults(latency_ms=300)
    started = time.monotonic()
    assert (await rest.get("/api/v3/time")).status_code == 200
    assert time.monotonic() - started >= 0.3
    async with websockets.connect(f"{sim.ws_url}/ws") as ws:
        started = time.monotonic()
        await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 1}))
        assert json.loads(await ws.recv()) == {"result": [], "id": 1}
        assert time.monotonic() - started >= 0.3


async def test_the_next_n_frames_are_malformed(sim: Simulator) -> None:
    async with websockets.connect(f"{sim.ws_url}/ws/btcusdt@depth@100ms") as ws:
        await ws.recv()
        sim.set_faults(malformed_next=3)
        frames = [await ws.recv() for _ in range(8)]
    valid = []
    for frame in frames:
        try:
            valid.append(json.loads(frame))
        except json.JSONDecodeError:
            valid.append(None)
    # A frame already on its way when the fault was set arrives intact; the next three are not.
    malformed = [i for i, frame in enumerate(valid) if frame is None]
    assert len(malformed) == 3
    first = malformed[0]
    assert malformed == [first, first + 1, first + 2]
    assert first <= 2


async def test_a_depth_gap_breaks_the_update_id_chain(
    sim: Simulator, rest: httpx.AsyncClient
) -> None:
    async with websockets.connect(f"{sim.ws_url}/ws/btcusdt@depth@100ms") as ws:
        book = NaiveBook((await rest.get("/api/v3/depth?symbol=BTCUSDT&limit=5000")).json())
        diffs = [json.loads(await ws.recv()) for _ in range(3)]
        sim.set_faults(depth_gap_next=1)
        diffs += [json.loads(await ws.recv()) for _ in range(3)]
    steps = [b["U"] - a["u"] for a, b in itertools.pairwise(diffs)]
    assert steps.count(1) == 4
    gap = next(i for i, step in enumerate(steps, start=1) if step > 1)
    for diff in diffs[:gap]:
        book.apply(diff)
    with pytest.raises(AssertionError, match="gap"):
        book.apply(diffs[gap])


async def test_disconnect_now_closes_every_connection(
    sim: Simulator, rest: httpx.AsyncClient
) -> None:
    async with (
        websockets.connect(f"{sim.ws_url}/ws/btcusdt@bookTicker") as first,
        websockets.connect(f"{sim.ws_url}/stream?streams=btcusdt@depth") as second,
    ):
        await first.recv()
        await admin(rest, disconnect_now=True)
        for ws in (first, second):
            _, code = await read_until_closed(ws)
            assert code == 1000
    assert (await rest.get("/_sim/stats")).json()["connections_open"] == 0


async def test_connections_are_dropped_every_n_seconds(sim: Simulator) -> None:
    sim.set_faults(disconnect_every_s=0.5)
    for _ in range(2):  # a reconnecting client is dropped again
        async with websockets.connect(f"{sim.ws_url}/ws/btcusdt@bookTicker") as ws:
            started = time.monotonic()
            frames, _ = await read_until_closed(ws)
            assert frames
            assert time.monotonic() - started < 1.0


@pytest.mark.parametrize(
    ("path", "notice"),
    [
        ("/ws/btcusdt@bookTicker", {"e": "serverShutdown"}),
        ("/stream?streams=btcusdt@bookTicker", {"stream": "!serverShutdown"}),
    ],
)
async def test_shutdown_announces_itself_then_closes(
    sim: Simulator, rest: httpx.AsyncClient, path: str, notice: dict[str, str]
) -> None:
    async with websockets.connect(f"{sim.ws_url}{path}") as ws:
        await ws.recv()
        await admin(rest, shutdown_now=True)
        frames, code = await read_until_closed(ws)
    last = json.loads(frames[-1])
    assert notice.items() <= last.items()
    assert last.get("data", last)["e"] == "serverShutdown"
    assert code == 1000


async def test_shutdown_every_n_seconds(sim: Simulator) -> None:
    sim.set_faults(shutdown_every_s=0.4)
    async with websockets.connect(f"{sim.ws_url}/ws") as ws:
        notice = json.loads(await asyncio.wait_for(ws.recv(), 2))
        assert notice["e"] == "serverShutdown"
        assert abs(notice["E"] - time.time() * 1000) < 2000
        with pytest.raises(websockets.ConnectionClosed):
            await ws.recv()


async def test_exceeding_the_weight_budget_answers_429_with_retry_after() -> None:
    config = SimConfig(symbols=("BTCUSDT",), weight_limit=30, weight_window_s=2.0)
    async with Simulator(config) as sim, httpx.AsyncClient(base_url=sim.rest_url) as rest:
        responses = [
            await rest.get("/api/v3/aggTrades", params={"symbol": "BTCUSDT"}) for _ in range(8)
        ]
        assert [r.status_code for r in responses] == [200] * 7 + [429]
        assert [int(r.headers["X-MBX-USED-WEIGHT-1M"]) for r in responses[:7]] == list(
            range(4, 29, 4)
        )
        refused = responses[-1]
        assert refused.json()["code"] == -1003
        retry_after = int(refused.headers["Retry-After"])
        assert 1 <= retry_after <= 2
        await asyncio.sleep(retry_after)
        assert (await rest.get("/api/v3/ping")).status_code == 200


def test_a_threaded_simulator_takes_faults_from_synchronous_code() -> None:
    with SimulatorThread(SimConfig(symbols=("BTCUSDT",))) as sim:
        sim.set_faults(rest_error_next=1)
        assert httpx.get(f"{sim.rest_url}/api/v3/ping").status_code == 503
        assert httpx.get(f"{sim.rest_url}/api/v3/ping").status_code == 200
        with connect(f"{sim.ws_url}/ws/btcusdt@bookTicker") as ws:
            ws.recv(timeout=5)
            sim.disconnect_all(announce=True)
            frames = [json.loads(frame) for frame in ws]  # ends when the server closes cleanly
        assert frames[-1]["e"] == "serverShutdown"
