"""Live mode: md.* trades and candles into the store, other kinds skipped, garbage dead-lettered."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer

from streamforge.bus import dlq_topic, ensure_topics, platform_topics, topics
from streamforge.bus.topics import CANDLES, TICKER, TRADES
from streamforge.config import Settings
from streamforge.schemas import BBO, EventName, Ticker, encode
from streamforge.services.host import EXIT_INTERRUPTED
from streamforge.services.store_connector import Mode, StoreConnector
from tests.services.store_connector.helpers import (
    candle,
    connector_events,
    eventually,
    expected_candles,
    expected_trades,
    host,
    publish,
    publish_raw,
    skipped,
    stored_candles,
    stored_trades,
    trade,
    with_store,
)

pytestmark = pytest.mark.kafka


@pytest.fixture
async def settings(kafka_settings: Settings, tmp_path: Path) -> Settings:
    await ensure_topics(kafka_settings, platform_topics(market_partitions=2))
    return with_store(kafka_settings, tmp_path)


def bbo(update_id: int) -> BBO:
    return BBO(
        exchange="binance",
        symbol="BTCUSDT",
        update_id=update_id,
        bid="60000.1",
        bid_qty="1.5",
        ask="60000.2",
        ask_qty="0.3",
        event_time=1_735_689_600_000,
        receive_time=1_735_689_600_001,
    )


def ticker() -> Ticker:
    return Ticker(
        exchange="binance",
        symbol="BTCUSDT",
        open="59000",
        high="61000",
        low="58000",
        last="60000",
        volume="1234.5",
        quote_volume="74070000",
        event_time=1_735_689_600_000,
        receive_time=1_735_689_600_001,
    )


async def test_stores_md_trades_and_candles_and_skips_other_kinds(settings: Settings) -> None:
    queue_id = "live-1"
    trades = [trade(i) for i in range(500)] + [trade(i, "ETHUSDT") for i in range(200)]
    candles = [candle(m) for m in range(60)]
    others = [bbo(i) for i in range(30)]
    skipped_before = skipped("kind")
    service = StoreConnector(mode=Mode.LIVE, topics=(TRADES, CANDLES, topics.BBO, TICKER))
    connector = host(settings, queue_id, service)
    run = asyncio.create_task(connector.run())

    await publish(settings, settings.topic(TRADES), trades)
    await publish(settings, settings.topic(CANDLES), candles)
    await publish(settings, settings.topic(topics.BBO), others)
    await publish(settings, settings.topic(TICKER), [ticker()])
    await eventually(
        lambda: len(stored_trades(settings)) == 500 and len(stored_candles(settings)) == 60,
        what="the live records stored",
    )
    later = [trade(i) for i in range(500, 600)]
    await publish(settings, settings.topic(TRADES), later)  # it keeps following the topics
    await eventually(lambda: len(stored_trades(settings)) == 600, what="later trades")
    await eventually(lambda: skipped("kind") == skipped_before + 31, what="other kinds read")
    connector.request_stop()
    assert await asyncio.wait_for(run, 30) == EXIT_INTERRUPTED

    assert stored_trades(settings) == expected_trades(trades + later)
    assert stored_trades(settings, "ETHUSDT") == expected_trades(trades, "ETHUSDT")
    assert stored_candles(settings) == expected_candles(candles)
    events = await connector_events(settings, queue_id)
    assert events[-1].event is EventName.INTERRUPTED
    counts = events[-1].payload["counts"]
    assert (counts["trades"], counts["candles"], counts["other_kinds"]) == (800, 60, 31)
    assert events[-1].payload["records_written"] == 860


async def test_symbols_filter_the_records_stored(settings: Settings) -> None:
    trades = [trade(i) for i in range(100)] + [trade(i, "ETHUSDT") for i in range(100)]
    skipped_before = skipped("symbol")
    connector = host(settings, "live-2", StoreConnector(mode=Mode.LIVE, symbols=("ETHUSDT",)))
    run = asyncio.create_task(connector.run())
    await publish(settings, settings.topic(TRADES), trades)
    await eventually(lambda: len(stored_trades(settings, "ETHUSDT")) == 100, what="ETH trades")
    await eventually(lambda: skipped("symbol") == skipped_before + 100, what="BTC trades read")
    connector.request_stop()
    assert await asyncio.wait_for(run, 30) == EXIT_INTERRUPTED
    assert stored_trades(settings) == []
    counts = (await connector_events(settings, "live-2"))[-1].payload["counts"]
    assert (counts["trades"], counts["other_symbols"]) == (100, 100)


async def test_malformed_records_go_to_the_dead_letter_topic_and_later_ones_are_stored(
    settings: Settings,
) -> None:
    topic = settings.topic(TRADES)
    garbage = [b"\xff not json", encode({"type": "trade", "symbol": "BTCUSDT"})]
    await publish(settings, topic, [trade(1), trade(2)])
    await publish_raw(settings, topic, garbage)
    await publish(settings, topic, [trade(3), trade(4)])
    connector = host(settings, "live-3", StoreConnector(mode=Mode.LIVE))
    run = asyncio.create_task(connector.run())
    await eventually(lambda: len(stored_trades(settings)) == 4, what="the valid trades")
    connector.request_stop()
    assert await asyncio.wait_for(run, 30) == EXIT_INTERRUPTED

    assert stored_trades(settings) == expected_trades([trade(i) for i in (1, 2, 3, 4)])
    counts = (await connector_events(settings, "live-3"))[-1].payload["counts"]
    assert counts["dead_letters"] == 2
    reader = AIOKafkaConsumer(
        dlq_topic(topic), bootstrap_servers=settings.kafka.bootstrap, auto_offset_reset="earliest"
    )
    await reader.start()
    try:
        fetched = await reader.getmany(timeout_ms=5000)
    finally:
        await reader.stop()
    dead = [record for records in fetched.values() for record in records]
    assert [record.value for record in dead] == garbage
    assert dict(dead[0].headers)["dlq.source.topic"] == topic.encode()
