"""The event feed: reads ``queue-events`` and posts them to the app in batches.

:meth:`EventFeed.run` is meant to run as a Textual worker. It connects a
:class:`~streamforge.orchestration.client.ControlClient` that reads the log from its beginning,
posts one :class:`EventsReceived` message per poll that returned events (never one per event),
and reports the link with :class:`FeedStatusChanged`. Whenever Kafka cannot be reached, or a
periodic check while the log is quiet fails, it disconnects and tries again with exponential
backoff; a new connection re-reads the log from its beginning, so consumers of the batches must
fold events idempotently (see :class:`~streamforge.orchestration.state.WorkflowBoard`).
:attr:`EventFeed.stats` sums up the feed for the status bar.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from aiokafka.errors import KafkaConnectionError
from textual.message import Message

from streamforge.bus import list_topics
from streamforge.bus.topics import EVENTS
from streamforge.config import Settings
from streamforge.orchestration.client import ControlClient
from streamforge.schemas import Command, Event
from tui.rate import RateMeter


class LinkState(StrEnum):
    """The state of the feed's link to Kafka."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"


@dataclass(frozen=True)
class FeedStatus:
    """The link state, why it is down (``detail``) and when the next attempt is due."""

    state: LinkState
    detail: str = ""
    retry_in: float | None = None


@dataclass(frozen=True)
class FeedStats:
    """A feed at a glance (the status bar's view of it).

    Attributes:
        connected: Whether the feed holds a connection.
        detail: Why it is down (empty while connected).
        messages_total: Messages received since the console started.
        rate: Messages per second, recently.
        lag: Messages on the broker not read yet (as of the last check).
        last_update_ms: Timestamp (epoch ms) of the newest message, ``None`` before the first.
        reconnects: Connections made after the first one.
    """

    connected: bool
    detail: str
    messages_total: int
    rate: float
    lag: int
    last_update_ms: int | None
    reconnects: int


class EventsReceived(Message):
    """Events read by one poll of the feed, in log order per queue."""

    def __init__(self, events: list[Event]) -> None:
        super().__init__()
        self.events = events


class FeedStatusChanged(Message):
    """The feed's link to Kafka changed."""

    def __init__(self, status: FeedStatus) -> None:
        super().__init__()
        self.status = status


class FeedUnavailable(RuntimeError):
    """A command could not be sent because the feed is not connected."""


class MessageTarget(Protocol):
    """Where the feed posts its messages (a Textual app or widget)."""

    def post_message(self, message: Message) -> bool:
        """Queue ``message`` for the target."""
        ...


class Backoff:
    """Exponential delays between reconnection attempts: ``initial``, doubling, capped."""

    def __init__(self, initial: float = 0.5, maximum: float = 15.0, factor: float = 2.0) -> None:
        self.initial = initial
        self.maximum = maximum
        self.factor = factor
        self._next = initial

    def next_delay(self) -> float:
        """The delay before the next attempt; each call grows the following one."""
        delay = self._next
        self._next = min(self._next * self.factor, self.maximum)
        return delay

    def reset(self) -> None:
        """Start again from ``initial`` (after a successful connection)."""
        self._next = self.initial


async def check_broker(settings: Settings) -> None:
    """Raise unless the cluster answers and holds the event log topic."""
    topic = settings.topic(EVENTS)
    if topic not in await list_topics(settings):
        raise LookupError(f"topic {topic} does not exist")


Probe = Callable[[Settings], Awaitable[None]]


