"""What the store-connector tests share: records, publishing, the loader's handoff, the store."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from aiokafka.structs import TopicPartition
from prometheus_client import REGISTRY

from streamforge.bus import BusProducer, ensure_topics, workflow_data_topic
from streamforge.bus.topics import EVENTS
from streamforge.config import Settings
from streamforge.config.secrets import secret_url
from streamforge.orchestration.client import ControlClient
from streamforge.schemas import Candle, Event, EventName, Trade, encode
from streamforge.services.host import ServiceHost
from streamforge.services.store_connector import StoreConnector
from streamforge.storage import open_store

T0 = 1_735_689_600_000  # 2025-01-01


def trade(trade_id: int, symbol: str = "BTCUSDT") -> Trade:
    """A trade whose every field depends on its id, so that a mix-up shows."""
    time_ms = T0 + trade_id * 13
    return Trade(
        exchange="binance",
        symbol=symbol,
        trade_id=trade_id,
        price=f"{60_000 + trade_id % 9973 / 100:.8f}",
        qty=f"0.{trade_id % 997:03d}1",
        first_trade_id=trade_id * 3,
        last_trade_id=trade_id * 3 + trade_id % 3,
        trade_time=time_ms,
        buyer_is_maker=trade_id % 2 == 0,
        event_time=time_ms + 1,
        receive_time=time_ms + 7,
    )


def candle(minute: int, symbol: str = "BTCUSDT", interval: str = "1m") -> Candle:
    """A closed candle opening ``minute`` minutes after :data:`T0`."""
    open_time = T0 + minute * 60_000
    base = 60_000 + minute % 500
    return Candle(
        exchange="binance",
        symbol=symbol,
        interval=interval,
        open_time=open_time,
        close_time=open_time + 59_999,
        open=f"{base}.10",
        high=f"{base + 5}.25",
        low=f"{base - 5}.5",
        close=f"{base + 1}.125",
        volume=f"{minute % 37}.0001",
        quote_volume=f"{minute * 61}.2",
        trades=minute % 1000,
        taker_buy_volume="0.5",
        taker_buy_quote_volume="30000.25",
        closed=True,
        event_time=open_time + 60_000,
        receive_time=open_time + 60_010,
    )


def with_store(settings: Settings, tmp_path: Path) -> Settings:
    """``settings`` with a store of their own: a SQLite file under ``tmp_path``."""
    return dataclasses.replace(settings, store_url=secret_url(f"sqlite:///{tmp_path / 'store.db'}"))


def data_topic(settings: Settings, queue_id: str) -> str:
    """The full name of ``wf-<queue_id>-data``."""
    return settings.topic(workflow_data_topic(queue_id).name)


async def publish(
    settings: Settings, topic: str, records: Sequence[Trade | Candle | Any]
) -> dict[TopicPartition, int]:
    """Publish market records keyed by symbol; the end offset of each partition written."""
    async with BusProducer(settings) as producer:
        await producer.publish_many(topic, [(r.key.encode(), encode(r)) for r in records])
        await producer.flush()
        return producer.produced_offsets


async def end_offsets(
    settings: Settings, topic: str, records: Sequence[Trade | Candle | Any]
) -> dict[int, int]:
    """The end offset of each partition of a new ``topic`` once ``records`` are published."""
    ends: dict[int, int] = {}
    async with BusProducer(settings) as producer:
        partitions = {
            key: await producer.partition_for(topic, key.encode())
            for key in {r.key for r in records}
        }
    for record in records:
        partition = partitions[record.key]
        ends[partition] = ends.get(partition, 0) + 1
    return ends


async def publish_raw(settings: Settings, topic: str, values: Sequence[bytes]) -> None:
    """Publish raw values, each keyed as a BTCUSDT record (so in that partition, in order)."""
    async with BusProducer(settings) as producer:
        for value in values:
            await producer.send(topic, value, key=b"binance:BTCUSDT")


async def loader_finished(
    settings: Settings,
    queue_id: str,
    ends: dict[int, int],
    *,
    topic: str | None = None,
    producer: str = "loader-history__test-1",
) -> None:
    """Publish the ``finished`` event of a loader-history run that wrote up to ``ends``."""
    payload = {
        "records_written": sum(ends.values()),
        "end_offsets": {
            "topic": topic or data_topic(settings, queue_id),
            "partitions": {str(p): end for p, end in ends.items()},
        },
    }
    event = Event.new(EventName.FINISHED, queue_id, producer, payload)
    async with BusProducer(settings) as bus:
        await bus.send(settings.topic(EVENTS), encode(event), key=queue_id.encode())


async def connector_events(settings: Settings, queue_id: str, wait_s: float = 60) -> list[Event]:
    """The store-connector's events of ``queue_id``, from the log's start to its terminal one."""
    seen: list[Event] = []

    async def follow() -> None:
        async with ControlClient(settings, from_beginning=True) as client:
            async for event in client.events(queue_id):
                if event.producer.startswith(f"{StoreConnector.name}__"):
                    seen.append(event)
                    if event.is_terminal:
                        return

    await asyncio.wait_for(follow(), wait_s)
    return seen


def host(settings: Settings, queue_id: str, service: StoreConnector) -> ServiceHost:
    """A host running ``service`` in this process."""
    return ServiceHost(service, settings, queue_id, loading_interval=0.2, handle_signals=False)


async def ensure_data_topic(settings: Settings, queue_id: str) -> str:
    """Create ``wf-<queue_id>-data`` as the loader does; its full name."""
    await ensure_topics(settings, [workflow_data_topic(queue_id)])
    return data_topic(settings, queue_id)


# -- the store, read back --------------------------------------------------------------------


def stored_trades(settings: Settings, symbol: str = "BTCUSDT") -> list[tuple[Any, ...]]:
    """The stored trades of ``symbol`` as :func:`trade_row` tuples, by trade id."""
    with open_store(settings.store_url) as store:
        frame = store.trades(symbol, exact=True)
    return [tuple(row) for row in frame[list(TRADE_FIELDS)].itertuples(index=False)]


def stored_candles(settings: Settings, symbol: str = "BTCUSDT") -> list[tuple[Any, ...]]:
    """The stored 1m candles of ``symbol`` as :func:`candle_row` tuples, by open time."""
    with open_store(settings.store_url) as store:
        frame = store.candles(symbol, "1m", exact=True)
    return [tuple(row) for row in frame[list(CANDLE_FIELDS)].itertuples(index=False)]


TRADE_FIELDS = tuple(f for f in Trade.__struct_fields__ if f != "v")
CANDLE_FIELDS = tuple(f for f in Candle.__struct_fields__ if f != "v")


def trade_row(record: Trade) -> tuple[Any, ...]:
    return tuple(getattr(record, f) for f in TRADE_FIELDS)


def candle_row(record: Candle) -> tuple[Any, ...]:
    return tuple(getattr(record, f) for f in CANDLE_FIELDS)


def expected_trades(records: Sequence[Any], symbol: str = "BTCUSDT") -> list[tuple[Any, ...]]:
    """The trades of ``symbol`` among ``records``, as the store returns them."""
    trades = [r for r in records if isinstance(r, Trade) and r.symbol == symbol]
    return [trade_row(t) for t in sorted(trades, key=lambda t: t.trade_id)]


def expected_candles(records: Sequence[Any], symbol: str = "BTCUSDT") -> list[tuple[Any, ...]]:
    """The 1m candles of ``symbol`` among ``records``, as the store returns them."""
    candles = [r for r in records if isinstance(r, Candle) and r.symbol == symbol]
    return [candle_row(c) for c in sorted(candles, key=lambda c: c.open_time)]


def skipped(reason: str) -> float:
    """Records not stored so far in this process, for ``reason`` (``kind`` or ``symbol``)."""
    value = REGISTRY.get_sample_value(
        "streamforge_store_connector_skipped_records_total", {"reason": reason}
    )
    return value or 0.0


async def eventually(check: Callable[[], bool], wait_s: float = 60, what: str = "") -> None:
    """Wait until ``check()`` holds."""
    deadline = time.monotonic() + wait_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        await asyncio.sleep(0.1)
