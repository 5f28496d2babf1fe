"""How the store-connector batches its writes and how much it may hold."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SinkOptions:
    """Batching and memory bounds of :class:`~streamforge.services.store_connector.sink.Sink`.

    A batch is written once it holds ``batch_size`` records, or ``batch_wait_ms`` after its
    first record was read. At most ``max_held_records`` records are held between Kafka and the
    store (read, not yet written and committed); beyond that, consumption pauses. The default
    bound, ``2 * (batch_size + poll_records)``, lets one batch fill while the previous is written.
    """

    batch_size: int = 20_000
    batch_wait_ms: int = 200
    poll_records: int = 10_000
    max_held_records: int | None = None

    def __post_init__(self) -> None:
        for name in ("batch_size", "batch_wait_ms", "poll_records"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.max_held_records is not None and self.max_held_records < self.poll_records:
            raise ValueError(
                f"max_held_records ({self.max_held_records}) must be at least "
                f"poll_records ({self.poll_records})"
            )

    @property
    def held_bound(self) -> int:
        """The most records held at once."""
        if self.max_held_records is not None:
            return self.max_held_records
        return 2 * (self.batch_size + self.poll_records)
