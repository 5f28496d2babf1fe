"""Records ready to publish: encoded, all after a mark, with the mark of the last one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import msgspec

from streamforge.services.loader_history.written import Mark, Record, mark_of

_encoder = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class Chunk:
    """``count`` records of one kind in order, encoded one JSON document a line (as
    :func:`streamforge.schemas.encode` encodes each); ``last`` is the mark of the last."""

    lines: bytes
    count: int
    last: Mark

    def values(self) -> list[bytes]:
        """The encoded records."""
        return self.lines.split(b"\n", self.count)[: self.count]


def encode_after(records: Sequence[Record], after: Mark | None) -> Chunk | None:
    """The chunk of those of ``records`` (in order) positioned after ``after``; None if none."""
    if after is not None and records and mark_of(records[0]).position <= after.position:
        records = [r for r in records if mark_of(r).position > after.position]
    if not records:
        return None
    return Chunk(_encoder.encode_lines(records), len(records), mark_of(records[-1]))
