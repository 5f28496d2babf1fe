"""Record batches encoded away from the producer: valid Kafka batches, bounded in size."""

from __future__ import annotations

import os
import pickle

import pytest
from aiokafka.record.default_records import DefaultRecordBatch

from streamforge.bus.batches import MAX_ENCODED_BYTES, BatchEncoder
from tests.bus.batches import batch_records

CODECS = {
    "none": DefaultRecordBatch.CODEC_NONE,
    "gzip": DefaultRecordBatch.CODEC_GZIP,
    "snappy": DefaultRecordBatch.CODEC_SNAPPY,
    "lz4": DefaultRecordBatch.CODEC_LZ4,
    "zstd": DefaultRecordBatch.CODEC_ZSTD,
}


@pytest.mark.parametrize("compression", ["none", "gzip", "snappy", "lz4", "zstd"])
def test_batches_hold_the_records_in_order_with_a_valid_checksum(compression: str) -> None:
    values = [f'{{"n":{i},"price":"94000.{i % 100:02d}"}}'.encode() for i in range(5000)]
    batches = BatchEncoder(compression, max_batch_bytes=64 * 1024).encode(b"key", values)
    assert len(batches) > 1
    assert sum(batch.record_count() for batch in batches) == 5000
    assert [r for batch in batches for r in batch_records(batch)] == [(b"key", v) for v in values]
    codecs = {DefaultRecordBatch(batch.buffer).compression_type for batch in batches}
    assert codecs == {CODECS[compression]}


def test_batches_that_compress_badly_are_split_below_the_broker_limit() -> None:
    values = [os.urandom(1000) for _ in range(3000)]  # random bytes do not compress
    batches = BatchEncoder("zstd", max_batch_bytes=8 << 20).encode(None, values)
    assert len(batches) > 1
    assert all(batch.size() <= MAX_ENCODED_BYTES for batch in batches)
    assert [v for batch in batches for _, v in batch_records(batch)] == values


def test_producer_state_is_written_into_the_header_and_checksum() -> None:
    (batch,) = BatchEncoder("zstd", max_batch_bytes=1 << 20).encode(b"k", [b"a", b"b"])
    batch._set_producer_state(producer_id=42, producer_epoch=3, base_sequence=1000)
    decoded = DefaultRecordBatch(batch.buffer)
    assert (decoded.producer_id, decoded.producer_epoch, decoded.base_sequence) == (42, 3, 1000)
    assert decoded.validate_crc()


def test_batches_survive_pickling_to_another_process() -> None:
    (batch,) = BatchEncoder("lz4", max_batch_bytes=1 << 20).encode(b"k", [b"x" * 100] * 50)
    copy = pickle.loads(pickle.dumps(batch))
    assert (copy.buffer, copy.record_count()) == (batch.buffer, 50)


def test_an_unknown_compression_is_refused_naming_the_choices() -> None:
    with pytest.raises(ValueError, match="unknown compression 'brotli'; one of none, gzip"):
        BatchEncoder("brotli", max_batch_bytes=1024)
