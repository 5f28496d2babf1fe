"""Backpressure: a store slower than Kafka pauses consumption, and memory stays bounded."""

from __future__ import annotations

import asyncio
import time
from functools import partial
from pathlib import Path

import pytest
from aiokafka.errors import IllegalStateError

from streamforge.bus import BusProducer, ensure_topics, platform_topics
from streamforge.config import Settings
from streamforge.services.store_connector import Sink, SinkOptions
from streamforge.storage.sqlite import SqliteStore
from streamforge.storage.tables import Rows
from tests.services.store_connector.helpers import (
    ensure_data_topic,
    eventually,
    expected_trades,
    publish,
    stored_trades,
    trade,
    with_store,
)

pytestmark = pytest.mark.kafka

#: Injected before every write, so that the store takes about ten times longer than Kafka.
WRITE_DELAY_S = 0.1


class SlowStore(SqliteStore):
    """A real SQLite store whose writes are slowed down by :data:`WRITE_DELAY_S`."""

    def upsert_rows(self, rows: Rows) -> int:
        time.sleep(WRITE_DELAY_S)
        return super().upsert_rows(rows)


async def test_a_slow_store_pauses_consumption_and_holds_at_most_the_bound(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    await ensure_topics(kafka_settings, platform_topics(market_partitions=1))
    settings = with_store(kafka_settings, tmp_path)
    topic = await ensure_data_topic(settings, "q-slow")
    records = [trade(i) for i in range(20_000)]
    ends = await publish(settings, topic, records)
    options = SinkOptions(
        batch_size=1_000, batch_wait_ms=20, poll_records=500, max_held_records=2_500
    )
    uncommitted: list[int] = []  # read from Kafka and not committed, as Kafka sees it
    paused: list[bool] = []

    async def sample(sink: Sink) -> None:
        paused.append(sink.consumer.paused)
        try:
            positions = {tp: await sink.consumer.position(tp) for tp in ends}
        except IllegalStateError:  # not assigned yet
            return
        uncommitted.append(
            sum(position - sink.committed.get(tp, 0) for tp, position in positions.items())
        )

    async with BusProducer(settings) as producer:
        sink = Sink(
            settings,
            [topic],
            "store-connector.q-slow",
            producer,
            partial(SlowStore, tmp_path / "store.db"),
            options=options,
        )
        start = time.monotonic()
        async with sink, sink.running() as running:
            while not (sink.reached(ends) or running.done()):
                await sample(sink)
                await asyncio.sleep(0.005)
        elapsed = time.monotonic() - start

    assert sink.stats.batches >= 20 and elapsed >= 20 * WRITE_DELAY_S
    assert any(paused), "the consumer never paused"
    assert sink.stats.pauses > 1
    assert max(uncommitted) <= options.held_bound
    assert sink.stats.peak_held <= options.held_bound
    assert not sink.consumer.paused  # resumed once stopped
    await eventually(lambda: len(stored_trades(settings)) == len(records), 5)
    assert stored_trades(settings) == expected_trades(records)
