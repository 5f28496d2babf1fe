"""What the loader-ws tests share: one market, the service under its host pointed at a simulator,
and readers that follow ``md.*`` topics from their beginning."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from streamforge.bus import Batch, BusConsumer, ConsumerOptions
from streamforge.bus.records import RawRecord
from streamforge.config import Settings
from streamforge.config.settings import BinanceSettings
from streamforge.exchanges.binance.ws import StreamOptions
from streamforge.lifecycle import AsyncLifecycle
from streamforge.schemas import Codec, RawCodec
from streamforge.services.host import EXIT_INTERRUPTED, ServiceHost
from streamforge.services.loader_ws import LoaderOptions, LoaderWsService, Pipeline
from streamforge.simulator import SimConfig, Simulator

T = TypeVar("T")

#: Reconnect at once after a disconnect, as the tests force many.
FAST_RECONNECTS = StreamOptions(backoff_initial_s=0.05, backoff_max_s=0.2)
SYMBOLS = ("BTCUSDT", "ETHUSDT")
#: One market for every test: the simulator computes a history once per process and seed, in
#: time proportional to its length, so it starts a few days back.
MARKET = SimConfig(
    seed=7,
    symbols=SYMBOLS,
    trade_rate=10.0,
    genesis=(datetime.now(UTC) - timedelta(days=2)).date(),
)


def pointed_at(settings: Settings, sim: Simulator) -> Settings:
    """``settings`` with the Binance endpoints of ``sim``."""
    binance = BinanceSettings(rest_url=sim.rest_url, ws_url=sim.ws_url, data_url=sim.data_url)
    return dataclasses.replace(settings, binance=binance)


def loader(*symbols: str, **options: Any) -> LoaderWsService:
    """A loader-ws for ``symbols``; ``options`` are :class:`LoaderOptions` fields."""
    options.setdefault("streams", FAST_RECONNECTS)
    return LoaderWsService(symbols=symbols, options=LoaderOptions(**options))


@asynccontextmanager
async def running(
    service: LoaderWsService, settings: Settings, queue_id: str = "q-loader"
) -> AsyncIterator[Pipeline]:
    """Run ``service`` under a :class:`ServiceHost` until the block ends (then stop it).

    Yields its pipeline once it streams; on exit everything it published is acknowledged.
    """
    host = ServiceHost(service, settings, queue_id, loading_interval=0.5, handle_signals=False)
    task = asyncio.create_task(host.run())
    try:
        await eventually(lambda: service.pipeline is not None or task.done())
        assert service.pipeline is not None, task
        yield service.pipeline
    finally:
        host.request_stop()
        code = await asyncio.wait_for(task, 60)
    assert code == EXIT_INTERRUPTED


async def eventually(check: Callable[[], bool], within: float = 60.0, what: str = "") -> None:
    """Wait until ``check()`` holds, polling; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within:g} s: {what or check}")
        await asyncio.sleep(0.05)


class TopicReader(AsyncLifecycle, Generic[T]):
    """Follows one topic from its beginning, keeping every record and its decoded value."""

    def __init__(self, settings: Settings, name: str, codec: Codec[T]) -> None:
        self.name = name
        self.records: list[RawRecord] = []
        self.values: list[T] = []
        self._consumer = BusConsumer(
            settings,
            [settings.topic(name)],
            codec,
            options=ConsumerOptions(group_id=None, from_beginning=True, poll_timeout_ms=100),
        )

    async def start(self) -> None:
        await self._consumer.start()

    async def stop(self) -> None:
        await self._consumer.stop()

    async def read_until(self, done: Callable[[list[T]], bool], within: float = 60.0) -> list[T]:
        """Read on until ``done(values)`` holds; fail after ``within`` seconds."""
        deadline = time.monotonic() + within
        while not done(self.values):
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: not within {within:g} s ({len(self.values)})")
            await self._consumer.poll(self._keep)
        return self.values

    async def read_all(self) -> list[T]:
        """Everything up to the current end of the topic."""
        ends = await self._consumer.end_offsets()
        for tp, end in ends.items():
            while await self._consumer.position(tp) < end:
                await self._consumer.poll(self._keep)
        return self.values

    async def _keep(self, batch: Batch[T]) -> None:
        self.records.extend(batch.records)
        self.values.extend(batch.values)


def reader(settings: Settings, name: str, type_: Any = None) -> TopicReader[Any]:
    """A reader of topic ``name`` decoding values as ``type_`` (raw bytes without one)."""
    codec: Any = RawCodec() if type_ is None else Codec(type_)
    return TopicReader(settings, name, codec)
