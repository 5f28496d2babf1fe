"""The store interface that every backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Self

import pandas as pd

from streamforge.schemas import Candle, Trade
from streamforge.storage.graphs import GraphData, ModelRecord, check_key
from streamforge.storage.tables import (
    CANDLES,
    TABLES,
    TRADES,
    RecordKind,
    Rows,
    Selection,
    rows_of,
)


class StoreError(RuntimeError):
    """The store cannot be opened or used: a bad URL, an unreachable server, refused credentials,
    an unusable file. The message is one line and shows the URL with its password masked."""


class Store(ABC):
    """Market records, workflow views, graphs and model records, kept by natural ids.

    Calls are synchronous and must not overlap; they may come from different threads (callers
    run a store in a worker thread). Time ranges are half-open ``[start, end)`` in epoch ms, on
    ``trade_time`` for trades and ``open_time`` for candles; ``None`` leaves a side open.
    """

    #: The store's URL for display, its password masked.
    url: str

    def upsert(self, records: Sequence[Trade | Candle]) -> int:
        """Write ``records`` in one transaction; the number written.

        A record overwrites the stored one with the same natural id (``exchange|symbol|trade_id``
        or ``exchange|symbol|interval|open_time``), so re-delivery never duplicates. A record of
        any other type raises ``TypeError`` naming it, and nothing is written.
        """
        return self.upsert_rows(rows_of(records))

    @abstractmethod
    def upsert_rows(self, rows: Rows) -> int:
        """Write the rows of records (see :data:`~streamforge.storage.tables.Rows`) in one
        transaction, as :meth:`upsert` writes records; of equal natural ids the last row wins.
        The number written.

        For writers that get records as rows (a writer process), not for input from outside:
        the rows are not checked against the record contracts.
        """

    def count(
        self,
        kind: RecordKind,
        symbol: str,
        *,
        interval: str | None = None,
        start: int | None = None,
        end: int | None = None,
        exchange: str = "binance",
    ) -> int:
        """How many records of ``kind`` are stored for ``symbol`` in ``[start, end)``.

        For candles, ``interval=None`` counts every interval; trades take no interval.
        """
        return self._count(
            Selection(TABLES[RecordKind(kind)], exchange, symbol, interval, start, end)
        )

    def trades(
        self,
        symbol: str,
        *,
        start: int | None = None,
        end: int | None = None,
        exchange: str = "binance",
        exact: bool = False,
    ) -> pd.DataFrame:
        """The trades of ``symbol`` in ``[start, end)`` ordered by ``trade_id``.

        One column per :class:`Trade` field (no ``v``), preceded by ``time``, ``trade_time`` as a
        tz-aware UTC datetime. Ids and times are ``int64`` (epoch ms), ``buyer_is_maker`` is
        ``bool``; ``price`` and ``qty`` are ``float64``, or the exact stored text when ``exact``.
        """
        return self._frame(Selection(TRADES, exchange, symbol, None, start, end), exact)

    def candles(
        self,
        symbol: str,
        interval: str,
        *,
        start: int | None = None,
        end: int | None = None,
        exchange: str = "binance",
        exact: bool = False,
    ) -> pd.DataFrame:
        """The ``interval`` candles of ``symbol`` opened in ``[start, end)``, by ``open_time``.

        One column per :class:`Candle` field (no ``v``), preceded by ``time``, ``open_time`` as a
        tz-aware UTC datetime; dtypes as in :meth:`trades`.
        """
        return self._frame(Selection(CANDLES, exchange, symbol, interval, start, end), exact)

    @abstractmethod
    def _count(self, selection: Selection) -> int: ...

    @abstractmethod
    def _frame(self, selection: Selection, exact: bool) -> pd.DataFrame: ...

    @abstractmethod
    def put_workflow(self, view: Mapping[str, Any]) -> None:
        """Store a workflow view (a JSON-able dict) under ``view["queue_id"]``, overwriting."""

    @abstractmethod
    def workflow(self, queue_id: str) -> dict[str, Any] | None:
        """The view stored under ``queue_id``, or ``None``."""

    @abstractmethod
    def workflows(self) -> list[dict[str, Any]]:
        """Every stored workflow view, ordered by ``queue_id``."""

    @abstractmethod
    def put_graph(self, graph: GraphData) -> None:
        """Store ``graph``, replacing entirely any graph of the same name."""

    @abstractmethod
    def graph(self, name: str) -> GraphData | None:
        """The graph called ``name`` (vertices ordered by ``_key``, edges as put), or ``None``."""

    @abstractmethod
    def graph_names(self) -> list[str]:
        """Names of the stored graphs, sorted."""

    @abstractmethod
    def put_model(self, model: ModelRecord) -> None:
        """Store ``model``, overwriting a record of the same name."""

    @abstractmethod
    def models(self) -> list[ModelRecord]:
        """Every model record, ordered by ``created_at`` then ``name``."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection; closing twice is harmless."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"


def queue_id_of(view: Mapping[str, Any]) -> str:
    """The ``queue_id`` a workflow view is stored under."""
    return check_key("a workflow view's queue_id", view.get("queue_id"))
