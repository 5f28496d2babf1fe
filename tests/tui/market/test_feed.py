"""The market feed: coalesced updates, md.book from its beginning, the lag, reconnection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import pytest
from textual.message import Message

from streamforge.bus import BusProducer
from streamforge.bus.topics import BOOK, TRADES
from streamforge.config import Settings, load_settings
from streamforge.schemas import MarketRecord, encode
from tests.tui.market.records import T0, book, trade
from tests.tui.waiting import eventually
from tui.feed import Backoff, LinkState
from tui.market import MarketFeed, MarketState, MarketUpdated


class Inbox:
    """A message target that keeps what the feed posts."""

    def __init__(self) -> None:
        self.updates: list[MarketUpdated] = []

    def post_message(self, message: Message) -> bool:
        assert isinstance(message, MarketUpdated)
        self.updates.append(message)
        return True

    @property
    def with_changes(self) -> list[MarketUpdated]:
        return [update for update in self.updates if update.changed]

    def states(self) -> list[LinkState]:
        return [update.status.state for update in self.updates if not update.changed]


Runner = Callable[[MarketFeed], Awaitable[None]]


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
async def run_feed(inbox: Inbox) -> AsyncIterator[Runner]:
    """Start feeds in the background; they are cancelled at the end of the test."""
    tasks: list[asyncio.Task[None]] = []

    async def start(feed: MarketFeed) -> None:
        tasks.append(asyncio.create_task(feed.run(inbox)))

    yield start
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def publish(settings: Settings, topic: str, records: Sequence[MarketRecord]) -> None:
    async with BusProducer(settings) as producer:
        await producer.publish_many(
            settings.topic(topic), [(r.key.encode(), encode(r)) for r in records]
        )
        await producer.flush()


@pytest.mark.kafka
async def test_a_burst_of_records_makes_one_update_per_frame_not_one_per_record(
    settings: Settings, inbox: Inbox, run_feed: Runner
) -> None:
    feed = MarketFeed(settings, MarketState(["BTCUSDT"]), frame_s=0.2)
    await run_feed(feed)
    await eventually(lambda: feed.stats.connected, "the feed to connect")
    trades = [trade("BTCUSDT", i, 100.0 + i % 7, "1", buy=True, at=T0 + i) for i in range(3000)]
    unwatched = [trade("ETHUSDT", i, 10.0, "1", buy=False, at=T0 + i) for i in range(100)]
    for chunk in range(0, len(trades), 500):
        await publish(settings, TRADES, trades[chunk : chunk + 500] + unwatched)
    await eventually(lambda: feed.stats.messages_total == 3600, "every record")
    await eventually(lambda: len(feed.state.symbols["BTCUSDT"].trades) == 200, "the tape")

    updates = inbox.with_changes
    assert {symbol for update in updates for symbol in update.changed} == {"BTCUSDT"}
    assert len(updates) < 3000 / 100, "records are coalesced into frames"
    arrivals = [receipt.at for update in updates for receipt in update.receipts]
    assert arrivals == sorted(arrivals)
    assert sum(receipt.records for update in updates for receipt in update.receipts) <= 3600
    assert feed.state.symbols["BTCUSDT"].trades[-1].trade_id == 2999
    assert feed.state.last_event_ms == T0 + 2999
    await eventually(lambda: feed.stats.lag == 0, "the lag to be checked")
    assert inbox.states()[:2] == [LinkState.CONNECTING, LinkState.CONNECTED]


@pytest.mark.kafka
async def test_books_are_read_from_the_beginning_and_live_topics_from_the_end(
    settings: Settings, inbox: Inbox, run_feed: Runner
) -> None:
    books = [book("BTCUSDT", 100 + i, 64000.0 + i, at=T0 + i) for i in range(5)]
    await publish(settings, BOOK, [*books, book("ETHUSDT", 7, 3000.0)])
    await publish(settings, TRADES, [trade("BTCUSDT", 1, 64000.0, "1", buy=True, at=T0)])
    feed = MarketFeed(settings, MarketState(["BTCUSDT"]))
    await run_feed(feed)
    await eventually(lambda: feed.state.symbols["BTCUSDT"].book.update_id == 104, "the book")
    assert feed.state.books["ETHUSDT"].last_update_id == 7, "every symbol's newest book is kept"
    assert not feed.state.symbols["BTCUSDT"].trades, "trades from before the start are not read"
    assert feed.stats.messages_total == 6
    feed.state.add("ETHUSDT")
    assert feed.state.symbols["ETHUSDT"].book.update_id == 7


async def test_an_unreachable_broker_is_reported_and_retried_with_backoff(
    inbox: Inbox, run_feed: Runner
) -> None:
    settings = load_settings(env={"STREAMFORGE_KAFKA_BOOTSTRAP": "127.0.0.1:1"})
    feed = MarketFeed(settings, backoff=Backoff(initial=0.05, maximum=0.1))
    await run_feed(feed)
    await eventually(
        lambda: inbox.states().count(LinkState.DISCONNECTED) >= 3, "three failed attempts"
    )
    down = [u.status for u in inbox.updates if u.status.state is LinkState.DISCONNECTED]
    assert down[0].detail == "cannot reach Kafka at 127.0.0.1:1"
    assert [status.retry_in for status in down[:3]] == [0.05, 0.1, 0.1]
    assert LinkState.CONNECTED not in inbox.states()
    stats = feed.stats
    assert not stats.connected
    assert stats.detail == "cannot reach Kafka at 127.0.0.1:1"
    assert stats.reconnects == 0


def test_the_frame_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="frame_s"):
        MarketFeed(load_settings(env={}), frame_s=0)
