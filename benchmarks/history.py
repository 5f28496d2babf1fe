"""loader-history throughput: whole days of bulk files into Kafka (trades/s and klines/s).

Run from the repository root as ``python -m benchmarks.history [--days 3] [--trade-rate 4]
[--parse-workers N] [--no-warm-up]``: about a million aggregate trades of BTCUSDT (three days at
four trades a second) and the 1s klines of the same days, each loaded by a real loader-history
job (download, sha256, CSV blocks decoded by the parse workers, publish, checkpoints) from a
simulator in its own process, whose files are built before the clock starts, after a load of the
first day's trades that warms up the broker. Uses the cluster in ``STREAMFORGE_KAFKA_BOOTSTRAP``
if set, otherwise starts a local broker.

Trade blocks are framed by the compiled extension in threads of the loader's process where it is
installed (``STREAMFORGE_NATIVE=0`` measures the Python path in worker processes instead); the
header line says which. Printed for each job: records/s, CPU microseconds a record in this
process and in worker processes, and the cores that each part of the machine used while the job
ran (this process, the worker processes, the broker, the simulator, the machine as a whole).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from benchmarks.bus import cluster
from benchmarks.cpu import CpuMeter, cores, describe
from streamforge.bus import BusProducer
from streamforge.config import Settings, load_settings
from streamforge.exchanges.binance.bulk import (
    daily_agg_trades_path,
    daily_klines_path,
    native_framing,
)
from streamforge.services.base import ServiceContext
from streamforge.services.loader_history.blocks import default_workers
from streamforge.services.loader_history.plan import Kind
from streamforge.services.loader_history.service import LoaderHistory
from streamforge.simulator import SimulatorProcess

SYMBOL = "BTCUSDT"
INTERVAL = "1s"
FIRST_DAY = date(2025, 3, 10)
SAMPLE_EVERY_S = 0.25


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


@dataclass
class Load:
    """One job's figures: records, seconds, CPU seconds of this process and of the parse
    workers, and the cores each part used while it ran (None if too short to tell)."""

    records: int
    seconds: float
    cpu: float
    workers_cpu: float
    cores: dict[str, float] | None


async def _sample_while(job: asyncio.Future[Any], meter: CpuMeter) -> dict[str, float] | None:
    """Cores used from the job's start to its last sample (None if it took less than one)."""
    first = last = meter.sample()
    while not job.done():
        await asyncio.wait([job], timeout=SAMPLE_EVERY_S)
        if not job.done():
            last = meter.sample()
    return cores(first, last) if last is not first else None


async def load(settings: Settings, kind: Kind, days: list[date], workers: int | None) -> Load:
    """Load ``days`` of ``kind`` with one job and measure it."""
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
        job = asyncio.ensure_future(service.run(ctx))
        used = await _sample_while(job, CpuMeter())
        finished = await job  # its workers have ended when it returns
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        workers_cpu = _children_cpu() - workers_cpu
    return Load(finished["records_written"], elapsed, cpu, workers_cpu, used)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--trade-rate", type=float, default=4.0)
    parser.add_argument(
        "--parse-workers", type=int, default=None, help="default: one per CPU, at most 4"
    )
    parser.add_argument(
        "--no-warm-up",
        dest="warm_up",
        action="store_false",
        help="measure from a broker just started (by default one day's trades go first)",
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
            framing = "the compiled extension" if native_framing() else "Python"
            print(
                f"{SYMBOL}, {args.days} days of bulk files from {days[0]}, {workers} parse "
                f"workers, trades framed by {framing}, compression "
                f"{settings.kafka.compression}, acks=all, idempotent"
            )
            if args.warm_up:
                # A broker just started is still loading classes and compiling: warm it up
                # with the first day's trades, as a broker that has been running would be.
                run = await load(settings, Kind.TRADES, days[:1], workers)
                print(f"{'warm-up:':<12} {run.records:>10,} in {run.seconds:6.2f} s (not counted)")
            for kind, unit in ((Kind.TRADES, "trades"), (Kind.KLINES, f"{INTERVAL} klines")):
                run = await load(settings, kind, days, workers)
                print(
                    f"{unit + ':':<12} {run.records:>10,} in {run.seconds:6.2f} s  "
                    f"{run.records / run.seconds:>10,.0f} {kind.value}/s  (CPU us a record: "
                    f"this process {run.cpu / run.records * 1e6:.1f}, "
                    f"workers {run.workers_cpu / run.records * 1e6:.1f})"
                )
                if run.cores is not None:
                    print(f"{'':<12} cores used: {describe(run.cores)}")


if __name__ == "__main__":
    asyncio.run(main())
