"""Short human durations, shared by the headless CLI and the console."""

from __future__ import annotations

#: Shown where a value is not known.
UNKNOWN = "-"


def format_age(seconds: float | None) -> str:
    """A short duration such as ``42s``, ``3m05s``, ``2h07m`` or ``4d03h``; ``-`` if unknown."""
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


def format_eta(eta_ms: int | None) -> str:
    """An estimate of the time left, ``-`` while there is none."""
    return UNKNOWN if eta_ms is None else format_age(eta_ms / 1000)
