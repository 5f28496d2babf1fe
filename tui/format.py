"""Plain-text formatting of job and event values for the console's tables."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from streamforge.timefmt import UNKNOWN, format_age

__all__ = [
    "UNKNOWN",
    "format_age",
    "format_clock",
    "format_payload",
    "format_percent",
    "format_progress",
]


def format_percent(fraction: float | None) -> str:
    """``fraction`` (0..1) as a whole percentage, e.g. ``42 %``."""
    if fraction is None:
        return UNKNOWN
    return f"{int(fraction * 100 + 1e-9)} %"


def format_progress(fraction: float | None, width: int = 10) -> str:
    """A text progress bar followed by the percentage, e.g. ``██████░░░░  60 %``."""
    if fraction is None:
        return UNKNOWN
    filled = round(min(max(fraction, 0.0), 1.0) * width)
    return f"{'█' * filled}{'░' * (width - filled)} {format_percent(fraction):>5}"


def format_clock(epoch_ms: int) -> str:
    """The UTC time of day of an epoch-milliseconds timestamp, to the millisecond."""
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%H:%M:%S.%f")[:-3]


def format_payload(payload: Mapping[str, Any]) -> str:
    """A payload as ``key=value`` pairs, in its own order."""
    return " ".join(f"{key}={value}" for key, value in payload.items())
