"""A store that fails stops the sink with the store's error; nothing it did not write is
committed, and the next run stores every record exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest
from aiokafka.structs import TopicPartition

from streamforge.bus import BusProducer, ensure_topics, platform_topics
from streamforge.config import Settings
from streamforge.services.store_connector import Sink, SinkOptions
from streamforge.storage import RecordKind, Store, StoreError, open_store
from streamforge.storage.sqlite import SqliteStore
from streamforge.storage.tables import Rows
from tests.services.store_connector.helpers import (
    ensure_data_topic,
    expected_trades,
    publish,
    stored_trades,
    trade,
    with_store,
)

pytestmark = pytest.mark.kafka

GROUP = "store-connector.q-failing"
OPTIONS = SinkOptions(batch_size=1_000, batch_wait_ms=20, poll_records=500)


class FailsAfterOneWrite(SqliteStore):
    """A real SQLite store whose second write fails before it writes anything."""

    writes = 0

    def upsert_rows(self, rows: Rows) -> int:
        self.writes += 1
        if self.writes > 1:
            raise StoreError("the disk is full (injected)")
        return super().upsert_rows(rows)


def stored_count(settings: Settings) -> int:
    with open_store(settings.store_url) as store:
        return store.count(RecordKind.TRADES, "BTCUSDT")


async def run_until_done(sink: Sink, ends: dict[TopicPartition, int]) -> None:
    """Run ``sink`` until it has committed ``ends`` (raising its error if it fails first)."""
    async with sink, sink.running() as running:
        while not sink.reached(ends) and not running.done():
            await asyncio.wait({running}, timeout=0.01)


async def test_a_failing_store_stops_the_sink_and_the_next_run_stores_the_rest(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    await ensure_topics(kafka_settings, platform_topics(market_partitions=1))
    settings = with_store(kafka_settings, tmp_path)
    topic = await ensure_data_topic(settings, "q-failing")
    records = [trade(i) for i in range(5_000)]
    ends = await publish(settings, topic, records)

    async with BusProducer(settings) as producer:

        def sink(open_store: Callable[[], Store]) -> Sink:
            return Sink(settings, [topic], GROUP, producer, open_store, options=OPTIONS)

        failing = sink(partial(FailsAfterOneWrite, tmp_path / "store.db"))
        with pytest.raises(StoreError, match="injected"):
            await asyncio.wait_for(run_until_done(failing, ends), 60)

        written = stored_count(settings)
        assert 0 < written < len(records)
        assert sum(failing.committed.values()) == written  # committed exactly what it wrote

        survivor = sink(partial(open_store, settings.store_url))
        await asyncio.wait_for(run_until_done(survivor, ends), 60)

    assert survivor.stats.records_written == len(records) - written
    assert stored_trades(settings) == expected_trades(records)
