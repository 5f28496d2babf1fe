"""Reading back the records of an encoded batch, as a broker would store them."""

from __future__ import annotations

from aiokafka.record.default_records import DefaultRecordBatch

from streamforge.bus.batches import EncodedBatch


def batch_records(batch: EncodedBatch) -> list[tuple[bytes | None, bytes]]:
    """The ``(key, value)`` of each record of ``batch``, in order (checking its CRC)."""
    decoded = DefaultRecordBatch(batch.buffer)
    assert decoded.validate_crc(), "the batch's CRC-32C does not match its content"
    return [(record.key, record.value) for record in decoded]
