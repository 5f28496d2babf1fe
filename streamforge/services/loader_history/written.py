"""What a load has written: for each kind, the last record's mark and the number of records.

Each kind's records are written in increasing order of their position (a kline's open time, a
trade's aggregate id), so the last mark of a kind says exactly which of its records are written.
"""

from __future__ import annotations

import msgspec

from streamforge.schemas import Candle, Trade
from streamforge.services.loader_history.plan import Kind

Record = Candle | Trade


class Mark(msgspec.Struct, frozen=True, array_like=True):
    """Where a record stands among those of its kind: ``position`` orders them, ``time`` is
    its time (epoch ms)."""

    position: int
    time: int


def mark_of(record: Record) -> Mark:
    """The mark of a kline (its open time) or of a trade (its aggregate id and time)."""
    if isinstance(record, Trade):
        return Mark(record.trade_id, record.trade_time)
    return Mark(record.open_time, record.open_time)


class Written(msgspec.Struct, kw_only=True):
    """The last mark and the count of each kind written."""

    marks: dict[Kind, Mark] = msgspec.field(default_factory=dict)
    counts: dict[Kind, int] = msgspec.field(default_factory=dict)

    @property
    def total(self) -> int:
        """Records of every kind."""
        return sum(self.counts.values())

    def add(self, kind: Kind, last: Mark, count: int) -> None:
        """Count ``count`` more records of ``kind``, the last of them at ``last``."""
        self.marks[kind] = last
        self.counts[kind] = self.counts.get(kind, 0) + count
