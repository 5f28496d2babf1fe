"""Dead-letter topics: records that failed validation, kept with the reason they failed."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from streamforge.bus.metrics import DLQ_RECORDS
from streamforge.bus.producer import BusProducer
from streamforge.schemas import now_millis

log = logging.getLogger(__name__)

DLQ_SUFFIX = ".dlq"


def dlq_topic(topic: str) -> str:
    """The dead-letter topic of ``topic``."""
    return topic + DLQ_SUFFIX


class DeadLetterQueue:
    """Writes rejected records to ``<topic>.dlq`` with their original bytes and error headers.

    Headers: ``dlq.reason`` (human-readable), ``dlq.error`` (error class), ``dlq.source.topic``,
    ``dlq.source.partition``, ``dlq.source.offset`` (when the record came from Kafka) and
    ``dlq.timestamp`` (epoch ms). Every write is acknowledged before it returns, so a consumer
    may commit the source offset right after.
    """

    def __init__(self, producer: BusProducer) -> None:
        self._producer = producer
        self.count = 0

    async def send(
        self,
        topic: str,
        value: bytes | None,
        key: bytes | None,
        reason: str,
        error: str,
        *,
        partition: int | None = None,
        offset: int | None = None,
        headers: Sequence[tuple[str, bytes]] = (),
    ) -> None:
        """Dead-letter one record that was read from (or meant for) ``topic``."""
        dlq_headers = [
            *headers,
            ("dlq.reason", reason.encode()),
            ("dlq.error", error.encode()),
            ("dlq.source.topic", topic.encode()),
            ("dlq.timestamp", str(now_millis()).encode()),
        ]
        if partition is not None:
            dlq_headers.append(("dlq.source.partition", str(partition).encode()))
        if offset is not None:
            dlq_headers.append(("dlq.source.offset", str(offset).encode()))
        await self._producer.send(dlq_topic(topic), value or b"", key=key, headers=dlq_headers)
        self.count += 1
        DLQ_RECORDS.labels(topic, error).inc()
        log.warning("dead-lettered a record of %s: %s", topic, reason)
