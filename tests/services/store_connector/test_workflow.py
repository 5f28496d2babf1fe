"""Workflow mode: the connector stores exactly the loader's data and finishes where it ends."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from streamforge.bus import ensure_topics, list_topics, platform_topics
from streamforge.config import Settings
from streamforge.schemas import Event, EventName
from streamforge.services.host import EXIT_FINISHED
from streamforge.services.store_connector import StoreConnector
from tests.services.store_connector.helpers import (
    candle,
    connector_events,
    data_topic,
    end_offsets,
    ensure_data_topic,
    eventually,
    expected_candles,
    expected_trades,
    host,
    loader_finished,
    publish,
    stored_candles,
    stored_trades,
    trade,
    with_store,
)

pytestmark = pytest.mark.kafka


@pytest.fixture
async def settings(kafka_settings: Settings, tmp_path: Path) -> Settings:
    await ensure_topics(kafka_settings, platform_topics(market_partitions=1))
    return with_store(kafka_settings, tmp_path)


def workflow_records() -> list[Any]:
    """Trades and candles of BTCUSDT (klines first, as a loader's day) and trades of ETHUSDT."""
    return [
        *(candle(m) for m in range(120)),
        *(trade(i) for i in range(2_000)),
        *(trade(i, "ETHUSDT") for i in range(300)),
    ]


def assert_stored_exactly(settings: Settings, records: list[Any]) -> None:
    assert stored_trades(settings) == expected_trades(records)
    assert stored_trades(settings, "ETHUSDT") == expected_trades(records, "ETHUSDT")
    assert stored_candles(settings) == expected_candles(records)


def finished_of(events: list[Event]) -> Event:
    assert events[-1].event is EventName.FINISHED
    return events[-1]


async def test_keeps_consuming_until_the_loader_has_finished(settings: Settings) -> None:
    queue_id = "q-exact"
    topic = await ensure_data_topic(settings, queue_id)
    records = workflow_records()
    ends = await publish(settings, topic, records)
    run = asyncio.create_task(host(settings, queue_id, StoreConnector()).run())

    await eventually(lambda: len(stored_trades(settings)) == 2_000, what="every trade stored")
    await asyncio.sleep(1.5)
    assert not run.done(), "finished before the loader did"

    await loader_finished(settings, queue_id, {tp.partition: end for tp, end in ends.items()})
    assert await asyncio.wait_for(run, 60) == EXIT_FINISHED
    assert_stored_exactly(settings, records)
    finished = finished_of(await connector_events(settings, queue_id))
    assert finished.payload["records_written"] == len(records)
    assert finished.payload["counts"]["trades"] == 2_300
    assert finished.payload["counts"]["candles"] == 120
    assert finished.payload["progress"] == 1.0
    assert finished.payload["committed_offsets"] == {
        "topic": topic,
        "partitions": {str(tp.partition): end for tp, end in ends.items()},
    }


async def test_finishes_when_its_committed_offsets_reach_the_loaders_end_offsets(
    settings: Settings,
) -> None:
    queue_id = "q-ends"
    topic = await ensure_data_topic(settings, queue_id)
    records = workflow_records()
    ends = await end_offsets(settings, topic, records)
    await loader_finished(settings, queue_id, ends)  # told the end before the data is there
    run = asyncio.create_task(host(settings, queue_id, StoreConnector()).run())

    await publish(settings, topic, records[:1_000])
    await eventually(lambda: len(stored_trades(settings)) == 880, what="the first records")
    await asyncio.sleep(1.5)
    assert not run.done(), "finished before its committed offsets reached the end offsets"

    await publish(settings, topic, records[1_000:])
    assert await asyncio.wait_for(run, 60) == EXIT_FINISHED
    assert_stored_exactly(settings, records)
    events = await connector_events(settings, queue_id)
    loading = [e.payload for e in events if e.event is EventName.LOADING]
    progress = [p["progress"] for p in loading if "progress" in p]
    assert any(0 < p < 1 for p in progress), progress  # committed share of the end offsets
    assert progress == sorted(progress)
    assert finished_of(events).payload["records_written"] == len(records)


async def test_an_empty_range_finishes_at_once_on_a_topic_it_creates(settings: Settings) -> None:
    queue_id = "q-empty"
    topic = data_topic(settings, queue_id)
    assert topic not in await list_topics(settings)
    run = asyncio.create_task(host(settings, queue_id, StoreConnector()).run())

    for _ in range(100):  # the connector creates the loader's topic if it is not there yet
        if topic in await list_topics(settings):
            break
        await asyncio.sleep(0.1)
    assert topic in await list_topics(settings)
    await loader_finished(settings, queue_id, {0: 0, 1: 0, 2: 0})
    assert await asyncio.wait_for(run, 60) == EXIT_FINISHED
    finished = finished_of(await connector_events(settings, queue_id))
    assert finished.payload["records_written"] == 0
    assert stored_trades(settings) == []


async def test_the_newest_loader_end_wins_and_other_events_are_ignored(
    settings: Settings,
) -> None:
    queue_id = "q-retried"
    topic = await ensure_data_topic(settings, queue_id)
    records = workflow_records()
    ends = await end_offsets(settings, topic, records)
    await publish(settings, topic, records)
    unreachable = {partition: end + 50 for partition, end in ends.items()}
    await loader_finished(settings, "q-other", {0: 0})  # another queue's loader
    await loader_finished(settings, queue_id, {}, producer="dummy-service__test-1")
    await loader_finished(settings, queue_id, unreachable)  # a first attempt of the loader
    await loader_finished(settings, queue_id, ends)  # its retry, the one that counts

    code = await asyncio.wait_for(host(settings, queue_id, StoreConnector()).run(), 60)
    assert code == EXIT_FINISHED
    assert_stored_exactly(settings, records)
