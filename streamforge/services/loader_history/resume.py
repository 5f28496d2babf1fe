"""Where a restarted load resumes: the job's records actually in its partition.

The topic is the truth. A job killed after its last checkpoint may have written more records
(published and acknowledged, or merely sent); they are in the partition, after the checkpoint's
offset. Reading the partition from there to its end and counting the job's own records gives
exactly what is written, so the restarted job publishes every record once, and nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition

from streamforge.bus import client_options
from streamforge.bus.records import LEAN, RawRecord
from streamforge.config import Settings
from streamforge.schemas import AnyMarketRecord, Codec, ContractError
from streamforge.services.loader_history.checkpoint import Checkpoint
from streamforge.services.loader_history.plan import Kind
from streamforge.services.loader_history.written import Mark, Record, Written, mark_of

_codec: Codec[AnyMarketRecord] = Codec(AnyMarketRecord, "market record")

#: Tells the kind of a record of the job's key, or None when it belongs to another job.
Classify = Callable[[Record], Kind | None]


@dataclass
class Resumed:
    """What the job has written, and the offset after its last record (0 if none)."""

    written: Written
    end_offset: int


async def resume(
    settings: Settings,
    tp: TopicPartition,
    key: bytes,
    classify: Classify,
    checkpoint: Checkpoint | None,
    batch_records: int = 10_000,
) -> Resumed:
    """The job's records in ``tp``: the checkpoint's, plus those after its offset."""
    written = checkpoint.written if checkpoint else Written()
    start = checkpoint.offset if checkpoint else 0
    end_offset = start
    consumer = AIOKafkaConsumer(
        **client_options(settings),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        value_deserializer=LEAN,
    )
    await consumer.start()
    try:
        consumer.assign([tp])
        end: int = (await consumer.end_offsets([tp]))[tp]
        consumer.seek(tp, start)
        while await consumer.position(tp) < end:
            fetched = await consumer.getmany(tp, timeout_ms=1000, max_records=batch_records)
            records: list[RawRecord] = fetched.get(tp, [])
            for raw in records:
                if raw.offset >= end or raw.key != key or raw.value is None:
                    continue
                own = _own(raw.value, classify)
                if own is None:
                    continue
                kind, mark = own
                last = written.marks.get(kind)
                if last is None or mark.position > last.position:
                    written.add(kind, mark, 1)
                end_offset = raw.offset + 1
    finally:
        await consumer.stop()
    return Resumed(written, end_offset)


def _own(value: bytes, classify: Classify) -> tuple[Kind, Mark] | None:
    try:
        record = _codec.decode(value)
    except ContractError:
        return None  # not a record of this job: it only writes valid ones
    if not isinstance(record, Record):
        return None
    kind = classify(record)
    return None if kind is None else (kind, mark_of(record))
