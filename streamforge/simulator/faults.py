"""Faults the simulator injects on request, set at start or changed while it runs.

Ratios are probabilities per event; ``*_next`` counters force the next N events to fail and
count down. Periodic disconnects are timers owned by the server; this module only holds settings.
"""

from __future__ import annotations

import random
from typing import Annotated, Any

import msgspec

Ratio = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
Count = Annotated[int, msgspec.Meta(ge=0)]
Seconds = Annotated[float, msgspec.Meta(gt=0.0)]


class Faults(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Fault settings; the defaults inject nothing."""

    #: Delay added to every REST response and every WebSocket frame, in milliseconds.
    latency_ms: Annotated[float, msgspec.Meta(ge=0.0)] = 0.0
    #: Share of REST and bulk-file requests answered with a 5xx.
    rest_error_ratio: Ratio = 0.0
    #: Number of upcoming REST and bulk-file requests answered with a 5xx.
    rest_error_next: Count = 0
    #: Share of market-data frames cut in half (invalid JSON).
    malformed_ratio: Ratio = 0.0
    #: Number of upcoming market-data frames cut in half.
    malformed_next: Count = 0
    #: Share of diff-depth events dropped, leaving a gap in the update ids.
    depth_gap_ratio: Ratio = 0.0
    #: Number of upcoming diff-depth events dropped.
    depth_gap_next: Count = 0
    #: Close every WebSocket connection this often (seconds).
    disconnect_every_s: Seconds | None = None
    #: Send ``serverShutdown`` and then close every WebSocket connection this often (seconds).
    shutdown_every_s: Seconds | None = None


class FaultActions(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One-off actions that may accompany a fault update."""

    disconnect_now: bool = False
    shutdown_now: bool = False


class FaultState:
    """The current faults and the dice that apply them."""

    def __init__(self, faults: Faults, seed: int) -> None:
        self.faults = faults
        self._rng = random.Random(f"{seed}:faults")

    def update(self, changes: dict[str, Any]) -> Faults:
        """Merge ``changes`` (field names of :class:`Faults`) into the settings; validates."""
        merged = {**msgspec.structs.asdict(self.faults), **changes}
        self.faults = msgspec.convert(merged, Faults)
        return self.faults

    def _take(self, next_field: str, ratio: float) -> bool:
        pending: int = getattr(self.faults, next_field)
        if pending:
            setattr(self.faults, next_field, pending - 1)
            return True
        return ratio > 0.0 and self._rng.random() < ratio

    def take_rest_error(self) -> bool:
        """Whether this REST request fails with a 5xx."""
        return self._take("rest_error_next", self.faults.rest_error_ratio)

    def take_malformed(self) -> bool:
        """Whether this market-data frame is sent malformed."""
        return self._take("malformed_next", self.faults.malformed_ratio)

    def take_depth_gap(self) -> bool:
        """Whether this diff-depth event is dropped."""
        return self._take("depth_gap_next", self.faults.depth_gap_ratio)

    @property
    def latency_s(self) -> float:
        """The added latency in seconds."""
        return self.faults.latency_ms / 1000.0
