"""Streaming from the simulator over real WebSockets: sharding, SUBSCRIBE, reconnects."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import msgspec
import pytest

from streamforge.exchanges.binance.ws import BinanceStreams, StreamOptions
from streamforge.simulator import SimConfig, Simulator


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    config = SimConfig(seed=5, symbols=("BTCUSDT", "ETHUSDT"), trade_rate=20.0)
    async with Simulator(config) as running:
        yield running


@dataclass
class Recorder:
    """Collects frames by stream, and connection changes, as the loader would see them."""

    frames: dict[str, int] = field(default_factory=dict)
    connects: list[tuple[frozenset[str], bool]] = field(default_factory=list)
    disconnects: list[str] = field(default_factory=list)

    def on_frame(self, raw: bytes, receive_ms: int) -> None:
        stream = msgspec.json.decode(raw)["stream"]
        self.frames[stream] = self.frames.get(stream, 0) + 1

    def on_connected(self, streams: frozenset[str], reconnect: bool) -> None:
        self.connects.append((streams, reconnect))

    def on_disconnected(self, streams: frozenset[str], reason: str) -> None:
        self.disconnects.append(reason)


async def eventually(check: Callable[[], bool], within: float = 20.0) -> None:
    for _ in range(int(within / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


def fast_reconnects(**overrides: object) -> StreamOptions:
    return StreamOptions(backoff_initial_s=0.05, backoff_max_s=0.2, **overrides)  # type: ignore[arg-type]


async def test_combined_streams_deliver_frames(sim: Simulator) -> None:
    rec = Recorder()
    async with BinanceStreams(sim.ws_url, rec.on_frame, rec) as streams:
        await streams.add(["btcusdt@aggTrade", "ethusdt@bookTicker"])
        await eventually(lambda: rec.frames.get("btcusdt@aggTrade", 0) >= 3)
        await eventually(lambda: rec.frames.get("ethusdt@bookTicker", 0) >= 1)
    assert rec.connects[0] == (frozenset({"btcusdt@aggTrade", "ethusdt@bookTicker"}), False)


async def test_streams_are_sharded_over_connections(sim: Simulator) -> None:
    rec = Recorder()
    names = [f"{s}@{k}" for s in ("btcusdt", "ethusdt") for k in ("aggTrade", "bookTicker")]
    options = StreamOptions(max_streams_per_connection=3)
    async with BinanceStreams(sim.ws_url, rec.on_frame, rec, options) as streams:
        await streams.add(names)
        assert [len(c.streams) for c in streams.connections] == [3, 1]
        await eventually(lambda: len(rec.connects) == 2)
        assert streams.streams == frozenset(names)


async def test_subscribe_and_unsubscribe_at_runtime(sim: Simulator) -> None:
    rec = Recorder()
    async with BinanceStreams(sim.ws_url, rec.on_frame, rec) as streams:
        await streams.add(["btcusdt@aggTrade"])
        await eventually(lambda: rec.frames.get("btcusdt@aggTrade", 0) >= 1)
        await streams.add(["ethusdt@aggTrade"])  # SUBSCRIBE on the open connection
        await eventually(lambda: rec.frames.get("ethusdt@aggTrade", 0) >= 2)
        await streams.remove(["btcusdt@aggTrade"])
        before = rec.frames["btcusdt@aggTrade"]
        await asyncio.sleep(1.0)
        assert rec.frames["btcusdt@aggTrade"] <= before + 1  # at most one frame in flight
    assert len(rec.connects) == 1  # no reconnect was needed


async def test_dropped_connection_is_reopened_and_reported(sim: Simulator) -> None:
    rec = Recorder()
    async with BinanceStreams(sim.ws_url, rec.on_frame, rec, fast_reconnects()) as streams:
        await streams.add(["btcusdt@aggTrade"])
        await eventually(lambda: rec.frames.get("btcusdt@aggTrade", 0) >= 1)
        await sim.disconnect_all()
        await eventually(lambda: len(rec.connects) == 2)
        seen = rec.frames["btcusdt@aggTrade"]
        await eventually(lambda: rec.frames["btcusdt@aggTrade"] > seen)
        assert streams.connections[0].stats.reconnects == 1
        assert len(rec.disconnects) == 1
    assert rec.connects[1][1] is True  # flagged: frames may have been missed
    assert rec.disconnects[-1] == "stopped"


async def test_server_shutdown_triggers_a_reconnect(sim: Simulator) -> None:
    rec = Recorder()
    async with BinanceStreams(sim.ws_url, rec.on_frame, rec, fast_reconnects()) as streams:
        await streams.add(["ethusdt@aggTrade"])
        await eventually(lambda: rec.frames.get("ethusdt@aggTrade", 0) >= 1)
        await sim.disconnect_all(announce=True)
        await eventually(lambda: len(rec.connects) >= 2)
        seen = rec.frames["ethusdt@aggTrade"]
        await eventually(lambda: rec.frames["ethusdt@aggTrade"] > seen)


async def test_connection_is_replaced_before_its_age_limit(sim: Simulator) -> None:
    rec = Recorder()
    options = fast_reconnects(max_connection_age_s=1.0, reconnect_stagger_s=0.0)
    async with BinanceStreams(sim.ws_url, rec.on_frame, rec, options) as streams:
        await streams.add(["btcusdt@aggTrade"])
        await eventually(lambda: len(rec.connects) >= 3, within=30)
        assert rec.disconnects == []  # make-before-break: never without a connection


async def test_unreachable_exchange_is_retried_with_backoff() -> None:
    rec = Recorder()
    options = fast_reconnects()
    async with BinanceStreams("ws://127.0.0.1:1", rec.on_frame, rec, options) as streams:
        await streams.add(["btcusdt@aggTrade"])
        await asyncio.sleep(0.5)
        assert not streams.connections[0].connected
    assert rec.connects == []
