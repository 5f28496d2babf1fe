"""Ingest throughput: exchange simulator -> loader-ws -> Kafka, end to end, in one loader process.

Usage: ``python benchmarks/ingest.py [--seconds 10] [--windows 1] [--warm-up 5]
[--partitions 6]``. Uses the cluster in ``STREAMFORGE_KAFKA_BOOTSTRAP`` if set, otherwise starts
a local broker for the run. ``--windows N`` measures N consecutive windows and prints each and
their median: this machine's speed drifts, and one run's figure varies by 10-20 %.

The simulator runs in its own process in benchmark mode (``python -m streamforge.cli.sim --bench``:
pre-rendered aggTrade frames of one symbol, as fast as the client reads). This process runs the
loader-ws service under its host, on the services' event loop (uvloop where installed), streaming
that symbol's aggTrades into ``md.trades``. Bench-mode trade ids repeat every few thousand frames,
so the loader runs with ``gap_free_trades=False``: everything else (WebSocket client, decoding,
routing, the bounded queue, the batched producer) is the production path.

Printed: frames/s received and records/s published over the measured window (after a warm-up
that also warms the broker's JIT), the lag from the moment a frame was read to the broker's append
of its record (``md.trades`` is created with ``LogAppendTime`` for this, so lags are exact per
record), and where the CPU went: this process, the simulator, the broker, idle.

``--stages`` also measures the loader's path in stages over the same socket (frames read only;
read and decoded; the full loader), to show what each stage costs per frame.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import statistics
import time
import uuid

import msgspec
from bus import cluster  # the sibling benchmarks' helpers
from cpu import CpuMeter, cores, describe

from streamforge import eventloop, gc_policy
from streamforge.bus import (
    Batch,
    BusConsumer,
    ConsumerOptions,
    TopicSpec,
    ensure_topics,
    platform_topics,
)
from streamforge.bus.topics import TRADES
from streamforge.config import Settings, load_settings
from streamforge.config.settings import BinanceSettings
from streamforge.exchanges.binance.normalize import decode_live_frame
from streamforge.exchanges.binance.ws import BinanceStreams, FrameHandler
from streamforge.schemas import RawCodec, now_millis
from streamforge.services.host import ServiceHost
from streamforge.services.loader_ws import LoaderOptions, LoaderWsService
from streamforge.simulator import SimulatorProcess

SYMBOL = "BTCUSDT"
STREAM = f"{SYMBOL.lower()}@aggTrade"


class _Received(msgspec.Struct):
    receive_time: int


async def loader_throughput(
    settings: Settings, seconds: float, warm_up: float, windows: int
) -> tuple[list[float], float, float, int, int]:
    """Run loader-ws; frames/s in each of ``windows`` consecutive windows of ``seconds``, then
    frames/s and records/s over them all, and their span (epoch ms)."""
    options = LoaderOptions(kinds=("aggTrade",), gap_free_trades=False)
    service = LoaderWsService(symbols=(SYMBOL,), options=options)
    host = ServiceHost(service, settings, "bench-ingest", handle_signals=False)
    meter = CpuMeter()
    running = asyncio.create_task(host.run())
    try:
        while service.pipeline is None or not service.pipeline.stats.frames:
            if running.done():
                raise RuntimeError(f"loader-ws ended early: {running.result()}")
            await asyncio.sleep(0.1)
        stats = service.pipeline.stats
        await asyncio.sleep(warm_up)
        cpu, frames, published, start_ms = (
            meter.sample(),
            stats.frames,
            stats.published,
            now_millis(),
        )
        start = time.perf_counter()
        rates = []
        for _ in range(windows):
            window_frames, window_start = stats.frames, time.perf_counter()
            await asyncio.sleep(seconds)
            rates.append((stats.frames - window_frames) / (time.perf_counter() - window_start))
        elapsed = time.perf_counter() - start
        frames, published = stats.frames - frames, stats.published - published
        end_ms = now_millis()
        print(f"cpu cores used:         {describe(cores(cpu, meter.sample()))}")
        print(f"queued at the end:      {service.pipeline.publisher.queued_bytes:,} bytes")
    finally:
        host.request_stop()
        await running
    return rates, frames / elapsed, published / elapsed, start_ms, end_ms


async def lags(settings: Settings, start_ms: int, end_ms: int) -> list[int]:
    """Receive-to-append lag (ms) of every ``md.trades`` record received in the window."""
    decode = msgspec.json.Decoder(_Received).decode
    found: list[int] = []
    options = ConsumerOptions(group_id=None, from_beginning=True, max_records=50_000)

    async def keep(batch: Batch[bytes]) -> None:
        for record, value in zip(batch.records, batch.values, strict=True):
            received = decode(value).receive_time
            if start_ms <= received <= end_ms:
                found.append(record.timestamp - received)

    async with BusConsumer(settings, [settings.topic(TRADES)], RawCodec(), options=options) as md:
        ends = await md.end_offsets()
        for tp, end in ends.items():
            while await md.position(tp) < end:
                await md.poll(keep)
    return found


async def stage_rate(ws_url: str, on_frames: FrameHandler, seconds: float) -> float:
    """Frames/s through ``on_frames`` on one connection, after a one-second warm-up."""
    count = 0

    def counted(frames: list[bytes], receive_ms: int) -> None:
        nonlocal count
        count += len(frames)
        on_frames(frames, receive_ms)

    async with BinanceStreams(ws_url, counted) as streams:
        await streams.add([STREAM])
        await asyncio.sleep(1.0)
        first, start = count, time.perf_counter()
        await asyncio.sleep(seconds)
        return (count - first) / (time.perf_counter() - start)


def _ignore(frames: list[bytes], receive_ms: int) -> None:
    pass


def _decode(frames: list[bytes], receive_ms: int) -> None:
    for frame in frames:
        decode_live_frame(frame, receive_ms)


def market_topics(partitions: int) -> list[TopicSpec]:
    """The platform's topics, ``md.trades`` stamped by the broker (``LogAppendTime``)."""
    append_time = {"message.timestamp.type": "LogAppendTime"}
    return [
        dataclasses.replace(spec, config={**spec.config, **append_time})
        if spec.name == TRADES
        else spec
        for spec in platform_topics(partitions)
    ]


