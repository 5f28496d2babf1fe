"""Console under load: the market screen following md.* records produced at a fixed rate.

Run from the repository root as ``python -m benchmarks.console [--rates 5000 20000]
[--seconds 10] [--warm-up 5] [--frame-ms 50] [--partitions 6] [--gc-freeze]``. Uses the cluster
in ``STREAMFORGE_KAFKA_BOOTSTRAP`` if set, otherwise starts a local broker for the run.

A producer process publishes a live-like mix of market records for four symbols (random-walk
prices, ids counting up) at each rate in turn, paced every 5 ms: trades and BBOs mostly, plus
1m/5m kline updates, 20-level book snapshots and tickers (made and encoded before the clock
starts). This process is the console: an app showing :class:`~tui.screens.market.MarketScreen`
with its own feed, on a terminal driver that takes every screen update as the ANSI text a
terminal would get and discards it (rendering is paid in full, no tty is needed).

Printed for each rate, over the measured window after its warm-up: records/s processed by the
console (read from Kafka and folded in, or dropped as a BBO superseded within the same poll),
frames/s drawn, the delay from Kafka receipt to screen update (a poll of the feed returning
records, to the end of the screen refresh of the frame that showed them; p50, p99 and max,
weighted by records), the consumer lag at the end (near zero if the console kept up), the full
garbage collections and their longest pause, and CPU in cores: the console process, the
producer, everything else (the broker, other users of the machine), with the load average, as
the machine may be shared.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import os
import random
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

from textual.app import App
from textual.drivers.headless_driver import HeadlessDriver
from textual.worker import WorkerCancelled

from benchmarks.bus import cluster
from streamforge.bus import BusProducer, ensure_topics, platform_topics
from streamforge.bus.topics import BBO as BBO_TOPIC
from streamforge.bus.topics import BOOK, CANDLES, TICKER, TRADES
from streamforge.config import Settings, load_settings
from streamforge.schemas import BBO, BookSnapshot, Candle, MarketRecord, Ticker, Trade, encode
from tui.screens.market import MarketScreen

SYMBOLS = {"BTCUSDT": 64_000.0, "ETHUSDT": 3_100.0, "SOLUSDT": 145.0, "XRPUSDT": 0.52}
#: Share of each kind of record in the mix.
MIX = ((Trade, 0.50), (BBO, 0.46), (Candle, 0.02), (BookSnapshot, 0.01), (Ticker, 0.01))
TOPICS = {Trade: TRADES, BBO: BBO_TOPIC, Candle: CANDLES, BookSnapshot: BOOK, Ticker: TICKER}
TERMINAL = (160, 50)
#: Seconds between the producer's sends.
TICK_S = 0.005
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class LiveMarket:
    """Live-like records of :data:`SYMBOLS`: one random walk per symbol, ids counting up, and
    klines that keep their open and widen their high and low until the next interval."""

    def __init__(self, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        self.prices = dict(SYMBOLS)
        self.ids = dict.fromkeys(SYMBOLS, 1_000_000)
        #: (symbol, interval) -> open time, open, high, low of the kline in progress.
        self.klines: dict[tuple[str, str], tuple[int, float, float, float]] = {}
        self.kinds = [kind for kind, _ in MIX]
        self.weights = [weight for _, weight in MIX]

    def records(self, n: int) -> list[MarketRecord]:
        """The next ``n`` records, timestamped now."""
        now = int(time.time() * 1000)
        kinds = self.rng.choices(self.kinds, self.weights, k=n)
        symbols = self.rng.choices(list(SYMBOLS), k=n)
        return [
            self._record(kind, symbol, now) for kind, symbol in zip(kinds, symbols, strict=True)
        ]

    def _record(self, kind: type, symbol: str, now: int) -> MarketRecord:
        rng = self.rng
        self.prices[symbol] *= 1 + rng.gauss(0, 0.00005)
        price = self.prices[symbol]
        tick = 10 ** (len(str(int(price))) - 6)
        self.ids[symbol] += 1
        uid = self.ids[symbol]
        if kind is Trade:
            return Trade(
                exchange="binance",
                symbol=symbol,
                trade_id=uid,
                price=f"{price:.8f}",
                qty=f"{rng.expovariate(20):.8f}",
                first_trade_id=uid,
                last_trade_id=uid,
                trade_time=now,
                buyer_is_maker=rng.random() < 0.5,
                event_time=now,
                receive_time=now,
            )
        if kind is BBO:
            return BBO(
                exchange="binance",
                symbol=symbol,
                update_id=uid,
                bid=f"{price - tick:.8f}",
                bid_qty=f"{rng.uniform(0.1, 5):.8f}",
                ask=f"{price + tick:.8f}",
                ask_qty=f"{rng.uniform(0.1, 5):.8f}",
                event_time=now,
                receive_time=now,
            )
        if kind is BookSnapshot:
            return BookSnapshot(
                exchange="binance",
                symbol=symbol,
                last_update_id=uid,
                depth=20,
                bids=[
                    (f"{price - tick * i:.8f}", f"{rng.uniform(0.1, 9):.8f}") for i in range(1, 21)
                ],
                asks=[
                    (f"{price + tick * i:.8f}", f"{rng.uniform(0.1, 9):.8f}") for i in range(1, 21)
                ],
                timestamp=now,
            )
        if kind is Candle:
            interval, size = rng.choice((("1m", 60_000), ("5m", 300_000)))
            open_time = now - now % size
            started, opened, high, low = self.klines.get(
                (symbol, interval), (-1, price, price, price)
            )
            if started != open_time:
                opened = high = low = price
            high, low = max(high, price), min(low, price)
            self.klines[symbol, interval] = (open_time, opened, high, low)
            return Candle(
                exchange="binance",
                symbol=symbol,
                interval=interval,
                open_time=open_time,
                close_time=open_time + size - 1,
                open=f"{opened:.8f}",
                high=f"{high:.8f}",
                low=f"{low:.8f}",
                close=f"{price:.8f}",
                volume="12.50000000",
                quote_volume=f"{12.5 * price:.8f}",
                trades=100,
                taker_buy_volume="6.00000000",
                taker_buy_quote_volume=f"{6 * price:.8f}",
                closed=False,
                event_time=now,
                receive_time=now,
            )
        return Ticker(
            exchange="binance",
            symbol=symbol,
            open=f"{SYMBOLS[symbol]:.8f}",
            high=f"{price * 1.02:.8f}",
            low=f"{price * 0.98:.8f}",
            last=f"{price:.8f}",
            volume="15234.12300000",
            quote_volume=f"{15234.123 * price:.8f}",
            event_time=now,
            receive_time=now,
        )


def produce(bootstrap: str, prefix: str, rate: float, seconds: float) -> None:
    """Publish :class:`LiveMarket` records at ``rate`` a second for ``seconds`` (run as a process
    of its own). The records are made and encoded first, then ``ready`` is printed, so that
    making them costs nothing while they are paced out."""
    settings = load_settings(
        env={"STREAMFORGE_KAFKA_BOOTSTRAP": bootstrap, "STREAMFORGE_TOPIC_PREFIX": prefix}
    )
    encoded = [
        (settings.topic(TOPICS[type(record)]), record.key.encode(), encode(record))
        for record in LiveMarket().records(int(rate * seconds))
    ]
    asyncio.run(_produce(settings, encoded, rate))


async def _produce(
    settings: Settings, records: list[tuple[str, bytes, bytes]], rate: float
) -> None:
    async with BusProducer(settings) as producer:
        topic, key, value = records[0]
        await producer.send(topic, value, key=key)  # connected, with metadata, before the clock
        print("ready", flush=True)
        start = time.monotonic()
        sent = 1
        while sent < len(records):
            due = min(int((time.monotonic() - start) * rate), len(records))
            by_topic: dict[str, list[tuple[bytes | None, bytes]]] = {}
            for topic, key, value in records[sent:due]:
                by_topic.setdefault(topic, []).append((key, value))
            for topic, chunk in by_topic.items():
                await producer.publish_many(topic, chunk)
            sent = max(sent, due)
            await asyncio.sleep(TICK_S)
        await producer.flush()


class DiscardingTerminal(HeadlessDriver):
    """A terminal that takes each screen update as ANSI text and drops it: unlike the headless
    driver, the app renders its output in full."""

    @property
    def is_headless(self) -> bool:
        return False

    def write(self, data: str) -> None:
        pass


class ConsoleApp(App[None]):
    """The console reduced to its market screen."""

    def __init__(self, market: MarketScreen) -> None:
        super().__init__(driver_class=DiscardingTerminal)
        self.market = market

    def on_mount(self) -> None:
        self.push_screen(self.market)


class GcPauses:
    """The pauses of this process's full garbage collections (a suspect for the delay's tail)."""

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self._started = 0.0
        gc.callbacks.append(self._note)

    def _note(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif info["generation"] == 2:
            self.pauses.append(time.perf_counter() - self._started)

    def describe(self) -> str:
        """The full collections since the last call: how many, and the longest pause."""
        pauses, self.pauses = self.pauses, []
        longest = f", longest {1000 * max(pauses):.0f} ms" if pauses else ""
        return f"{len(pauses)} full garbage collections{longest}"


@dataclasses.dataclass(frozen=True)
class Sample:
    """Counters at one moment of a measurement."""

    wall: float
    processed: int
    console_cpu: float
    producer_cpu: float
    machine_busy: float

    @classmethod
    def take(cls, screen: MarketScreen, producer_pid: int | None) -> Sample:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        idle = fields[3] + fields[4]
        return cls(
            wall=time.monotonic(),
            processed=screen.feed.stats.messages_total,
            console_cpu=time.process_time(),
            producer_cpu=_process_cpu(producer_pid) if producer_pid else 0.0,
            machine_busy=(sum(fields) - idle) / _CLOCK_TICKS,
        )


def _process_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


async def until(condition: Callable[[], bool], within: float, what: str) -> None:
    """Wait for ``condition``; fail naming ``what`` after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def measure(
    screen: MarketScreen,
    bootstrap: str,
    rate: float,
    warm_up: float,
    seconds: float,
    gc_pauses: GcPauses,
) -> str:
    """One rate: produce for warm-up and window, report the window."""
    call = f"produce({bootstrap!r}, {screen.settings.topic_prefix!r}, {rate}, {warm_up + seconds})"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        f"from benchmarks.console import produce; {call}",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        if await process.stdout.readline() != b"ready\n":
            raise RuntimeError("the producer failed")
        await asyncio.sleep(warm_up)
        screen.delays.clear()
        gc_pauses.describe()
        before = Sample.take(screen, process.pid)
        await asyncio.sleep(seconds)
        after = Sample.take(screen, process.pid)
        collections = gc_pauses.describe()
        delays = screen.delays
        percentiles = [delays.percentile(q) for q in (0.5, 0.99, 1.0)]
        frames = delays.frames
        lag = screen.feed.stats.lag
    finally:
        await process.wait()
    wall = after.wall - before.wall
    console = (after.console_cpu - before.console_cpu) / wall
    producer = (after.producer_cpu - before.producer_cpu) / wall
    busy = (after.machine_busy - before.machine_busy) / wall
    p50, p99, worst = (f"{1000 * d:.0f} ms" if d is not None else "-" for d in percentiles)
    processed = (after.processed - before.processed) / wall
    return (
        f"{rate:>8,.0f}/s target: console processed {processed:,.0f} records/s, "
        f"{frames / wall:.1f} frames/s; Kafka receipt -> screen p50 {p50}, p99 {p99}, "
        f"max {worst}; lag at end {lag:,}; {collections}\n"
        f"{'':>18}cpu cores: console {console:.2f} ({100 * console:.0f} %), "
        f"producer {producer:.2f}, other (broker, other users) {busy - console - producer:.2f}; "
        f"machine busy {busy:.2f} of {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}"
    )


