"""loader-history throughput: whole days of bulk files into Kafka (trades/s and klines/s).

Run from the repository root as ``python -m benchmarks.history [--days 3] [--trade-rate 4]
[--parse-workers N]``: about a million aggregate trades of BTCUSDT (three days at four trades a
second) and the 1s klines of the same days, each loaded by a real loader-history job (download,
sha256, CSV decoded by worker processes, publish, checkpoints) from a simulator in its own
process, whose files are built before the clock starts. Uses the cluster in
``STREAMFORGE_KAFKA_BOOTSTRAP`` if set, otherwise starts a local broker.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta

import httpx

from benchmarks.bus import cluster
from streamforge.bus import BusProducer
from streamforge.config import Settings, load_settings
from streamforge.exchanges.binance.bulk import daily_agg_trades_path, daily_klines_path
from streamforge.services import ServiceContext
from streamforge.services.loader_history import Kind, LoaderHistory
from streamforge.services.loader_history.blocks import default_workers
from streamforge.simulator import SimulatorProcess

SYMBOL = "BTCUSDT"
INTERVAL = "1s"
FIRST_DAY = date(2025, 3, 10)


def epoch_ms(day: date) -> int:
    return int(datetime.combine(day, datetime.min.time(), UTC).timestamp() * 1000)


async def warm_up(data_url: str, days: list[date]) -> None:
    """Have the simulator build every file before the clock starts."""
    paths = [daily_agg_trades_path(SYMBOL, day) for day in days]
    paths += [daily_klines_path(SYMBOL, INTERVAL, day) for day in days]
    async with httpx.AsyncClient(base_url=data_url + "/", timeout=600) as client:
        for path in paths:
            (await client.get(path)).raise_for_status()


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def load(
    settings: Settings, kind: Kind, days: list[date], workers: int | None
) -> tuple[int, float, float, float]:
    """Records loaded by one job of ``kind`` over ``days``, the seconds it took, and the CPU
    seconds this process and its parse workers spent (the limit where more cores take the
    parsing)."""
    service = LoaderHistory(
        symbol=SYMBOL,
        start=epoch_ms(days[0]),
        end=epoch_ms(days[-1] + timedelta(days=1)),
        interval=INTERVAL,
        kinds=frozenset({kind}),
        parse_workers=workers,
    )
    queue_id = f"bench-{kind.value}-{uuid.uuid4().hex[:6]}"
    async with BusProducer(settings) as producer:
        ctx = ServiceContext(settings, queue_id, "bench", producer)
        start, cpu, workers_cpu = time.perf_counter(), time.process_time(), _children_cpu()
        finished = await service.run(ctx)  # its workers have ended when it returns
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        workers_cpu = _children_cpu() - workers_cpu
    return finished["records_written"], elapsed, cpu, workers_cpu


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--trade-rate", type=float, default=4.0)
    parser.add_argument(
        "--parse-workers", type=int, default=None, help="default: one per CPU, at most 4"
    )
    args = parser.parse_args()
    days = [FIRST_DAY + timedelta(days=i) for i in range(args.days)]
    sim_args = ["--symbols", SYMBOL, "--trade-rate", str(args.trade_rate)]
    sim_args += ["--genesis", "2025-03-01", "--weight-limit", "10000000"]
    with SimulatorProcess(*sim_args, timeout_s=120) as sim, tempfile.TemporaryDirectory() as tmp:
        await warm_up(sim.data_url, days)
        async with cluster() as bootstrap:
            settings = load_settings(
                env={
                    **os.environ,
                    **sim.env,
                    "STREAMFORGE_KAFKA_BOOTSTRAP": bootstrap,
                    "STREAMFORGE_TOPIC_PREFIX": f"bench-{uuid.uuid4().hex[:6]}.",
                    "STREAMFORGE_DATA_DIR": tmp,
                }
            )
            workers = default_workers() if args.parse_workers is None else args.parse_workers
            print(
                f"{SYMBOL}, {args.days} days of bulk files from {days[0]}, {workers} parse "
                f"workers, compression {settings.kafka.compression}, acks=all, idempotent"
            )
            for kind, unit in ((Kind.TRADES, "trades"), (Kind.KLINES, f"{INTERVAL} klines")):
                records, elapsed, cpu, workers_cpu = await load(settings, kind, days, workers)
                print(
                    f"{unit + ':':<12} {records:>10,} in {elapsed:6.2f} s  "
                    f"{records / elapsed:>10,.0f} {kind.value}/s  (CPU us a record: this "
                    f"process {cpu / records * 1e6:.1f}, workers {workers_cpu / records * 1e6:.1f})"
                )


if __name__ == "__main__":
    asyncio.run(main())
