"""Kafka record batches encoded away from the producer, ready to send but for producer state.

Encoding a batch (framing every record, then compressing) costs a few microseconds a record in
the process that does it. :class:`BatchEncoder` needs no connection, so worker processes can
encode batches side by side, and the producer only sends them
(:meth:`streamforge.bus.BusProducer.publish_encoded`). An idempotent producer numbers its
batches when it sends them: :class:`EncodedBatch` takes that producer id, epoch and sequence
into its header then, and renews the header's checksum (CRC-32C of a compressed batch is cheap).
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable, Iterable
from functools import partial

from aiokafka import codec
from aiokafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder
from aiokafka.record.util import calc_crc32c

#: zstd's fastest level: on JSON market records about four times as fast as Kafka's default
#: level 3, and the batches come out no larger.
ZSTD_LEVEL = 1
_COMPRESSORS: dict[str, tuple[int, Callable[[bytes], bytes]] | None] = {
    "none": None,
    "gzip": (DefaultRecordBatch.CODEC_GZIP, codec.gzip_encode),
    "snappy": (DefaultRecordBatch.CODEC_SNAPPY, codec.snappy_encode),
    "lz4": (DefaultRecordBatch.CODEC_LZ4, codec.lz4_encode),
    "zstd": (DefaultRecordBatch.CODEC_ZSTD, partial(codec.zstd_encode, level=ZSTD_LEVEL)),
}
# Record batch v2 header: its length after the first 12 bytes, the producer fields, the
# attributes (whose low bits name the codec) and the CRC-32C of everything from there on.
_HEADER_BYTES = 61
_LENGTH = struct.Struct(">i")
_LENGTH_OFFSET = 8
_LENGTH_FROM = 12
_ATTRIBUTES = struct.Struct(">h")
_ATTRIBUTES_OFFSET = 21
_PRODUCER_STATE = struct.Struct(">qhi")
_PRODUCER_STATE_OFFSET = 43
_CRC = struct.Struct(">I")
_CRC_OFFSET = 17
_NO_HEADERS: list[tuple[str, bytes]] = []
#: The largest encoded batch made: a broker's default ``message.max.bytes`` is 1 MiB + 12.
MAX_ENCODED_BYTES = 1_000_000


class EncodedBatch:
    """One encoded record batch (magic v2) and how many records it holds.

    It stands in for aiokafka's ``BatchBuilder`` in ``AIOKafkaProducer.send_batch``: that
    producer calls the methods below, including the private ``_set_producer_state`` and
    ``_build`` (tests/bus fail if the producer stops sending such batches correctly).
    """

    __slots__ = ("_buffer", "_records")

    def __init__(self, buffer: bytes | bytearray, records: int) -> None:
        # A bytearray is taken over, not copied: the batch is its only user from then on.
        self._buffer = buffer if isinstance(buffer, bytearray) else bytearray(buffer)
        self._records = records

    def __reduce__(self) -> tuple[type[EncodedBatch], tuple[bytes, int]]:
        return EncodedBatch, (bytes(self._buffer), self._records)

    @property
    def buffer(self) -> bytes:
        """The encoded batch, as Kafka stores it."""
        return bytes(self._buffer)

    def record_count(self) -> int:
        """Records in the batch."""
        return self._records

    def size(self) -> int:
        """Bytes of the encoded batch."""
        return len(self._buffer)

    def closed(self) -> bool:
        """Always closed: nothing can be added."""
        return True

    def close(self) -> None:
        """Nothing to close."""

    def _set_producer_state(
        self, producer_id: int, producer_epoch: int, base_sequence: int
    ) -> None:
        _PRODUCER_STATE.pack_into(
            self._buffer, _PRODUCER_STATE_OFFSET, producer_id, producer_epoch, base_sequence
        )
        self._seal()

    def _seal(self) -> None:
        """Write the header's checksum of the batch as it is now."""
        crc = calc_crc32c(memoryview(self._buffer)[_ATTRIBUTES_OFFSET:])
        _CRC.pack_into(self._buffer, _CRC_OFFSET, crc)

    def _build(self) -> bytearray:
        return self._buffer


