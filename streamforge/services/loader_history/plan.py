"""The plan of a load: the range cut into UTC days, each kind of each day from a bulk file or REST.

Days are loaded in order, and within a day klines before trades, so that the job's progress is
the time it has reached. A day comes from its bulk file when the file may exist: the day lies
wholly inside the range, it has ended before the job started (files of a day appear only after
it), and for klines the interval fits a day. Everything else (partial days at the edges, the day
in progress, klines wider than a day) comes from REST; so does a day whose file turns out to be
missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum

from streamforge.bus.topics import DAY_MS
from streamforge.exchanges.binance.intervals import INTERVALS


class Kind(StrEnum):
    """What a load may hold; the order is the order within a day."""

    KLINES = "klines"
    TRADES = "trades"


class Source(StrEnum):
    """Where a segment's records come from."""

    BULK = "bulk"
    REST = "rest"


@dataclass(frozen=True)
class Segment:
    """The records of one kind with times in ``[start, end)``, from ``source``.

    A bulk segment is always one whole UTC day, ``day``.
    """

    kind: Kind
    start: int
    end: int
    source: Source

    @property
    def day(self) -> date:
        """The UTC day the segment lies in."""
        return datetime.fromtimestamp(self.start / 1000, UTC).date()


def fits_a_day(interval: str) -> bool:
    """Whether daily kline files exist for ``interval`` (a width that divides a day)."""
    width = INTERVALS[interval].millis
    return 0 < width <= DAY_MS and DAY_MS % width == 0


def plan(
    start: int, end: int, kinds: frozenset[Kind], interval: str, *, bulk: bool, now: int
) -> list[Segment]:
    """The segments that load ``kinds`` over ``[start, end)`` (epoch ms), given the time now."""
    last_file_end = now - now % DAY_MS
    segments: list[Segment] = []
    day_start = start - start % DAY_MS
    while day_start < end:
        day_end = day_start + DAY_MS
        whole = start <= day_start and day_end <= min(end, last_file_end)
        for kind in Kind:
            if kind not in kinds:
                continue
            from_file = bulk and whole and (kind is Kind.TRADES or fits_a_day(interval))
            segments.append(
                Segment(
                    kind,
                    max(start, day_start),
                    min(end, day_end),
                    Source.BULK if from_file else Source.REST,
                )
            )
        day_start = day_end
    return segments
