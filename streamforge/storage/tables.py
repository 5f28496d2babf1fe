"""What each backend stores per record kind: columns, natural key, time axis and query filters."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from operator import attrgetter
from typing import Any

import msgspec

from streamforge.schemas import Candle, Trade

_COMMON = ("exchange", "symbol")
_DTYPES = {msgspec.inspect.IntType: "int64", msgspec.inspect.BoolType: "bool"}


class RecordKind(StrEnum):
    """The market records a store keeps."""

    CANDLES = "candles"
    TRADES = "trades"


@dataclass(frozen=True)
class Table:
    """How the records of one kind are stored: a column per struct field (without ``v``)."""

    kind: RecordKind
    record_type: type[Trade] | type[Candle]
    #: Natural id columns, in key order.
    key: tuple[str, ...]
    #: Column of the half-open ``[start, end)`` range of queries (epoch ms).
    time: str
    #: Column that orders a query's rows.
    order: str

    @cached_property
    def columns(self) -> tuple[str, ...]:
        """``exchange``, ``symbol``, then the record's own fields in declaration order."""
        own = (f for f in self.record_type.__struct_fields__ if f not in (*_COMMON, "v"))
        return (*_COMMON, *own)

    @property
    def decimals(self) -> tuple[str, ...]:
        """Columns holding the exchange's exact decimal text."""
        return self.record_type._decimals

    @cached_property
    def row(self) -> Callable[[Any], tuple[Any, ...]]:
        """A record's column values, in :attr:`columns` order."""
        return attrgetter(*self.columns)

    @cached_property
    def key_positions(self) -> tuple[int, ...]:
        """Where the :attr:`key` columns are in a row."""
        return tuple(self.columns.index(column) for column in self.key)

    def dtypes(self, exact: bool) -> dict[str, str]:
        """pandas dtypes of the columns: decimals as ``float64``, or as text when ``exact``."""
        info = msgspec.inspect.type_info(self.record_type)
        assert isinstance(info, msgspec.inspect.StructType)
        types = {field.name: type(_unwrap(field.type)) for field in info.fields}
        decimal = "str" if exact else "float64"
        return {
            name: decimal if name in self.decimals else _DTYPES.get(types[name], "str")
            for name in self.columns
        }


def _unwrap(info: msgspec.inspect.Type) -> msgspec.inspect.Type:
    while isinstance(info, msgspec.inspect.Metadata):
        info = info.type
    return info


TRADES = Table(
    RecordKind.TRADES, Trade, ("exchange", "symbol", "trade_id"), "trade_time", "trade_id"
)
CANDLES = Table(
    RecordKind.CANDLES,
    Candle,
    ("exchange", "symbol", "interval", "open_time"),
    "open_time",
    "open_time",
)
TABLES = {RecordKind.TRADES: TRADES, RecordKind.CANDLES: CANDLES}


def split(records: Iterable[object]) -> tuple[list[Trade], list[Candle]]:
    """Trades and candles of ``records``; any other type raises ``TypeError`` naming it."""
    trades: list[Trade] = []
    candles: list[Candle] = []
    lists: dict[type, list[Any]] = {Trade: trades, Candle: candles}
    for record in records:
        try:
            lists[type(record)].append(record)
        except KeyError:
            raise TypeError(
                f"a store keeps Trade and Candle records, not {type(record).__name__}"
            ) from None
    return trades, candles


#: Rows of market records by kind, each row the values of its table's :attr:`Table.columns`
#: in order: the form in which records travel to a store's writer (tuples or lists).
Rows = Mapping[RecordKind, Sequence[Sequence[Any]]]


def rows_of(records: Iterable[object]) -> dict[RecordKind, list[tuple[Any, ...]]]:
    """The rows of ``records`` by kind (kinds without records left out), each kind in the order
    of ``records``; any type other than Trade and Candle raises ``TypeError`` naming it."""
    return rows_by_kind(*split(records))


def rows_by_kind(
    trades: Sequence[Trade], candles: Sequence[Candle]
) -> dict[RecordKind, list[tuple[Any, ...]]]:
    """The rows of ``trades`` and ``candles`` by kind (kinds without records left out)."""
    return {
        table.kind: list(map(table.row, batch))
        for table, batch in ((TRADES, trades), (CANDLES, candles))
        if batch
    }


@dataclass(frozen=True)
class Selection:
    """The records of one symbol (and interval) over a half-open time range."""

    table: Table
    exchange: str
    symbol: str
    interval: str | None = None
    start: int | None = None
    end: int | None = None

    def __post_init__(self) -> None:
        if self.interval is not None and self.table is TRADES:
            raise ValueError("trades have no interval")

    def conditions(self) -> list[tuple[str, str, object]]:
        """``(column, operator, value)`` filters that all hold for a selected row."""
        out: list[tuple[str, str, object]] = [
            ("exchange", "=", self.exchange),
            ("symbol", "=", self.symbol),
        ]
        if self.interval is not None:
            out.append(("interval", "=", self.interval))
        if self.start is not None:
            out.append((self.table.time, ">=", self.start))
        if self.end is not None:
            out.append((self.table.time, "<", self.end))
        return out