def per_second(what: str, rate: float) -> str:
    """``what: N frames/s (µs of wall time per frame)``."""
    return f"{what + ':':<24}{rate:>10,.0f}/s  ({1e6 / rate:.1f} us each)"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured window")
    parser.add_argument(
        "--windows", type=int, default=1, help="consecutive windows measured (their median too)"
    )
    parser.add_argument("--warm-up", type=float, default=5.0, help="seconds before measuring")
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--stages", action="store_true", help="also measure stage by stage")
    args = parser.parse_args()
    gc_policy.tune_for_throughput()  # as ``streamforge run`` does for every service
    async with cluster() as bootstrap:
        env = {**os.environ, "STREAMFORGE_KAFKA_BOOTSTRAP": bootstrap}
        env["STREAMFORGE_TOPIC_PREFIX"] = f"bench-ingest-{uuid.uuid4().hex[:8]}."
        settings = load_settings(env=env)
        await ensure_topics(settings, market_topics(args.partitions))
        with SimulatorProcess("--bench", "--symbols", SYMBOL) as sim:
            endpoints = BinanceSettings(sim.rest_url, sim.ws_url, sim.data_url)
            settings = dataclasses.replace(settings, binance=endpoints)
            print(
                f"one loader process; {STREAM} from a bench-mode simulator process; "
                f"{settings.kafka.compression}, acks=all, idempotent; {os.cpu_count()} cores"
            )
            if args.stages:
                for name, on_frames in (("frames read", _ignore), ("read + decoded", _decode)):
                    print(per_second(name, await stage_rate(sim.ws_url, on_frames, args.seconds)))
            rates, frames, published, start_ms, end_ms = await loader_throughput(
                settings, args.seconds, args.warm_up, args.windows
            )
        if len(rates) > 1:
            each = ", ".join(f"{rate:,.0f}" for rate in rates)
            print(f"windows of {args.seconds:g} s:        {each} frames/s")
            print(per_second("median window", statistics.median(rates)))
        print(per_second("frames received", frames))
        print(per_second("records published", published))
        found = sorted(await lags(settings, start_ms, end_ms))
        if found:
            print(
                f"receive-to-Kafka lag:   p50 {statistics.median(found):.0f} ms, "
                f"p99 {found[int(len(found) * 0.99)]} ms, max {found[-1]} ms "
                f"({len(found):,} records)"
            )


if __name__ == "__main__":
    eventloop.run(main())
