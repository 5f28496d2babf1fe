"""Prometheus metrics of the Kafka bus, shared by every service."""

from __future__ import annotations

from prometheus_client import Counter

PRODUCED_RECORDS = Counter(
    "streamforge_produced_records", "Records acknowledged by Kafka", ["topic"]
)
CONSUMED_RECORDS = Counter(
    "streamforge_consumed_records", "Records handled and committed", ["topic"]
)
DLQ_RECORDS = Counter(
    "streamforge_dlq_records", "Records sent to a dead-letter topic", ["topic", "reason"]
)
