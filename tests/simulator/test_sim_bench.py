"""Benchmark mode streams pre-rendered aggTrade frames as fast as the client reads them."""

from __future__ import annotations

import asyncio
import json

import httpx

from streamforge.simulator import SimConfig, Simulator
from streamforge.simulator.benchclient import count_frames


async def test_bench_mode_floods_raw_and_combined_clients() -> None:
    async with Simulator(SimConfig(symbols=("BTCUSDT",), bench=True)) as sim:
        raw = await asyncio.to_thread(count_frames, f"{sim.ws_url}/ws/btcusdt@aggTrade", 1.0)
        combined = await asyncio.to_thread(
            count_frames, f"{sim.ws_url}/stream?streams=btcusdt@aggTrade", 1.0
        )
        async with httpx.AsyncClient() as client:
            stats = (await client.get(f"{sim.rest_url}/_sim/stats")).json()
    assert raw.frames > 20_000
    assert combined.frames > 20_000
    event = json.loads(raw.first_payload)
    assert event["e"] == "aggTrade"
    assert event["s"] == "BTCUSDT"
    assert 100 < len(raw.first_payload) < 250  # the size of a real aggTrade frame
    assert json.loads(combined.first_payload)["stream"] == "btcusdt@aggTrade"
    assert stats["frames_sent"] >= raw.frames + combined.frames
