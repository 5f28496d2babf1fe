"""The event feed: batches, the queue filter, link status, reconnection and its figures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from textual.message import Message

from streamforge.bus import BusProducer, ensure_topics, platform_topics
from streamforge.bus.topics import EVENTS
from streamforge.config import Settings, load_settings
from streamforge.schemas import Command, Event, EventName, encode
from tests.tui.waiting import eventually
from tui.feed import (
    Backoff,
    EventFeed,
    EventsReceived,
    FeedStatus,
    FeedStatusChanged,
    FeedUnavailable,
    LinkState,
)


class Inbox:
    """A message target that keeps what the feed posts."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    def post_message(self, message: Message) -> bool:
        self.messages.append(message)
        return True

    @property
    def batches(self) -> list[list[Event]]:
        return [m.events for m in self.messages if isinstance(m, EventsReceived)]

    @property
    def events(self) -> list[Event]:
        return [event for batch in self.batches for event in batch]

    @property
    def statuses(self) -> list[FeedStatus]:
        return [m.status for m in self.messages if isinstance(m, FeedStatusChanged)]

    def states(self) -> list[LinkState]:
        return [status.state for status in self.statuses]


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


Runner = Callable[[EventFeed], Awaitable[None]]


@pytest.fixture
async def run_feed(inbox: Inbox) -> AsyncIterator[Runner]:
    """Start feeds in the background; they are cancelled at the end of the test."""
    tasks: list[asyncio.Task[None]] = []

    async def start(feed: EventFeed) -> None:
        tasks.append(asyncio.create_task(feed.run(inbox)))

    yield start
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def publish(settings: Settings, events: list[Event]) -> None:
    async with BusProducer(settings) as producer:
        for event in events:
            await producer.send(settings.topic(EVENTS), encode(event), key=event.queue_id.encode())


def loading(queue_id: str, count: int) -> list[Event]:
    return [
        Event.new(EventName.LOADING, queue_id, "dummy-service__t", {"progress": i / count})
        for i in range(count)
    ]


async def test_an_unreachable_broker_is_reported_and_retried_with_backoff(
    inbox: Inbox, run_feed: Runner
) -> None:
    settings = load_settings(env={"STREAMFORGE_KAFKA_BOOTSTRAP": "127.0.0.1:1"})
    feed = EventFeed(settings, backoff=Backoff(initial=0.05, maximum=0.1))
    await run_feed(feed)
    await eventually(
        lambda: inbox.states().count(LinkState.DISCONNECTED) >= 3, "three failed attempts"
    )
    down = [s for s in inbox.statuses if s.state is LinkState.DISCONNECTED]
    assert down[0].detail == "cannot reach Kafka at 127.0.0.1:1"
    assert [s.retry_in for s in down[:3]] == [0.05, 0.1, 0.1]
    assert inbox.states()[:2] == [LinkState.CONNECTING, LinkState.DISCONNECTED]
    assert LinkState.CONNECTED not in inbox.states()
    assert not feed.connected
    assert feed.stats.detail == "cannot reach Kafka at 127.0.0.1:1"
    assert (feed.stats.connected, feed.stats.reconnects) == (False, 0)
    with pytest.raises(FeedUnavailable):
        await feed.send(Command.new("ping", "q1", issued_by="console"))


@pytest.mark.kafka
async def test_events_arrive_in_batches_from_the_beginning_of_the_log(
    settings: Settings, inbox: Inbox, run_feed: Runner
) -> None:
    sent = loading("q-a", 75) + loading("q-b", 25)
    await publish(settings, sent)
    feed = EventFeed(settings, lag_interval=0.1)
    await run_feed(feed)
    await eventually(lambda: len(inbox.events) >= len(sent), "every event")
    assert sorted(e.event_id for e in inbox.events) == sorted(e.event_id for e in sent)
    assert len(inbox.batches) < len(sent) / 10, "events are coalesced, one message per poll"
    assert all(inbox.batches)
    received_a = [e.event_id for e in inbox.events if e.queue_id == "q-a"]
    assert received_a == [e.event_id for e in sent[:75]], "one queue's events stay in order"
    assert inbox.states()[:2] == [LinkState.CONNECTING, LinkState.CONNECTED]
    await eventually(lambda: feed.stats.lag == 0, "no lag once all is read")
    stats = feed.stats
    assert (stats.connected, stats.detail, stats.reconnects) == (True, "", 0)
    assert stats.messages_total == len(sent)
    assert stats.last_update_ms == max(event.timestamp for event in sent)


@pytest.mark.kafka
async def test_the_queue_filter_passes_on_one_queue_only(
    settings: Settings, inbox: Inbox, run_feed: Runner
) -> None:
    await publish(settings, loading("q-other", 5) + loading("q-mine", 3))
    await run_feed(EventFeed(settings, queue_id="q-mine"))
    await eventually(lambda: len(inbox.events) >= 3, "the filtered queue's events")
    await publish(settings, loading("q-other", 5) + loading("q-mine", 1))
    await eventually(lambda: len(inbox.events) >= 4, "a later event of the filtered queue")
    assert {e.queue_id for e in inbox.events} == {"q-mine"}


@pytest.mark.kafka
async def test_a_failed_check_while_quiet_reconnects_and_rereads_the_log(
    settings: Settings, inbox: Inbox, run_feed: Runner
) -> None:
    sent = loading("q-re", 5)
    await publish(settings, sent)
    checks: list[int] = []

    async def flaky_probe(_: Settings) -> None:
        checks.append(len(checks))
        if len(checks) == 1:
            raise ConnectionError("broker went away")

    feed = EventFeed(settings, backoff=Backoff(initial=0.1), probe=flaky_probe, probe_interval=0.3)
    await run_feed(feed)
    await eventually(lambda: inbox.states().count(LinkState.CONNECTED) >= 2, "a reconnection")
    assert inbox.states()[:5] == [
        LinkState.CONNECTING,
        LinkState.CONNECTED,
        LinkState.DISCONNECTED,
        LinkState.CONNECTING,
        LinkState.CONNECTED,
    ]
    (down,) = [s for s in inbox.statuses if s.state is LinkState.DISCONNECTED]
    assert (down.detail, down.retry_in) == ("broker went away", 0.1)
    await eventually(lambda: len(inbox.events) >= 2 * len(sent), "the log read a second time")
    assert [e.event_id for e in inbox.events] == [e.event_id for e in sent] * 2
    await eventually(lambda: feed.connected, "the feed to hold its new connection")
    assert (feed.stats.reconnects, feed.stats.messages_total) == (1, 2 * len(sent))
    await feed.send(Command.new("ping", "q-re", issued_by="console"))


@pytest.mark.kafka
async def test_a_missing_event_topic_is_waited_for(
    kafka_settings: Settings, inbox: Inbox, run_feed: Runner
) -> None:
    await run_feed(EventFeed(kafka_settings, backoff=Backoff(initial=0.2, maximum=0.5)))
    await eventually(lambda: LinkState.DISCONNECTED in inbox.states(), "a failed attempt")
    down = next(s for s in inbox.statuses if s.state is LinkState.DISCONNECTED)
    assert down.detail == f"topic {kafka_settings.topic(EVENTS)} does not exist"
    await ensure_topics(kafka_settings, platform_topics(market_partitions=1))
    await eventually(lambda: LinkState.CONNECTED in inbox.states(), "the connection")