class OpenBatch:
    """A batch being filled record by record, until :meth:`build` encodes it."""

    __slots__ = ("_builder", "_encoder", "records")

    def __init__(self, encoder: BatchEncoder) -> None:
        self._encoder = encoder
        self._builder = DefaultRecordBatchBuilder(
            2,
            DefaultRecordBatch.CODEC_NONE,
            is_transactional=0,
            producer_id=-1,
            producer_epoch=-1,
            base_sequence=-1,
            batch_size=encoder.max_batch_bytes,
        )
        #: Records in the batch.
        self.records = 0

    def append(
        self,
        key: bytes | None,
        value: bytes | None,
        headers: list[tuple[str, bytes]],
        timestamp_ms: int | None,
    ) -> bool:
        """Add a record (timestamp None: now); False when the batch is full (an empty batch
        takes any record)."""
        if self._builder.append(self.records, timestamp_ms, key, value, headers) is None:
            return False
        self.records += 1
        return True

    def size(self) -> int:
        """Bytes of the batch so far, uncompressed."""
        size: int = self._builder.size()
        return size

    def build(self) -> list[EncodedBatch]:
        """The batch, compressed (see :meth:`BatchEncoder.finish`). Safe to call in another
        thread (compressors release the GIL)."""
        return self._encoder.finish(self._builder.build(), self.records)


#: A record to encode: key, value, headers and timestamp (epoch ms; None: when appended).
Record = tuple[bytes | None, bytes | None, list[tuple[str, bytes]], int | None]


class BatchEncoder:
    """Encodes records into batches of at most about ``max_batch_bytes`` each before
    compression (a single larger record makes a batch of its own), compressed with
    ``compression`` (``none``, ``gzip``, ``snappy``, ``lz4`` or ``zstd``).

    No batch comes out above :data:`MAX_ENCODED_BYTES` (one that compresses too badly is
    split in halves), so none is refused for its size by a broker with default limits.
    """

    def __init__(self, compression: str, max_batch_bytes: int) -> None:
        if compression not in _COMPRESSORS:
            choices = ", ".join(_COMPRESSORS)
            raise ValueError(f"unknown compression {compression!r}; one of {choices}")
        if max_batch_bytes < 1:
            raise ValueError("max_batch_bytes must be positive")
        self.compression = compression
        if _COMPRESSORS[compression] is None:
            max_batch_bytes = min(max_batch_bytes, MAX_ENCODED_BYTES - _HEADER_BYTES)
        self.max_batch_bytes = max_batch_bytes

    def open(self) -> OpenBatch:
        """A new, empty batch."""
        return OpenBatch(self)

    def encode(self, key: bytes | None, values: Iterable[bytes]) -> list[EncodedBatch]:
        """Batches of the records ``(key, value)`` for each of ``values``, in order, all
        stamped with the current time."""
        now = int(time.time() * 1000)
        return self.batches((key, value, _NO_HEADERS, now) for value in values)

    def batches(self, records: Iterable[Record]) -> list[EncodedBatch]:
        """Batches of ``records``, in order."""
        batches: list[EncodedBatch] = []
        batch = self.open()
        for key, value, headers, timestamp_ms in records:
            if not batch.append(key, value, headers, timestamp_ms):
                batches += batch.build()
                batch = self.open()
                batch.append(key, value, headers, timestamp_ms)
        if batch.records:
            batches += batch.build()
        return batches

    def finish(self, plain: bytearray, records: int) -> list[EncodedBatch]:
        """The uncompressed batch ``plain`` of ``records`` records (as aiokafka's builder frames
        it; its CRC need not be written), compressed and sealed; if it comes out above
        :data:`MAX_ENCODED_BYTES`, the batches of its halves. ``plain`` is taken over."""
        batch = EncodedBatch(self._compressed(plain), records)
        if batch.size() <= MAX_ENCODED_BYTES or records == 1:
            batch._seal()
            return [batch]
        # Rare (records that hardly compress): read the records back and encode the halves.
        rows = [(r.key, r.value, list(r.headers), r.timestamp) for r in DefaultRecordBatch(plain)]
        half = len(rows) // 2
        return self.batches(rows[:half]) + self.batches(rows[half:])

    def _compressed(self, batch: bytearray) -> bytearray:
        """The uncompressed ``batch`` with its records compressed (as it is if that does not
        make it smaller), its CRC yet to be written."""
        compressor = _COMPRESSORS[self.compression]
        if compressor is None:
            return batch
        codec_id, compress = compressor
        packed = compress(bytes(memoryview(batch)[_HEADER_BYTES:]))
        if len(packed) >= len(batch) - _HEADER_BYTES:
            return batch
        out = batch[:_HEADER_BYTES] + packed
        _LENGTH.pack_into(out, _LENGTH_OFFSET, len(out) - _LENGTH_FROM)
        (attributes,) = _ATTRIBUTES.unpack_from(out, _ATTRIBUTES_OFFSET)
        _ATTRIBUTES.pack_into(out, _ATTRIBUTES_OFFSET, attributes | codec_id)
        return out
