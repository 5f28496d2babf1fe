"""Aggregate trades in the Trade contract's JSON, for the loaders' hot paths.

Building a :class:`~streamforge.schemas.Trade` runs its text checks, and on a loader's hot path
that costs more than decoding the exchange's payload. Where the texts are already checked (a
stream payload or a bulk block, checked as a whole), a loader builds an :data:`UncheckedTrade`
instead: it encodes byte for byte as the Trade would, which tests hold equal.

Faster still, where the optional compiled extension is installed (:data:`NATIVE`, built from
``native/``), it checks and renders trades itself, from a template of the Trade's JSON that
:func:`template_of` makes by encoding a trade of :func:`sentinels`: the JSON is still written
in one place, here.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import re
from types import ModuleType
from typing import Any

import msgspec

from streamforge.schemas import Trade, encode
from streamforge.schemas.market import unchecked

#: Encodes exactly as :class:`~streamforge.schemas.Trade`; its constructor checks nothing.
UncheckedTrade = unchecked(Trade)


class EncodedTrade(msgspec.Struct, frozen=True, gc=False):
    """A trade already encoded as its contract's JSON (``value``), with what a loader routes
    and orders it by."""

    symbol: str
    trade_id: int
    event_time: int
    value: bytes

    @classmethod
    def of(cls, trade: Trade) -> EncodedTrade:
        """``trade``, encoded."""
        return cls(trade.symbol, trade.trade_id, trade.event_time, encode(trade))


def _turned_off() -> bool:
    """Whether ``STREAMFORGE_NATIVE`` turns the compiled extension off (unset: on)."""
    switch = (os.environ.get("STREAMFORGE_NATIVE") or "1").strip().lower()
    if switch not in ("0", "false", "no", "off", "1", "true", "yes", "on"):
        raise ValueError(f"STREAMFORGE_NATIVE must be 0 or 1, not {switch!r}")
    return switch in ("0", "false", "no", "off")


def _compiled_extension() -> ModuleType | None:
    """The optional compiled extension, unless it is not installed or turned off."""
    if _turned_off():
        return None
    try:
        return importlib.import_module("streamforge_native")
    except ImportError:
        return None


#: The compiled extension (``streamforge_native``), or None where the Python paths do its work.
NATIVE = _compiled_extension()


def native_status() -> str:
    """One line saying whether the loaders' trade paths run in the compiled extension."""
    if NATIVE is not None:
        version = importlib.metadata.version("streamforge-native")
        return f"compiled extension: streamforge-native {version}"
    if _turned_off():
        return "compiled extension: turned off (STREAMFORGE_NATIVE=0); the Python paths run"
    return "compiled extension: not installed; the Python paths run (see native/README.md)"


#: The trade fields a template's slots stand for, by number (as the compiled extension numbers
#: them); times are epoch milliseconds.
TEMPLATE_SLOTS = (
    "trade_id",
    "price",
    "qty",
    "first_trade_id",
    "last_trade_id",
    "trade_time",
    "buyer_is_maker",
    "event_time",
    "receive_time",
    "symbol",
)
# Distinct 14-digit numbers (in range for a millisecond time) stand for the slots while a
# template is encoded; nothing else in a Trade's JSON has 14 digits but its times.
_SENTINEL_BASE = 90_909_090_909_000
_SENTINEL = re.compile(rb"90909090909(\d\d\d)")


def sentinels() -> dict[str, Any]:
    """A value for each field of :data:`TEMPLATE_SLOTS` that :func:`template_of` recognizes:
    numbers, but texts for the fields that are texts."""
    values: dict[str, Any] = {
        field: _SENTINEL_BASE + slot for slot, field in enumerate(TEMPLATE_SLOTS)
    }
    for text in ("price", "qty", "symbol"):
        values[text] = str(values[text])
    return values


def template_of(trade_json: bytes, slots: frozenset[str]) -> tuple[list[bytes], list[int]]:
    """The JSON of a trade made of :func:`sentinels` as constant pieces and, between each two,
    the number of the slot that fills the gap; it must hold each of ``slots`` and no other."""
    parts = _SENTINEL.split(trade_json)
    pieces, numbers = parts[::2], [int(number) for number in parts[1::2]]
    found = {TEMPLATE_SLOTS[number] for number in numbers}
    if found != slots:
        raise AssertionError(f"the Trade's JSON holds {sorted(found)}, not {sorted(slots)}")
    return pieces, numbers
