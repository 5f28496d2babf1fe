"""The handoff from loader-history: where its data ends, from its ``finished`` event.

The loader's ``finished`` payload carries ``end_offsets``: ``{"topic": <full topic name>,
"partitions": {"<partition>": <offset after its last record>}}``. The connector of the same
queue is done once its committed offsets reach them.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from aiokafka.structs import TopicPartition

from streamforge.bus import Batch, BusConsumer, ConsumerOptions
from streamforge.bus.topics import EVENTS
from streamforge.config import Settings
from streamforge.lifecycle import AsyncLifecycle
from streamforge.schemas import Codec, Event, EventName
from streamforge.services.loader_history.service import LoaderHistory

_event_codec: Codec[Event] = Codec(Event)


class EndOffsets(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The ``end_offsets`` of a loader's ``finished`` payload."""

    topic: str
    partitions: dict[int, Annotated[int, msgspec.Meta(ge=0)]]

    def by_partition(self) -> dict[TopicPartition, int]:
        """The end offset of each partition."""
        return {TopicPartition(self.topic, p): end for p, end in self.partitions.items()}


def end_offsets_of(event: Event) -> EndOffsets:
    """The end offsets a loader's ``finished`` event reports; ``ValueError`` if it has none."""
    try:
        return msgspec.convert(event.payload.get("end_offsets"), EndOffsets, strict=False)
    except msgspec.ValidationError as exc:
        raise ValueError(
            f"{event.producer} finished without valid end_offsets (event {event.event_id}): {exc}"
        ) from None


class LoaderHandoff(AsyncLifecycle):
    """Follows ``queue-events`` from the beginning for the ``finished`` events of
    loader-history under ``queue_id``; the newest one wins (a retried loader's)."""

    def __init__(self, settings: Settings, queue_id: str) -> None:
        self.queue_id = queue_id
        #: The newest loader's end offsets, once one has finished.
        self.end_offsets: EndOffsets | None = None
        self._events = BusConsumer(
            settings,
            [settings.topic(EVENTS)],
            _event_codec,
            options=ConsumerOptions(group_id=None, from_beginning=True, poll_timeout_ms=100),
        )

    async def start(self) -> None:
        """Start reading the event log from its beginning."""
        await self._events.start()

    async def stop(self) -> None:
        """Stop reading."""
        await self._events.stop()

    async def poll(self) -> EndOffsets | None:
        """Read the events that arrived (waiting up to 100 ms); the newest end offsets known."""
        await self._events.poll(self._scan)
        return self.end_offsets

    async def _scan(self, batch: Batch[Event]) -> None:
        for event in batch.values:
            if (
                event.event is EventName.FINISHED
                and event.queue_id == self.queue_id
                and event.service == LoaderHistory.name
            ):
                self.end_offsets = end_offsets_of(event)