class KafkaFeed:
    """What the console's feeds share: a link to Kafka that is followed until it fails, then
    made again after an exponential backoff, and the figures of :attr:`stats`.

    A feed implements :meth:`_session` (connect, call :meth:`_connected_to`, then follow until
    something fails), :meth:`_status_message` (how its target hears that the link changed) and
    :meth:`_last_update_ms`.
    """

    def __init__(self, settings: Settings, backoff: Backoff | None) -> None:
        self.settings = settings
        self.backoff = backoff or Backoff()
        self._status = FeedStatus(LinkState.CONNECTING)
        self._connected = False
        self._connections = 0
        self._received = 0
        self._rate = RateMeter()
        self._lag = 0

    @property
    def status(self) -> FeedStatus:
        """The link to Kafka."""
        return self._status

    @property
    def stats(self) -> FeedStats:
        """The feed at a glance: link, messages received, rate, lag, newest, reconnects."""
        return FeedStats(
            connected=self._connected,
            detail=self._status.detail,
            messages_total=self._received,
            rate=self._rate.rate(time.monotonic()),
            lag=self._lag,
            last_update_ms=self._last_update_ms(),
            reconnects=max(self._connections - 1, 0),
        )

    async def run(self, target: MessageTarget) -> None:
        """Follow the feed's topics, posting to ``target``, until cancelled."""
        while True:
            self._report(target, FeedStatus(LinkState.CONNECTING))
            try:
                try:
                    await self._session(target)
                finally:
                    self._connected = False
            except Exception as exc:  # any failure of the link: report it and reconnect
                delay = self.backoff.next_delay()
                detail = describe_failure(exc, self.settings)
                self._report(target, FeedStatus(LinkState.DISCONNECTED, detail, delay))
                await asyncio.sleep(delay)

    async def _session(self, target: MessageTarget) -> None:
        raise NotImplementedError

    def _status_message(self, status: FeedStatus) -> Message:
        raise NotImplementedError

    def _last_update_ms(self) -> int | None:
        raise NotImplementedError

    def _connected_to(self, target: MessageTarget) -> None:
        """Count a new connection and announce it."""
        self.backoff.reset()
        self._connections += 1
        self._connected = True
        self._report(target, FeedStatus(LinkState.CONNECTED))

    def _report(self, target: MessageTarget, status: FeedStatus) -> None:
        self._status = status
        target.post_message(self._status_message(status))

    def _count(self, received: int, now: float) -> None:
        self._received += received
        self._rate.add(received, now)


class EventFeed(KafkaFeed):
    """Follows the event log for the console and sends its commands.

    Args:
        settings: How to reach Kafka and which topic prefix to use.
        queue_id: Only pass on events of this queue id (all queues when ``None``).
        backoff: Delays between reconnection attempts.
        probe: Checks the cluster while the log is quiet; raising means disconnected.
        probe_interval: Seconds without events after which ``probe`` runs.
        probe_timeout: Seconds ``probe`` may take before the link counts as down.
        lag_interval: Seconds between checks of how far behind the end of the log it is.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        queue_id: str | None = None,
        backoff: Backoff | None = None,
        probe: Probe = check_broker,
        probe_interval: float = 5.0,
        probe_timeout: float = 10.0,
        lag_interval: float = 1.0,
    ) -> None:
        super().__init__(settings, backoff)
        self.queue_id = queue_id
        self.probe = probe
        self.probe_interval = probe_interval
        self.probe_timeout = probe_timeout
        self.lag_interval = lag_interval
        self._client: ControlClient | None = None
        self._newest_ms: int | None = None

    @property
    def connected(self) -> bool:
        """Whether the feed currently holds a connection."""
        return self._client is not None

    async def send(self, command: Command) -> None:
        """Publish ``command`` on ``queue-control``; raises :class:`FeedUnavailable` when
        disconnected, or the Kafka error if the cluster does not acknowledge it."""
        if self._client is None:
            raise FeedUnavailable("not connected to Kafka")
        await self._client.send(command)

    async def _session(self, target: MessageTarget) -> None:
        async with ControlClient(self.settings, from_beginning=True) as client:
            self._client = client
            try:
                self._connected_to(target)
                await self._follow(client, target)
            finally:
                self._client = None

    def _status_message(self, status: FeedStatus) -> Message:
        return FeedStatusChanged(status)

    def _last_update_ms(self) -> int | None:
        return self._newest_ms

    async def _follow(self, client: ControlClient, target: MessageTarget) -> None:
        quiet_since = lag_checked = time.monotonic()
        self._lag = await client.lag()
        while True:
            events = await client.next_events()
            now = time.monotonic()
            if events:
                quiet_since = now
                self._count_events(events, now)
                if self.queue_id is not None:
                    events = [event for event in events if event.queue_id == self.queue_id]
                if events:
                    target.post_message(EventsReceived(events))
            elif now - quiet_since >= self.probe_interval:
                await asyncio.wait_for(self.probe(self.settings), self.probe_timeout)
                quiet_since = time.monotonic()
            if now - lag_checked >= self.lag_interval:
                self._lag = await client.lag()
                lag_checked = now

    def _count_events(self, events: list[Event], now: float) -> None:
        self._count(len(events), now)
        newest = max(event.timestamp for event in events)
        if self._newest_ms is None or newest > self._newest_ms:
            self._newest_ms = newest


def describe_failure(exc: Exception, settings: Settings) -> str:
    """Why a feed's link to Kafka failed, in words."""
    if isinstance(exc, KafkaConnectionError):
        return f"cannot reach Kafka at {settings.kafka.bootstrap}"
    if isinstance(exc, TimeoutError):
        return f"Kafka at {settings.kafka.bootstrap} does not answer"
    return str(exc) or type(exc).__name__
