"""Streaming from the simulator over real WebSockets: sharding, SUBSCRIBE, reconnects."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import cast

import msgspec
import pytest
from picows import WSMsgType, WSTransport
from picows.picows import _make_test_ws_frame

from streamforge.exchanges.binance.ws import (
    FRAMES_PER_TURN,
    BinanceStreams,
    ConnectLimiter,
    StreamConnection,
    StreamOptions,
    _Session,
)
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

    def on_frames(self, frames: list[bytes], receive_ms: int) -> None:
        for raw in frames:
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
    async with BinanceStreams(sim.ws_url, rec.on_frames, rec) as streams:
        await streams.add(["btcusdt@aggTrade", "ethusdt@bookTicker"])
        await eventually(lambda: rec.frames.get("btcusdt@aggTrade", 0) >= 3)
        await eventually(lambda: rec.frames.get("ethusdt@bookTicker", 0) >= 1)
    assert rec.connects[0] == (frozenset({"btcusdt@aggTrade", "ethusdt@bookTicker"}), False)


async def test_streams_are_sharded_over_connections(sim: Simulator) -> None:
    rec = Recorder()
    names = [f"{s}@{k}" for s in ("btcusdt", "ethusdt") for k in ("aggTrade", "bookTicker")]
    options = StreamOptions(max_streams_per_connection=3)
    async with BinanceStreams(sim.ws_url, rec.on_frames, rec, options) as streams:
        await streams.add(names)
        assert [len(c.streams) for c in streams.connections] == [3, 1]
        await eventually(lambda: len(rec.connects) == 2)
        assert streams.streams == frozenset(names)


async def test_subscribe_and_unsubscribe_at_runtime(sim: Simulator) -> None:
    rec = Recorder()
    async with BinanceStreams(sim.ws_url, rec.on_frames, rec) as streams:
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
    async with BinanceStreams(sim.ws_url, rec.on_frames, rec, fast_reconnects()) as streams:
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
    async with BinanceStreams(sim.ws_url, rec.on_frames, rec, fast_reconnects()) as streams:
        await streams.add(["ethusdt@aggTrade"])
        await eventually(lambda: rec.frames.get("ethusdt@aggTrade", 0) >= 1)
        await sim.disconnect_all(announce=True)
        await eventually(lambda: len(rec.connects) >= 2)
        seen = rec.frames["ethusdt@aggTrade"]
        await eventually(lambda: rec.frames["ethusdt@aggTrade"] > seen)


async def test_connection_is_replaced_before_its_age_limit(sim: Simulator) -> None:
    rec = Recorder()
    options = fast_reconnects(max_connection_age_s=1.0, reconnect_stagger_s=0.0)
    async with BinanceStreams(sim.ws_url, rec.on_frames, rec, options) as streams:
        await streams.add(["btcusdt@aggTrade"])
        await eventually(lambda: len(rec.connects) >= 3, within=30)
        assert rec.disconnects == []  # make-before-break: never without a connection


async def test_a_failing_frame_handler_renews_the_connection(sim: Simulator) -> None:
    rec = Recorder()
    calls = 0

    def fail_once(frames: list[bytes], receive_ms: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("a bug in the handler")
        rec.on_frames(frames, receive_ms)

    async with BinanceStreams(sim.ws_url, fail_once, rec, fast_reconnects()) as streams:
        await streams.add(["btcusdt@aggTrade"])
        await eventually(lambda: rec.frames.get("btcusdt@aggTrade", 0) >= 2)
    assert [reconnect for _, reconnect in rec.connects] == [False, True]
    assert "a bug in the handler" in rec.disconnects[0]


async def test_unreachable_exchange_is_retried_with_backoff() -> None:
    rec = Recorder()
    options = fast_reconnects()
    async with BinanceStreams("ws://127.0.0.1:1", rec.on_frames, rec, options) as streams:
        await streams.add(["btcusdt@aggTrade"])
        await asyncio.sleep(0.5)
        assert not streams.connections[0].connected
    assert rec.connects == []


async def test_server_pings_are_answered_so_the_connection_stays() -> None:
    config = SimConfig(seed=5, symbols=("BTCUSDT",), ping_interval_s=0.2, pong_timeout_s=0.6)
    async with Simulator(config) as sim:
        rec = Recorder()
        # Our own keep-alive pings stay off: only the answers keep the server from dropping us.
        options = fast_reconnects(ping_interval_s=None)
        async with BinanceStreams(sim.ws_url, rec.on_frames, rec, options) as streams:
            await streams.add(["btcusdt@aggTrade"])
            await eventually(lambda: len(rec.connects) == 1)
            await asyncio.sleep(2.0)  # ten pings, three pong timeouts
            assert rec.disconnects == []
        assert len(rec.connects) == 1


async def test_a_flood_is_handed_over_in_order_a_turn_at_a_time() -> None:
    async with Simulator(SimConfig(symbols=("BTCUSDT",), bench=True)) as sim:
        batches: list[list[bytes]] = []
        ids: list[int] = []

        def keep(frames: list[bytes], receive_ms: int) -> None:
            batches.append(frames)
            ids.extend(msgspec.json.decode(frame)["data"]["a"] for frame in frames)

        async with BinanceStreams(sim.ws_url, keep) as streams:
            await streams.add(["btcusdt@aggTrade"])
            await eventually(lambda: len(ids) >= 20 * FRAMES_PER_TURN)
            streaming = list(batches)  # closing hands over the rest of a read at once
    assert max(len(batch) for batch in streaming) == FRAMES_PER_TURN  # long reads were split
    # In order: the bench stream's ids are consecutive except where its block starts over.
    restarts = sum(1 for a, b in itertools.pairwise(ids) if b != a + 1)
    assert restarts <= len(ids) // 4096 + 1


@dataclass
class FakeTransport:
    """What a session sends back."""

    pongs: list[bytes] = field(default_factory=list)

    def send_pong(self, payload: bytes) -> None:
        self.pongs.append(payload)


async def session_of(rec: Recorder) -> _Session:
    shard = StreamConnection(
        "ws://exchange",
        {"btcusdt@aggTrade"},
        rec.on_frames,
        rec,
        StreamOptions(),
        ConnectLimiter(1, 1.0),
        age_limit_s=60.0,
    )
    return _Session(shard)


async def test_a_ping_is_answered_with_its_payload() -> None:
    transport = FakeTransport()
    session = await session_of(Recorder())
    session.on_ws_frame(
        cast(WSTransport, transport),
        _make_test_ws_frame(WSMsgType.PING, b"1732700000", True, False),
    )
    assert transport.pongs == [b"1732700000"]


async def test_a_fragmented_message_is_handed_over_whole() -> None:
    rec = Recorder()
    session = await session_of(rec)
    frame = b'{"stream":"btcusdt@aggTrade","data":{}}'
    parts = [(WSMsgType.TEXT, frame[:10], False), (WSMsgType.CONTINUATION, frame[10:20], False)]
    parts.append((WSMsgType.CONTINUATION, frame[20:], True))
    for kind, payload, fin in parts:
        session.on_ws_frame(
            cast(WSTransport, FakeTransport()), _make_test_ws_frame(kind, payload, fin, False)
        )
    assert rec.frames == {"btcusdt@aggTrade": 1}
