"""Plain-text formatting of job and event values for the console's tables."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

#: Shown where a value is not known.
UNKNOWN = "-"


def format_age(seconds: float | None) -> str:
    """A short age such as ``42s``, ``3m05s``, ``2h07m`` or ``4d03h``."""
    if seconds is None:
        return UNKNOWN
    total = max(int(seconds), 0)
    minutes, secs = divmod(total, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


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
