"""Sink throughput: market records from Kafka into a fresh SQLite store, committed.

Run from the repository root as ``python -m benchmarks.sink [--trades 500000] [--candles 20000]
[--partitions 3] [--batch-size 20000] [--batch-wait-ms 200]``. Uses the cluster in
``STREAMFORGE_KAFKA_BOOTSTRAP`` if set, otherwise starts a local broker for the run.

A workflow data topic is filled with aggregate trades and 1m candles of a few symbols (random
walks of realistic prices and sizes), then the store-connector's pipeline (the
:class:`~streamforge.services.store_connector.Sink` of the service, in this process, and the
store writer process it starts) reads it into a new SQLite file until its committed offsets
reach the topic's end. A short warm-up run on a
topic of its own comes first (the broker's JIT, imports, the file system cache).

Printed: records/s from the first record read to the last commit, the CPU that this process and
the store writer process used per record, the share of the wall time the store spent writing,
pauses for backpressure; then, as a breakdown, the same records read and decoded only (no
store), and written only (records already in memory, same batches, no Kafka, in this process).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import random
import tempfile
import time
import uuid
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

from aiokafka.structs import TopicPartition

from benchmarks.bus import cluster
from benchmarks.cpu import process_seconds
from streamforge import eventloop, gc_policy
from streamforge.bus import (
    Batch,
    BusConsumer,
    BusProducer,
    ConsumerOptions,
    ensure_topics,
    workflow_data_topic,
)
from streamforge.config import Settings, load_settings
from streamforge.config.secrets import secret_url
from streamforge.schemas import AnyMarketRecord, Candle, Codec, Trade, encode
from streamforge.services.store_connector import Sink, SinkOptions
from streamforge.storage import RecordKind, Store, open_store

SYMBOLS = {"BTCUSDT": 64_000.0, "ETHUSDT": 3_100.0, "SOLUSDT": 145.0, "XRPUSDT": 0.52}
START_MS = 1_717_200_000_000  # 2024-06-01
MINUTE_MS = 60_000


def make_trades(n: int, rng: random.Random) -> list[Trade]:
    """``n`` aggregate trades spread over :data:`SYMBOLS`, each symbol a random walk."""
    prices = dict(SYMBOLS)
    agg_ids = dict.fromkeys(SYMBOLS, 1_000_000_000)
    ids = dict.fromkeys(SYMBOLS, 3_000_000_000)
    symbols = list(SYMBOLS)
    trades = []
    for i in range(n):
        symbol = symbols[i % len(symbols)]
        prices[symbol] *= 1 + rng.gauss(0, 0.0002)
        first = ids[symbol]
        count = rng.randint(1, 4)
        ids[symbol] += count
        agg_ids[symbol] += 1
        time_ms = START_MS + i * 7
        trades.append(
            Trade(
                exchange="binance",
                symbol=symbol,
                trade_id=agg_ids[symbol],
                price=f"{prices[symbol]:.8f}",
                qty=f"{rng.expovariate(20):.8f}",
                first_trade_id=first,
                last_trade_id=first + count - 1,
                trade_time=time_ms,
                buyer_is_maker=rng.random() < 0.5,
                event_time=time_ms + 1,
                receive_time=time_ms + 30,
            )
        )
    return trades


def make_candles(n: int, rng: random.Random) -> list[Candle]:
    """``n`` closed 1m candles spread over :data:`SYMBOLS`."""
    candles = []
    symbols = list(SYMBOLS)
    for i in range(n):
        symbol = symbols[i % len(symbols)]
        base = SYMBOLS[symbol] * (1 + rng.gauss(0, 0.01))
        high, low = base * 1.001, base * 0.999
        volume = rng.uniform(1, 500)
        open_time = START_MS + (i // len(symbols)) * MINUTE_MS
        candles.append(
            Candle(
                exchange="binance",
                symbol=symbol,
                interval="1m",
                open_time=open_time,
                close_time=open_time + MINUTE_MS - 1,
                open=f"{base:.8f}",
                high=f"{high:.8f}",
                low=f"{low:.8f}",
                close=f"{rng.uniform(low, high):.8f}",
                volume=f"{volume:.8f}",
                quote_volume=f"{volume * base:.8f}",
                trades=rng.randint(100, 5000),
                taker_buy_volume=f"{volume / 2:.8f}",
                taker_buy_quote_volume=f"{volume * base / 2:.8f}",
                closed=True,
                event_time=open_time + MINUTE_MS,
                receive_time=open_time + MINUTE_MS + 20,
            )
        )
    return candles


def interleave(trades: list[Trade], candles: list[Candle]) -> list[Trade | Candle]:
    """Candles spread evenly among the trades, as a loader's days alternate kinds."""
    step = max(len(trades) // max(len(candles), 1), 1)
    out: list[Trade | Candle] = []
    pending = iter(candles)
    for i, trade in enumerate(trades):
        if i % step == 0 and (candle := next(pending, None)) is not None:
            out.append(candle)
        out.append(trade)
    out.extend(pending)
    return out


async def fill(
    settings: Settings, queue_id: str, records: Sequence[Trade | Candle]
) -> dict[TopicPartition, int]:
    """Publish ``records`` to ``wf-<queue_id>-data``; its end offsets."""
    spec = workflow_data_topic(queue_id)
    await ensure_topics(settings, [spec])
    topic = settings.topic(spec.name)
    encoded = [(r.key.encode(), encode(r)) for r in records]
    async with BusProducer(settings) as producer:
        for start in range(0, len(encoded), 10_000):
            await producer.publish_many(topic, encoded[start : start + 10_000])
        await producer.flush()
        return producer.produced_offsets


@dataclasses.dataclass
class Run:
    """What a sink run took, from the first record read to the last commit."""

    sink: Sink
    seconds: float
    cpu: float  # this process
    writer_cpu: float  # the store writer process


async def sink_run(
    settings: Settings, queue_id: str, ends: dict[TopicPartition, int], options: SinkOptions
) -> Run:
    """Run the sink over the topic until its end is committed."""
    topic = settings.topic(workflow_data_topic(queue_id).name)
    async with BusProducer(settings) as producer:
        sink = Sink(
            settings,
            [topic],
            f"bench-{queue_id}-{uuid.uuid4().hex[:6]}",
            producer,
            partial(open_store, settings.store_url),
            options=options,
        )
        async with sink, sink.running() as running:
            start = cpu = writer_cpu = 0.0
            while not sink.reached(ends) and not running.done():  # done: it failed, and
                if not start and (sink.held or sink.committed):  # leaving raises its error
                    start, cpu = time.perf_counter(), time.process_time()
                    writer_cpu = process_seconds(sink.writer.pid)
                await asyncio.sleep(0.002)
            writer_cpu = process_seconds(sink.writer.pid) - writer_cpu
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    return Run(sink, elapsed, cpu, writer_cpu)


async def read_only(settings: Settings, queue_id: str, n: int, options: SinkOptions) -> float:
    """Seconds to read and decode ``n`` records of the topic (no store, nothing committed)."""
    seen = 0

    async def count(batch: Batch[Any]) -> None:
        nonlocal seen
        seen += len(batch)

    codec: Codec[AnyMarketRecord] = Codec(AnyMarketRecord)
    consumer_options = ConsumerOptions(
        group_id=f"bench-read-{uuid.uuid4().hex[:6]}", max_records=options.poll_records
    )
    topic = settings.topic(workflow_data_topic(queue_id).name)
    async with BusConsumer(settings, [topic], codec, options=consumer_options) as consumer:
        while not seen:
            await consumer.poll(count)
        start = time.perf_counter()
        while seen < n:
            await consumer.poll(count)
    return time.perf_counter() - start


def write_only(store: Store, records: Sequence[Trade | Candle], batch_size: int) -> float:
    """Seconds to upsert ``records`` in batches of ``batch_size``."""
    start = time.perf_counter()
    for first in range(0, len(records), batch_size):
        store.upsert(records[first : first + batch_size])
    return time.perf_counter() - start


def check_stored(store: Store, records: Sequence[Trade | Candle]) -> None:
    """Every record is in the store, once."""
    for symbol in SYMBOLS:
        trades = sum(1 for r in records if isinstance(r, Trade) and r.symbol == symbol)
        candles = sum(1 for r in records if isinstance(r, Candle) and r.symbol == symbol)
        stored = (
            store.count(RecordKind.TRADES, symbol),
            store.count(RecordKind.CANDLES, symbol, interval="1m"),
        )
        if stored != (trades, candles):
            raise SystemExit(f"{symbol}: stored {stored}, published {(trades, candles)}")


def with_store(settings: Settings, path: Path) -> Settings:
    """``settings`` with the SQLite store at ``path``."""
    return dataclasses.replace(settings, store_url=secret_url(f"sqlite:///{path}"))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trades", type=int, default=500_000)
    parser.add_argument("--candles", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=SinkOptions.batch_size)
    parser.add_argument("--batch-wait-ms", type=int, default=SinkOptions.batch_wait_ms)
    args = parser.parse_args()
    options = SinkOptions(batch_size=args.batch_size, batch_wait_ms=args.batch_wait_ms)
    rng = random.Random(7)
    records = interleave(make_trades(args.trades, rng), make_candles(args.candles, rng))
    warm_up = records[: min(len(records), 100_000)]
    size = sum(len(encode(r)) for r in records[:10_000]) / min(len(records), 10_000)
    gc_policy.tune_for_throughput()  # as ``streamforge run`` does for every service
    async with cluster() as bootstrap:
        with tempfile.TemporaryDirectory() as tmp:
            base = load_settings(
                env={
                    **os.environ,
                    "STREAMFORGE_KAFKA_BOOTSTRAP": bootstrap,
                    "STREAMFORGE_TOPIC_PREFIX": f"bench-{uuid.uuid4().hex[:6]}.",
                }
            )
            warm_ends = await fill(base, "warm-up", warm_up)
            await sink_run(with_store(base, Path(tmp, "warm-up.db")), "warm-up", warm_ends, options)

            ends = await fill(base, "sink", records)
            settings = with_store(base, Path(tmp, "sink.db"))
            print(
                f"records: {len(records):,} ({args.trades:,} trades, {args.candles:,} 1m candles) "
                f"of {size:.0f} bytes, {len(ends)} partitions, batches of {options.batch_size:,} "
                f"or {options.batch_wait_ms} ms, compression {settings.kafka.compression}"
            )
            run = await sink_run(settings, "sink", ends, options)
            stats, elapsed = run.sink.stats, run.seconds
            per_record = 1e6 / stats.records_written
            print(
                f"Kafka -> SQLite, committed: {stats.records_written / elapsed:>10,.0f} records/s"
                f"  ({elapsed:.2f} s; CPU us a record: {run.cpu * per_record:.1f} in this "
                f"process, {run.writer_cpu * per_record:.1f} in the store writer process)"
            )
            print(
                f"  store writing {stats.write_seconds / elapsed:.0%} of the time, "
                f"{stats.batches} batches, {stats.pauses} pauses, at most {stats.peak_held:,} "
                f"records held (bound {options.held_bound:,})"
            )
            with open_store(settings.store_url) as store:
                check_stored(store, records)

            read = await read_only(base, "sink", len(records), options)
            print(f"breakdown: read + decode only:   {len(records) / read:>10,.0f} records/s")
            with open_store(f"sqlite:///{Path(tmp, 'write-only.db')}") as store:
                wrote = await asyncio.to_thread(write_only, store, records, options.batch_size)
            print(f"           write only (SQLite):  {len(records) / wrote:>10,.0f} records/s")


if __name__ == "__main__":
    eventloop.run(main())
