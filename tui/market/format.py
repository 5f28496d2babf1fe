"""Plain-text formatting of market values: exact decimals, compact numbers, sparklines."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from tui.format import UNKNOWN

#: Sparkline glyphs from lowest to highest.
SPARKS = "▁▂▃▄▅▆▇█"


def trim_zeros(text: str) -> str:
    """A decimal text without trailing fractional zeros: ``60012.10000000`` -> ``60012.1``."""
    if "." not in text:
        return text
    return text.rstrip("0").rstrip(".")


def decimals_of(text: str) -> int:
    """Digits after the point of a (trimmed) decimal text."""
    point = text.find(".")
    return 0 if point < 0 else len(text) - point - 1


def align_decimals(texts: Sequence[str]) -> list[str]:
    """Exact decimal texts trimmed, then padded with zeros to the longest fraction among them,
    so that they line up when right-aligned."""
    trimmed = [trim_zeros(text) for text in texts]
    places = max(map(decimals_of, trimmed), default=0)
    return [pad_decimals(text, places) for text in trimmed]


def pad_decimals(text: str, places: int) -> str:
    """A trimmed decimal text padded with zeros to ``places`` fractional digits."""
    missing = places - decimals_of(text)
    if missing <= 0:
        return text
    return f"{text}{'' if '.' in text else '.'}{'0' * missing}"


def format_exact(value: Decimal, places: int) -> str:
    """An exact decimal with ``places`` fractional digits (more if it needs them)."""
    text = trim_zeros(format(value, "f"))
    return pad_decimals(text, places)


def format_compact(value: float) -> str:
    """A size such as ``845.1``, ``12.35K``, ``1.20M`` or ``3.40B``."""
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= limit:
            return f"{value / limit:.2f}{suffix}"
    return f"{value:.4g}" if abs(value) < 1 else f"{value:.1f}"


def format_change(percent: float | None) -> str:
    """A signed percentage such as ``+1.23%``."""
    return UNKNOWN if percent is None else f"{percent:+.2f}%"


def sparkline(values: Sequence[float], width: int) -> str:
    """The last ``width`` values as block glyphs scaled between their minimum and maximum."""
    shown = list(values)[-width:] if width > 0 else []
    if not shown:
        return ""
    low, high = min(shown), max(shown)
    if high == low:
        return SPARKS[len(SPARKS) // 2 - 1] * len(shown)
    scale = (len(SPARKS) - 1) / (high - low)
    return "".join(SPARKS[round((value - low) * scale)] for value in shown)
