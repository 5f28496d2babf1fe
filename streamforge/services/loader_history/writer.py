"""Publishing a load's chunks into its partition, and checkpointing what is acknowledged."""

from __future__ import annotations

from aiokafka.structs import TopicPartition

from streamforge.services.base import ServiceContext
from streamforge.services.loader_history.checkpoint import Checkpoint, CheckpointStore
from streamforge.services.loader_history.chunk import Chunk
from streamforge.services.loader_history.plan import Kind
from streamforge.services.loader_history.resume import Resumed


class Writer:
    """Publishes chunks keyed ``key`` to ``tp``, counts them in ``written``, and saves a
    checkpoint after every ``every`` records and whenever asked."""

    def __init__(
        self,
        ctx: ServiceContext,
        tp: TopicPartition,
        key: bytes,
        job: str,
        store: CheckpointStore,
        resumed: Resumed,
        every: int,
    ) -> None:
        self._ctx = ctx
        self._tp = tp
        self._key = key
        self._job = job
        self._store = store
        self._every = every
        self._since_checkpoint = 0
        self.written = resumed.written
        #: The offset after the job's last record in ``tp`` known to be there.
        self.end_offset = resumed.end_offset

    async def write(self, kind: Kind, chunk: Chunk) -> None:
        """Publish a chunk of ``kind``; checkpoint when it is time."""
        await self._ctx.producer.publish_encoded(self._tp.topic, self._key, chunk.batches)
        self.written.add(kind, chunk.last, chunk.count)
        self._since_checkpoint += chunk.count
        self._ctx.report(records_written=self.written.total)
        if self._since_checkpoint >= self._every:
            await self.checkpoint()

    async def checkpoint(self) -> None:
        """Wait until everything published is acknowledged, then save a checkpoint."""
        if not self._since_checkpoint:
            return
        await self._ctx.producer.flush()
        self.end_offset = max(self.end_offset, self._ctx.producer.produced_offsets[self._tp])
        await self._store.save(
            Checkpoint(
                job=self._job,
                partition=self._tp.partition,
                offset=self.end_offset,
                written=self.written,
            )
        )
        self._since_checkpoint = 0
