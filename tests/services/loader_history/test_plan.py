"""The plan: whole past days from bulk files, everything else from REST, day by day."""

from __future__ import annotations

from streamforge.services.loader_history.plan import Kind, Segment, Source, plan
from tests.services.loader_history.helpers import epoch_ms

BOTH = frozenset(Kind)
NOW = epoch_ms("2025-01-03T09:00")


def days(segments: list[Segment]) -> list[tuple[str, str, str]]:
    return [(s.kind.value, s.day.isoformat(), s.source.value) for s in segments]


def test_whole_past_days_are_bulk_and_partial_days_rest() -> None:
    segments = plan(epoch_ms("2024-12-30T12:00"), NOW, BOTH, "15m", bulk=True, now=NOW)
    assert days(segments) == [
        ("klines", "2024-12-30", "rest"),
        ("trades", "2024-12-30", "rest"),
        ("klines", "2024-12-31", "bulk"),
        ("trades", "2024-12-31", "bulk"),
        ("klines", "2025-01-01", "bulk"),
        ("trades", "2025-01-01", "bulk"),
        ("klines", "2025-01-02", "bulk"),
        ("trades", "2025-01-02", "bulk"),
        ("klines", "2025-01-03", "rest"),  # not over yet: no file
        ("trades", "2025-01-03", "rest"),
    ]
    assert segments[0].start == epoch_ms("2024-12-30T12:00")
    assert segments[-1].end == NOW
    assert all(a.end == b.start for a, b in zip(segments[1::2], segments[2::2], strict=False))


def test_without_bulk_or_for_wide_klines_everything_is_rest() -> None:
    start, end = epoch_ms("2025-01-01T00:00"), epoch_ms("2025-01-03T00:00")
    assert {s.source for s in plan(start, end, BOTH, "1m", bulk=False, now=NOW)} == {Source.REST}
    weekly = plan(start, end, BOTH, "1w", bulk=True, now=NOW)
    assert [s.source for s in weekly if s.kind is Kind.KLINES] == [Source.REST, Source.REST]
    assert [s.source for s in weekly if s.kind is Kind.TRADES] == [Source.BULK, Source.BULK]


def test_only_the_kinds_asked_for_are_planned() -> None:
    start, end = epoch_ms("2025-01-01T00:00"), epoch_ms("2025-01-02T00:00")
    assert days(plan(start, end, frozenset({Kind.TRADES}), "1m", bulk=True, now=NOW)) == [
        ("trades", "2025-01-01", "bulk")
    ]
