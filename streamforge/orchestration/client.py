"""A client of the control plane: send commands, follow events, wait for replies."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Collection

from streamforge.bus import Batch, BusConsumer, BusProducer, ConsumerOptions
from streamforge.bus.topics import CONTROL, EVENTS
from streamforge.config import Settings
from streamforge.lifecycle import AsyncLifecycle
from streamforge.orchestration.log import replay_to_end
from streamforge.schemas import Codec, Command, Event, EventName, encode

_event_codec: Codec[Event] = Codec(Event)


class ControlClient(AsyncLifecycle):
    """Publishes commands on ``queue-control`` and reads ``queue-events``.

    The event reader is positioned when the client starts (at the end of the log, or at its
    beginning with ``from_beginning``), so no reply to a command sent afterwards is missed.
    """

    def __init__(self, settings: Settings, *, from_beginning: bool = False) -> None:
        self.settings = settings
        self._producer = BusProducer(settings)
        self._events = BusConsumer(
            settings,
            [settings.topic(EVENTS)],
            _event_codec,
            options=ConsumerOptions(
                group_id=None, from_beginning=from_beginning, poll_timeout_ms=100
            ),
        )
        self._backlog: list[Event] = []

    async def start(self) -> None:
        """Connect the command producer and position the event reader."""
        try:
            await self._producer.start()
        except BaseException:
            await self._events.stop()  # built but never started: release it all the same
            raise
        try:
            await self._events.start()
        except BaseException:
            await self._producer.stop()
            raise

    async def stop(self) -> None:
        """Disconnect both."""
        try:
            await self._events.stop()
        finally:
            await self._producer.stop()

    async def send(self, command: Command) -> None:
        """Publish a command, keyed by its queue id, and wait for the acknowledgement."""
        await self._producer.send(
            self.settings.topic(CONTROL), encode(command), key=command.queue_id.encode()
        )

    async def replay(self, apply: Callable[[Event], object]) -> int:
        """Hand every event up to the log's current end to ``apply`` (a client made with
        ``from_beginning``); return how many were read."""
        return await replay_to_end(self._events, apply)

    async def lag(self) -> int:
        """Events on the log that this client has not read yet (all partitions)."""
        behind = 0
        for tp, end in (await self._events.end_offsets()).items():
            behind += max(end - await self._events.position(tp), 0)
        return behind

    async def next_events(self) -> list[Event]:
        """The events that arrived since the last call (waits up to one poll interval)."""
        if self._backlog:
            events, self._backlog = self._backlog, []
            return events
        received: list[Event] = []

        async def collect(batch: Batch[Event]) -> None:
            received.extend(batch.values)

        await self._events.poll(collect)
        return received

    async def events(self, queue_id: str | None = None) -> AsyncIterator[Event]:
        """Follow the event log forever, optionally for one queue id."""
        while True:
            for event in await self.next_events():
                if queue_id is None or event.queue_id == queue_id:
                    yield event

    async def replies(
        self, command: Command, expect: Collection[EventName], wait_s: float
    ) -> list[Event]:
        """Events answering ``command`` (same ``command_id``) of the kinds in ``expect``,
        collected until ``wait_s`` seconds pass; returns early after the first one unless the
        command went to every service (``target == "*"``)."""
        deadline = time.monotonic() + wait_s
        replies: list[Event] = []
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                batch = await asyncio.wait_for(self.next_events(), remaining)
            except TimeoutError:
                break
            for event in batch:
                if event.payload.get("command_id") == command.command_id and event.event in expect:
                    replies.append(event)
            if replies and command.target != "*":
                break
        return replies
