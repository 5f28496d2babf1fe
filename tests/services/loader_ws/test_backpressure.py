"""When Kafka takes less than the exchange sends, the queue stays bounded and the excess is shed."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator

import pytest

from streamforge.bus import BusProducer, ProducerOptions
from streamforge.bus.topics import TRADES
from streamforge.config import Settings
from streamforge.exchanges.binance.rest import BinanceRest
from streamforge.services.loader_ws import LoaderOptions, Pipeline, Subscription
from streamforge.simulator import Simulator
from tests.services.loader_ws.helpers import MARKET, pointed_at, reader

pytestmark = pytest.mark.kafka

#: The queue to Kafka may hold this much; a bench-mode flood fills it at once.
BOUND = 64 * 1024
#: No record of the flood is larger (an aggTrade record is about 300 bytes).
RECORD_MAX = 1024


@pytest.fixture
async def flood() -> AsyncIterator[Simulator]:
    """A simulator sending pre-rendered aggTrade frames as fast as the loader reads."""
    async with Simulator(dataclasses.replace(MARKET, bench=True)) as sim:
        yield sim


async def test_a_flood_beyond_kafka_is_shed_and_memory_stays_bounded(
    settings: Settings, flood: Simulator
) -> None:
    settings = pointed_at(settings, flood)
    # A producer that holds little in flight stands for a slow cluster.
    slow = ProducerOptions(max_in_flight_bytes=16 * 1024, max_batch_bytes=16 * 1024)
    options = LoaderOptions(kinds=("aggTrade",), gap_free_trades=False, max_queued_bytes=BOUND)
    async with (
        BusProducer(settings, slow) as producer,
        BinanceRest(flood.rest_url) as rest,
        Pipeline(producer, settings, rest, options) as pipe,
    ):
        await pipe.apply(Subscription(("BTCUSDT",), options.kinds))
        peak = 0
        deadline = time.monotonic() + 60
        while pipe.stats.shed < 5_000 or pipe.stats.published < 200:
            assert time.monotonic() < deadline, pipe.stats
            peak = max(peak, pipe.publisher.queued_bytes)
            await asyncio.sleep(0.005)
    assert peak <= BOUND + RECORD_MAX
    assert pipe.stats.frames >= pipe.stats.published + pipe.stats.shed
    # Everything not shed reached Kafka before the pipeline stopped. (Stopping took most of this
    # test's time: closing a connection that the server floods waits out the close timeout.)
    async with reader(settings, TRADES) as md:
        assert len(await md.read_all()) == pipe.stats.published
