"""Live frames reach the md.* topics normalized and keyed; bad frames are dead-lettered."""

from __future__ import annotations

import pytest

from streamforge.bus import topics
from streamforge.config import Settings
from streamforge.schemas import (
    BBO,
    AnyMarketRecord,
    BookSnapshot,
    Candle,
    DepthDiff,
    Ticker,
    Trade,
)
from streamforge.simulator import Simulator
from tests.services.loader_ws.helpers import (
    SYMBOLS,
    eventually,
    loader,
    pointed_at,
    reader,
    running,
)

pytestmark = pytest.mark.kafka

CONTRACTS = {
    topics.TRADES: Trade,
    topics.DEPTH: DepthDiff,
    topics.BBO: BBO,
    topics.BOOK: BookSnapshot,
    topics.CANDLES: Candle,
    topics.TICKER: Ticker,
}


async def test_every_md_topic_gets_normalized_records_of_each_symbol(
    settings: Settings, sim: Simulator
) -> None:
    async with running(loader(*SYMBOLS, book_interval=0.5), pointed_at(settings, sim)):
        for topic, contract in CONTRACTS.items():
            async with reader(settings, topic, AnyMarketRecord) as md:
                await md.read_until(lambda values: {v.symbol for v in values} >= set(SYMBOLS))
            for record, value in zip(md.records, md.values, strict=True):
                assert isinstance(value, contract), topic
                assert value.exchange == "binance"
                assert record.key == f"binance:{value.symbol}".encode()
        async with reader(settings, topics.CANDLES, Candle) as candles:
            await candles.read_until(lambda values: {c.interval for c in values} >= {"1m", "5m"})


async def test_a_malformed_frame_is_dead_lettered_and_streaming_goes_on(
    settings: Settings, sim: Simulator
) -> None:
    service = loader("BTCUSDT", kinds=("aggTrade",))
    async with running(service, pointed_at(settings, sim)) as pipe:
        await eventually(lambda: pipe.stats.published >= 5, what="first trades")
        sim.set_faults(malformed_next=1)
        await eventually(lambda: pipe.stats.dead_letters == 1, what="the dead letter")
        published = pipe.stats.published
        await eventually(lambda: pipe.stats.published >= published + 10, what="more trades")
        # The truncated frame was a trade: the next one revealed the gap and REST filled it.
        assert pipe.stats.backfilled >= 1

    async with reader(settings, f"{topics.TRADES}.dlq") as dlq:
        (frame,) = await dlq.read_all()
    (record,) = dlq.records
    headers = dict(record.headers)
    assert frame.startswith(b'{"stream":"btcusdt@aggTrade","data":{')
    assert record.key == b"binance:BTCUSDT"
    assert headers["dlq.source.topic"] == settings.topic(topics.TRADES).encode()
    assert headers["dlq.error"] == b"FrameError"
    assert headers["dlq.reason"].startswith(b"not a combined-stream frame")

    async with reader(settings, topics.TRADES, Trade) as trades:
        ids = [trade.trade_id for trade in await trades.read_all()]
    assert ids == list(range(ids[0], ids[0] + len(ids)))
