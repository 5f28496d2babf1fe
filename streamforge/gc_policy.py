"""How long-running services use Python's cyclic garbage collector.

Hot paths allocate and drop tens of thousands of short-lived container objects per batch
(aiokafka's consumer records, futures, frames). At Python's default thresholds (700, 10, 10)
those objects outlive a few young collections while their batch is in hand, are promoted, and
every few batches they trigger a full collection that walks every object of the process: reading
520,000 records in ``benchmarks/sink.py``'s read-only stage spent 1.3-1.7 s of its 4-5 s in 16
full collections.

:func:`tune_for_throughput` fixes both halves: :func:`gc.freeze` takes what start-up built
(modules, classes, settings) out of the collector's sight for good, and a young threshold of
:data:`YOUNG_THRESHOLD` lets a batch's objects be freed by reference counting before any
collection sees them. Reference cycles are still collected, only later.
"""

from __future__ import annotations

import gc

#: Net allocations of container objects between young collections (Python's default is 700):
#: above the objects one consumed or published batch keeps alive at once.
YOUNG_THRESHOLD = 50_000


def tune_for_throughput() -> None:
    """Freeze what exists now and collect young objects less often; call once, after start-up.

    Process-wide: for a service's own process, not for a library's caller.
    """
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
