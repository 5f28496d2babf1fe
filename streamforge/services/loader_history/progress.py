"""A load's progress: the share of its time range done, which never goes back."""

from __future__ import annotations

from dataclasses import dataclass

from streamforge.services.base import ServiceContext
from streamforge.services.loader_history.plan import Kind, Segment
from streamforge.services.loader_history.written import Written


@dataclass
class Progress:
    """Reports ``(time reached - start) / (end - start)``, the time reached being that of the
    leading kind: the last one of each day in the plan's order."""

    ctx: ServiceContext
    start: int
    end: int
    leading: Kind
    fraction: float = 0.0

    def resumed(self, written: Written) -> None:
        """Start from what earlier runs wrote."""
        mark = written.marks.get(self.leading)
        self.ctx.report(records_written=written.total)
        if mark is not None:
            self.report(mark.time)

    def reached(self, kind: Kind, time: int) -> None:
        """Records of ``kind`` up to ``time`` are published."""
        if kind is self.leading:
            self.report(time)

    def finished(self, segment: Segment) -> None:
        """A segment is loaded."""
        if segment.kind is self.leading:
            self.report(segment.end)

    def report(self, time: int) -> None:
        """Report the range done up to ``time``."""
        span = max(self.end - self.start, 1)
        self.fraction = max(self.fraction, min((time - self.start) / span, 1.0))
        self.ctx.report(self.fraction)
