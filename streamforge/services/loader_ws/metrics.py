"""loader-ws counts and their Prometheus metrics (registered once per process).

The hot path only bumps plain integers in :class:`LoaderStats`; :class:`MetricsExporter` moves
the increments into Prometheus counters about once a second, so no lock is taken per frame.
Dead letters are counted by the bus' own ``streamforge_dlq_records``.

The lag histogram runs from the exchange's event time of a record (``E``; bookTicker frames have
none, so their receive time; a book snapshot's own timestamp) to the moment the record is handed to
the Kafka producer's batch, i.e. *publish time*, not acknowledgement. It includes the network path
from the exchange and any clock difference with it; REST-backfilled trades show their full delay.
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from prometheus_client import REGISTRY, Counter
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.registry import Collector

FRAMES = Counter("streamforge_loader_ws_frames", "WebSocket frames received from the exchange")
PUBLISHED = Counter("streamforge_loader_ws_published_records", "Records handed to Kafka")
SHED = Counter(
    "streamforge_loader_ws_shed_records",
    "Live records not published because the queue to Kafka was full",
)
RECONNECTS = Counter("streamforge_loader_ws_reconnects", "WebSocket reconnects")
RESYNCS = Counter("streamforge_loader_ws_book_resyncs", "Order books re-synced after a gap")
SNAPSHOTS = Counter("streamforge_loader_ws_book_snapshots", "Depth snapshots fetched over REST")
BACKFILLED = Counter(
    "streamforge_loader_ws_backfilled_trades", "Trades fetched over REST to fill an id gap"
)
DUPLICATES = Counter(
    "streamforge_loader_ws_duplicate_trades", "Trades dropped as already published"
)


@dataclass
class LoaderStats:
    """What one loader run did; the ``finished`` payload and the source of the counters."""

    frames: int = 0
    published: int = 0
    shed: int = 0
    dead_letters: int = 0
    reconnects: int = 0
    resyncs: int = 0
    snapshots: int = 0
    backfilled: int = 0
    duplicates: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counts by name."""
        return dataclasses.asdict(self)


_COUNTERS = {
    "frames": FRAMES,
    "published": PUBLISHED,
    "shed": SHED,
    "reconnects": RECONNECTS,
    "resyncs": RESYNCS,
    "snapshots": SNAPSHOTS,
    "backfilled": BACKFILLED,
    "duplicates": DUPLICATES,
}


class MetricsExporter:
    """Adds what a :class:`LoaderStats` counted since the last :meth:`export` to the counters."""

    def __init__(self, stats: LoaderStats) -> None:
        self._stats = stats
        self._exported = LoaderStats()

    def export(self) -> None:
        """Bring the Prometheus counters up to date."""
        for name, counter in _COUNTERS.items():
            now = getattr(self._stats, name)
            delta = now - getattr(self._exported, name)
            if delta > 0:
                counter.inc(delta)
                setattr(self._exported, name, now)


class LagHistogram(Collector):
    """A Prometheus histogram of lags in milliseconds (exposed in seconds), filled in bulk.

    ``prometheus_client``'s Histogram takes a lock per observation; at 100k records a second
    that alone costs a tenth of a core, so this one counts a whole batch in one call.
    """

    def __init__(self, name: str, documentation: str, bounds_ms: Iterable[int]) -> None:
        self.name = name
        self.documentation = documentation
        self.bounds_ms = sorted(bounds_ms)
        self._counts = [0] * (len(self.bounds_ms) + 1)
        self._sum_ms = 0

    def observe_many(self, now_ms: int, times_ms: Iterable[int]) -> None:
        """Count the lag ``now_ms - t`` of every ``t`` (negative lags count as 0)."""
        counts, bounds = self._counts, self.bounds_ms
        total = 0
        for time_ms in times_ms:
            lag = now_ms - time_ms
            if lag > 0:
                total += lag
                counts[bisect_left(bounds, lag)] += 1
            else:
                counts[0] += 1
        self._sum_ms += total

    @property
    def count(self) -> int:
        """Observations so far."""
        return sum(self._counts)

    def collect(self) -> Iterator[HistogramMetricFamily]:
        """Cumulative buckets in seconds, as Prometheus expects."""
        buckets: list[tuple[str, float]] = []
        cumulative = 0
        for bound, count in zip(self.bounds_ms, self._counts, strict=False):
            cumulative += count
            buckets.append((repr(bound / 1000), cumulative))
        buckets.append(("+Inf", cumulative + self._counts[-1]))
        yield HistogramMetricFamily(
            self.name, self.documentation, buckets=buckets, sum_value=self._sum_ms / 1000
        )


LAG = LagHistogram(
    "streamforge_loader_ws_lag_seconds",
    "Exchange event time to Kafka publish time of market records",
    (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000),
)
REGISTRY.register(LAG)
