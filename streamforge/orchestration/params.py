"""Typed workflow parameters: what a ``start`` command may carry, checked before anything runs.

Each parameter of a workflow has a :class:`ParamType`; :func:`parse_param` turns a value from a
command payload (JSON) into its canonical form (symbols upper-case, times epoch milliseconds)
or raises :class:`InvalidParam` naming the field and the reason.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from streamforge.exchanges.binance.intervals import INTERVALS
from streamforge.schemas.fields import SYMBOL_PATTERN

_SYMBOL = re.compile(SYMBOL_PATTERN).fullmatch
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


class InvalidParam(ValueError):
    """A parameter is missing or has a bad value; ``field`` names it."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class ParamType(StrEnum):
    """The kinds of value a workflow parameter may take."""

    SYMBOL = "symbol"
    SYMBOLS = "symbols"
    INTERVAL = "interval"
    TIME = "time"
    TEXT = "text"
    INT = "int"
    NUMBER = "number"


def parse_time(value: object) -> int:
    """Epoch ms of a UTC ISO date or date-time (an explicit offset is honoured), or of an
    integer number of epoch milliseconds (as a number or as digits)."""
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"epoch ms must not be negative, got {value}")
        return value
    if not isinstance(value, str):
        raise ValueError(f"not a time: {value!r}")
    text = value.strip()
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not an ISO date, date-time or epoch ms: {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # Exact: float seconds * 1000 is one ms short for some times.
    millis = (moment - _EPOCH) // _MILLISECOND
    if millis < 0:
        raise ValueError(f"before 1970: {value!r}")
    return millis


def _symbol(value: object) -> str:
    if not isinstance(value, str) or not _SYMBOL(value.strip().upper()):
        raise ValueError(f"not a symbol (2-30 letters or digits, e.g. BTCUSDT): {value!r}")
    return value.strip().upper()


def _symbols(value: object) -> list[str]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list):
        raise ValueError(f"not a list of symbols: {value!r}")
    symbols = list(dict.fromkeys(_symbol(item) for item in items if str(item).strip()))
    if not symbols:
        raise ValueError("at least one symbol is needed")
    return symbols


def _interval(value: object) -> str:
    if value not in INTERVALS:
        raise ValueError(f"not a kline interval ({', '.join(INTERVALS)}): {value!r}")
    assert isinstance(value, str)
    return value


def _text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"not a non-empty text: {value!r}")
    return value.strip()


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"not an integer: {value!r}")
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"not an integer: {value!r}") from None


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"not a number: {value!r}")
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"not a number: {value!r}") from None


_PARSERS = {
    ParamType.SYMBOL: _symbol,
    ParamType.SYMBOLS: _symbols,
    ParamType.INTERVAL: _interval,
    ParamType.TIME: parse_time,
    ParamType.TEXT: _text,
    ParamType.INT: _int,
    ParamType.NUMBER: _number,
}


def parse_param(name: str, kind: ParamType, value: object) -> Any:
    """The canonical value of parameter ``name``; :class:`InvalidParam` if it is bad."""
    try:
        return _PARSERS[kind](value)
    except ValueError as exc:
        raise InvalidParam(name, str(exc)) from None


def render_param(value: Any) -> str:
    """A canonical value as a command-line argument (lists comma-separated)."""
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
