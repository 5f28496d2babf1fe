"""Checkpoints of loads, kept in Kafka: a compacted topic holding the latest one of each job.

A checkpoint records, once everything published so far is acknowledged, what the job has written
(:class:`~streamforge.services.loader_history.written.Written`) and the end offset of its data
partition at that moment. A restarted job reads its partition from that offset only (see
:mod:`~streamforge.services.loader_history.resume`), instead of from the beginning.

Why Kafka and not a file: a job runs as a Kubernetes Job whose retry is a new pod with an empty
disk, so a local file would be gone exactly when it is needed; Kafka already is the durable,
replicated store the job writes to, and checkpoints go through the same ``acks=all`` producer.
This is how Kafka Connect keeps its source offsets. A lost checkpoint costs time, never
correctness: the resume then reads the partition from its beginning.
"""

from __future__ import annotations

import msgspec

from streamforge.bus import BusConsumer, BusProducer, ConsumerOptions, TopicSpec
from streamforge.bus.consumer import Batch
from streamforge.bus.topics import DAY_MS
from streamforge.config import Settings
from streamforge.schemas import Codec, encode
from streamforge.services.loader_history.written import Written

#: The checkpoint topic: one record per job survives compaction, for as long as its data topic.
CHECKPOINTS = TopicSpec(
    "loader-history.checkpoints",
    partitions=1,
    cleanup_policy="compact,delete",
    retention_ms=30 * DAY_MS,
    config={"segment.ms": "3600000", "min.cleanable.dirty.ratio": "0.1"},
)


class Checkpoint(msgspec.Struct, kw_only=True, frozen=True):
    """A job's durable progress: ``written`` holds every record below ``offset`` of
    ``partition`` that belongs to the job (and none above)."""

    job: str
    partition: int
    offset: int
    written: Written


_codec: Codec[Checkpoint] = Codec(Checkpoint)


class CheckpointStore:
    """Saves and loads checkpoints by job id."""

    def __init__(self, settings: Settings, producer: BusProducer) -> None:
        self._settings = settings
        self._producer = producer
        self._topic = settings.topic(CHECKPOINTS.name)

    async def save(self, checkpoint: Checkpoint) -> None:
        """Write ``checkpoint`` and wait until the cluster has it."""
        await self._producer.send(self._topic, encode(checkpoint), key=checkpoint.job.encode())

    async def load(self, job: str) -> Checkpoint | None:
        """The latest checkpoint of ``job``, if any (reads the topic to its current end)."""
        key = job.encode()
        latest: Checkpoint | None = None

        async def keep_latest(batch: Batch[Checkpoint]) -> None:
            nonlocal latest
            for record, checkpoint in zip(batch.records, batch.values, strict=True):
                if record.key == key:
                    latest = checkpoint

        options = ConsumerOptions(group_id=None, from_beginning=True, poll_timeout_ms=200)
        async with BusConsumer(self._settings, [self._topic], _codec, options=options) as reader:
            for tp, end in (await reader.end_offsets()).items():
                while await reader.position(tp) < end:
                    await reader.poll(keep_latest)
        return latest
