"""Records ready to publish: encoded into Kafka record batches, with the mark of the last one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from streamforge.bus.batches import BatchEncoder, EncodedBatch
from streamforge.exchanges.binance.bulk import FramedTrades
from streamforge.schemas import encode
from streamforge.services.loader_history.written import Mark, Record, mark_of


@dataclass(frozen=True, slots=True)
class Chunk:
    """``count`` records of one kind in order, in record batches ready for
    :meth:`~streamforge.bus.BusProducer.publish_encoded`; ``last`` is the mark of the last."""

    batches: list[EncodedBatch]
    count: int
    last: Mark


@dataclass(frozen=True, slots=True)
class ChunkEncoder:
    """Makes chunks of a load's records, keyed ``key``; it is sent to the processes that
    decode bulk files, which encode their chunks themselves."""

    key: bytes
    batches: BatchEncoder

    def values(self, values: list[bytes], last: Mark) -> Chunk:
        """The chunk of records encoded as ``values``, in order, the last at ``last``."""
        return Chunk(self.batches.encode(self.key, values), len(values), last)

    def framed(self, trades: FramedTrades) -> Chunk | None:
        """The chunk of trades framed by :func:`~streamforge.exchanges.binance.bulk.
        frame_agg_trades_block` for this encoder's key and batch size; None if none."""
        if not trades.count:
            return None
        batches = [
            batch
            for plain, records in trades.batches
            for batch in self.batches.finish(plain, records)
        ]
        return Chunk(batches, trades.count, Mark(trades.last_id, trades.last_time))

    def records(self, records: Sequence[Record], after: Mark | None) -> Chunk | None:
        """The chunk of those of ``records`` (in order) positioned after ``after``; None if
        none."""
        if after is not None and records and mark_of(records[0]).position <= after.position:
            records = [r for r in records if mark_of(r).position > after.position]
        if not records:
            return None
        return self.values(list(map(encode, records)), mark_of(records[-1]))
