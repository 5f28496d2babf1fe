"""Bus throughput: produce and consume N trade-sized records (acks=all, idempotent).

Usage: ``python benchmarks/bus.py [--records 1000000] [--partitions 6]``. Uses the cluster in
``STREAMFORGE_KAFKA_BOOTSTRAP`` if set, otherwise starts a local broker for the run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from dev_env.kafka import LocalKafka, shared_dist_env
from streamforge.bus import (
    Batch,
    BusConsumer,
    BusProducer,
    ConsumerOptions,
    TopicSpec,
    ensure_topics,
)
from streamforge.config import Settings, load_settings
from streamforge.schemas import Codec, RawCodec, Trade, encode

SYMBOLS = ["BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT", "ADAUSDT", "DOGEUSDT", "TRXUSDT"]


def make_records(n: int) -> list[tuple[bytes, bytes]]:
    """``n`` encoded trades spread over a few symbols, keyed ``exchange:SYMBOL``."""
    now = int(time.time() * 1000)
    out = []
    for i in range(n):
        symbol = SYMBOLS[i % len(SYMBOLS)]
        trade = Trade(
            exchange="binance",
            symbol=symbol,
            trade_id=i,
            price=f"{60000 + (i % 1000) / 100:.8f}",
            qty="0.01230000",
            first_trade_id=i * 2,
            last_trade_id=i * 2 + 1,
            trade_time=now,
            buyer_is_maker=bool(i & 1),
            event_time=now,
            receive_time=now,
        )
        out.append((trade.key.encode(), encode(trade)))
    return out


@contextlib.asynccontextmanager
async def cluster() -> AsyncIterator[str]:
    bootstrap = os.environ.get("STREAMFORGE_KAFKA_BOOTSTRAP")
    if bootstrap:
        yield bootstrap
        return
    with tempfile.TemporaryDirectory() as tmp:
        broker = LocalKafka(data_dir=Path(tmp), port=0, env=shared_dist_env())
        state = await asyncio.to_thread(broker.start)
        try:
            yield state.bootstrap
        finally:
            await asyncio.to_thread(broker.stop)


async def produce(settings: Settings, topic: str, records: list[tuple[bytes, bytes]]) -> float:
    async with BusProducer(settings) as producer:
        key, value = records[0]
        await producer.send(topic, value, key=key)  # connect and fetch metadata first
        start = time.perf_counter()
        for chunk in range(0, len(records), 10_000):
            await producer.publish_many(topic, records[chunk : chunk + 10_000])
        await producer.flush()
        return time.perf_counter() - start


async def consume(settings: Settings, topic: str, n: int, decode: bool) -> float:
    codec: Codec[Trade] | RawCodec = Codec(Trade) if decode else RawCodec()
    group = f"bench-{uuid.uuid4().hex[:8]}"
    options = ConsumerOptions(group_id=group, max_records=20_000)
    seen = 0

    async def handle(batch: Batch[object]) -> None:
        nonlocal seen
        seen += len(batch)

    async with BusConsumer(settings, [topic], codec, options=options) as consumer:
        start = 0.0
        while seen < n:
            await consumer.poll(handle)
            if not start and seen:
                start = time.perf_counter()
        return time.perf_counter() - start


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=6)
    args = parser.parse_args()
    records = make_records(args.records)
    size = sum(len(v) for _, v in records) / len(records)
    async with cluster() as bootstrap:
        settings = load_settings(env={**os.environ, "STREAMFORGE_KAFKA_BOOTSTRAP": bootstrap})
        topic = f"bench-bus-{uuid.uuid4().hex[:8]}"
        warm_up = f"{topic}-warm-up"
        await ensure_topics(
            settings,
            [TopicSpec(name, partitions=args.partitions) for name in (topic, warm_up)],
        )
        # A fresh JVM runs its JIT compiler for the first seconds: warm the broker up first,
        # as any long-running broker is.
        await produce(settings, warm_up, records)
        print(
            f"records: {args.records:,} of {size:.0f} bytes, {args.partitions} partitions, "
            f"compression {settings.kafka.compression}, acks=all, idempotent"
        )
        elapsed = await produce(settings, topic, records)
        print(f"produce:            {args.records / elapsed:>12,.0f} records/s  ({elapsed:.2f} s)")
        elapsed = await consume(settings, topic, args.records + 1, decode=False)
        print(f"consume (bytes):    {args.records / elapsed:>12,.0f} records/s  ({elapsed:.2f} s)")
        elapsed = await consume(settings, topic, args.records + 1, decode=True)
        print(f"consume (decoded):  {args.records / elapsed:>12,.0f} records/s  ({elapsed:.2f} s)")


if __name__ == "__main__":
    asyncio.run(main())
