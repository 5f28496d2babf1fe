"""A connector killed in the middle of a load resumes from its commits: none lost, none twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from streamforge.bus import client_options, ensure_topics, platform_topics
from streamforge.config import Settings
from streamforge.orchestration.client import ControlClient
from streamforge.schemas import EventName
from streamforge.services.store_connector import StoreConnector
from tests.services.store_connector.helpers import (
    candle,
    connector_events,
    ensure_data_topic,
    expected_candles,
    expected_trades,
    loader_finished,
    publish,
    stored_candles,
    stored_trades,
    trade,
    with_store,
)

pytestmark = pytest.mark.kafka

ROOT = Path(__file__).resolve().parents[3]


def connector_process(settings: Settings, queue_id: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "STREAMFORGE_KAFKA_BOOTSTRAP": settings.kafka.bootstrap,
        "STREAMFORGE_TOPIC_PREFIX": settings.topic_prefix,
        "STREAMFORGE_STORE_URL": settings.store_url.reveal(),
        "STREAMFORGE_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "streamforge", "run", "store-connector"]
    command += ["--queue-id", queue_id, "--loading-interval", "0.2", "--batch-size", "5000"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)


async def first_commit(settings: Settings, queue_id: str) -> None:
    """Wait for a loading event that reports records written, hence committed."""
    async with ControlClient(settings, from_beginning=True) as client:
        async for event in client.events(queue_id):
            if (
                event.producer.startswith(f"{StoreConnector.name}__")
                and event.event is EventName.LOADING
                and event.payload["records_written"] > 0
            ):
                return


async def committed(settings: Settings, group: str) -> int:
    admin = AIOKafkaAdminClient(**client_options(settings))
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return sum(meta.offset for meta in offsets.values())


async def test_a_killed_connector_resumes_without_loss_or_duplicates(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    await ensure_topics(kafka_settings, platform_topics(market_partitions=1))
    settings = with_store(kafka_settings, tmp_path)
    queue_id = "q-kill"
    topic = await ensure_data_topic(settings, queue_id)
    records = [*(candle(m) for m in range(3_000)), *(trade(i) for i in range(300_000))]
    ends = await publish(settings, topic, records)

    doomed = connector_process(settings, queue_id)
    try:
        await asyncio.wait_for(first_commit(settings, queue_id), 120)
    finally:
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.wait()
    done_before = await committed(settings, StoreConnector().group_id(queue_id))
    assert 0 < done_before < len(records), "not killed in the middle of the load"

    await loader_finished(settings, queue_id, {tp.partition: end for tp, end in ends.items()})
    survivor = connector_process(settings, queue_id)
    try:
        assert await asyncio.to_thread(survivor.wait, 240) == 0
    finally:
        survivor.kill()

    assert stored_trades(settings) == expected_trades(records)
    assert stored_candles(settings) == expected_candles(records)
    finished = (await connector_events(settings, queue_id))[-1]
    assert finished.event is EventName.FINISHED
    # The second run started from the first one's last commit.
    assert finished.payload["records_written"] == len(records) - done_before
