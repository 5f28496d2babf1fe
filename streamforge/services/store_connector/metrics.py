"""Prometheus metrics of the store-connector (registered once per process).

They move once per batch, never per record, so they cost nothing on the hot path.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

RECORDS_WRITTEN = Counter(
    "streamforge_store_connector_records_written",
    "Records upserted into the store and committed",
    ["kind"],
)
BATCHES = Counter("streamforge_store_connector_batches", "Batches upserted and committed")
WRITE_SECONDS = Histogram(
    "streamforge_store_connector_write_seconds",
    "Time of one batch upsert",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
PAUSED = Gauge(
    "streamforge_store_connector_paused", "1 while consumption waits for the store to catch up"
)
HELD = Gauge("streamforge_store_connector_held_records", "Records read and not yet committed")
SKIPPED = Counter(
    "streamforge_store_connector_skipped_records",
    "Valid records not stored: another kind than trade and candle, or an unselected symbol",
    ["reason"],
)