async def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rates", type=float, nargs="+", default=[5000, 20000])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warm-up", type=float, default=5.0)
    parser.add_argument("--frame-ms", type=float, default=50.0, help="the console's default")
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument(
        "--gc-freeze",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="exempt what exists once the console runs from full garbage collections (shorter "
        "pauses); off by default, as the console does not do it",
    )
    args = parser.parse_args(argv)
    async with cluster() as bootstrap:
        settings = load_settings(
            env={
                **os.environ,
                "STREAMFORGE_KAFKA_BOOTSTRAP": bootstrap,
                "STREAMFORGE_TOPIC_PREFIX": f"bench-console-{uuid.uuid4().hex[:8]}.",
            }
        )
        await ensure_topics(settings, platform_topics(args.partitions))
        screen = MarketScreen(settings, list(SYMBOLS), frame_s=args.frame_ms / 1000)
        app = ConsoleApp(screen)
        gc_pauses = GcPauses()
        running = asyncio.create_task(app.run_async(size=TERMINAL))
        # A running app captures print(): the report is printed once it has stopped.
        report = [
            f"{len(SYMBOLS)} symbols, {args.partitions} partitions, frames every "
            f"{args.frame_ms:g} ms, terminal {TERMINAL[0]}x{TERMINAL[1]}, "
            f"{args.seconds:g} s measured after {args.warm_up:g} s, "
            f"start-up objects {'frozen' if args.gc_freeze else 'not frozen'} (gc.freeze)"
        ]
        try:
            await until(lambda: screen.feed.stats.connected, 60, "the console to connect")
            if args.gc_freeze:
                gc.freeze()
            for rate in args.rates:
                window = (args.warm_up, args.seconds)
                report.append(await measure(screen, bootstrap, rate, *window, gc_pauses))
                await until(lambda: screen.feed.stats.lag == 0, 60, "the console to catch up")
        finally:
            for worker in app.workers.cancel_node(screen):  # the feed, before the broker goes
                with contextlib.suppress(WorkerCancelled):
                    await worker.wait()
            app.exit()
            await running
            print("\n".join(report))


if __name__ == "__main__":
    asyncio.run(main())
