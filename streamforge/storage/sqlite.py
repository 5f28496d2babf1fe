"""The embedded store: one SQLite file in WAL mode.

WAL lets readers in other processes (notebooks, the CLI) work while one writer writes, and lets
several writer processes (a connector, the queue-manager) take turns, each waiting up to
:data:`BUSY_TIMEOUT_S` for the write lock. ``synchronous=NORMAL`` keeps every commit atomic and
consistent; only the last commits before a power loss may be lost.

Market rows name their series (exchange and symbol) by a small integer id from the ``series``
table instead of repeating its text: keys and rows are narrower, and writes about twice as fast.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from functools import cache, lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from streamforge.storage.base import Store, StoreError, queue_id_of
from streamforge.storage.frames import to_frame
from streamforge.storage.graphs import EdgeSet, GraphData, ModelRecord, VertexSet
from streamforge.storage.migrations import migrate
from streamforge.storage.tables import TABLES, TRADES, Rows, Selection, Table

BUSY_TIMEOUT_S = 30.0
#: Records per multi-row upsert statement: it binds far faster than one statement per record.
ROWS_PER_STATEMENT = 500


def sqlite_path(url: str) -> Path:
    """The file of a ``sqlite:///`` URL, as SQLAlchemy reads it.

    ``sqlite:///data/sf.db`` is relative to the working directory, ``sqlite:////var/sf.db``
    absolute (the fourth slash starts the path).
    """
    parts = urlsplit(url)
    if parts.scheme != "sqlite" or parts.netloc or parts.query or len(parts.path) < 2:
        raise StoreError(
            f"bad SQLite URL {url!r}: use sqlite:///relative/path or sqlite:////absolute/path"
        )
    return Path(parts.path[1:])


#: The columns of a :class:`Table` that name its series, stored once in the ``series`` table.
_SERIES = ("exchange", "symbol")


@cache
def _own_columns(table: Table) -> tuple[str, ...]:
    """The columns of ``table`` after its series, stored in every row after the series id."""
    assert table.columns[: len(_SERIES)] == _SERIES
    return table.columns[len(_SERIES) :]


@lru_cache(maxsize=16)
def _upsert_sql(table: Table, rows: int) -> str:
    """Upsert of ``rows`` rows (series id, then own columns); within a statement, the last of
    equal keys wins. Cached: full statements recur, and a batch's remainder often does."""
    columns = ("series", *_own_columns(table))
    key = ("series", *(c for c in table.key if c not in _SERIES))
    marks = ", ".join("?" for _ in columns)
    values = ", ".join(f"({marks})" for _ in range(rows))
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
    return (
        f"INSERT INTO {table.kind} ({', '.join(columns)}) VALUES {values} "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    )


#: Indexes on the time column of a kind whose rows are ordered by another column.
_TIME_INDEXES = {TRADES: "trades_by_time"}


def _source(selection: Selection) -> str:
    """What a query of ``selection`` reads: with a time bound, the kind's time index if it has
    one (the planner would otherwise scan the series in :attr:`Table.order` to skip a sort)."""
    table = selection.table
    index = _TIME_INDEXES.get(table)
    if index is None or (selection.start is None and selection.end is None):
        return table.kind
    return f"{table.kind} INDEXED BY {index}"


def _where(selection: Selection) -> tuple[str, list[object]]:
    """The filter of ``selection`` on stored rows: the series by id, then its other conditions.

    An unknown series gives a NULL id, which no row matches.
    """
    clauses = ["series = (SELECT id FROM series WHERE exchange = ? AND symbol = ?)"]
    params: list[object] = [selection.exchange, selection.symbol]
    for column, op, value in selection.conditions():
        if column not in _SERIES:
            clauses.append(f"{column} {op} ?")
            params.append(value)
    return " AND ".join(clauses), params


class _SeriesIds(dict[tuple[str, str], int]):
    """Series ids by ``(exchange, symbol)``, read or added on first use, which must be inside
    a write transaction.

    A series added in a transaction that rolls back is gone (and its id may be given to another
    series): :meth:`SqliteStore.upsert_rows` clears the cache then. Series are never removed, so an
    id once committed stays valid.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        super().__init__()
        self._conn = conn

    def __missing__(self, series: tuple[str, str]) -> int:
        self._conn.execute(
            "INSERT INTO series (exchange, symbol) VALUES (?, ?) ON CONFLICT DO NOTHING", series
        )
        series_id: int = self._conn.execute(
            "SELECT id FROM series WHERE exchange = ? AND symbol = ?", series
        ).fetchone()[0]
        self[series] = series_id
        return series_id


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


class SqliteStore(Store):
    """A :class:`Store` in one SQLite file; the parent directory is created if missing."""

    def __init__(self, path: Path, url: str | None = None) -> None:
        self.url = url or f"sqlite:///{path}"
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"{self.url}: cannot open: {exc}") from None
        try:
            self._max_params = self._conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")
            migrate(self._conn, self.url)
            self._series_ids = _SeriesIds(self._conn)
        except sqlite3.Error as exc:
            self._conn.close()
            raise StoreError(f"{self.url}: cannot open: {exc}") from None
        except BaseException:
            self._conn.close()
            raise

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as exc:
            raise StoreError(f"{self.url}: {exc}") from None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._errors():
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _rows(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        with self._lock, self._errors():
            return self._conn.execute(sql, params).fetchall()

    def upsert_rows(self, rows: Rows) -> int:
        try:
            with self._transaction() as conn:
                for kind, batch in rows.items():
                    self._write(conn, TABLES[kind], batch)
        except BaseException:
            self._series_ids.clear()  # it may hold ids of series that were rolled back
            raise
        return sum(map(len, rows.values()))

    def _write(self, conn: sqlite3.Connection, table: Table, rows: Sequence[Sequence[Any]]) -> None:
        width = len(_own_columns(table)) + 1
        params = self._params(rows)
        step = min(ROWS_PER_STATEMENT, self._max_params // width) * width
        for i in range(0, len(params), step):
            chunk = params[i : i + step]
            conn.execute(_upsert_sql(table, len(chunk) // width), chunk)

    def _params(self, rows: Sequence[Sequence[Any]]) -> list[Any]:
        """The values to bind for ``rows``, flat: each one's series id, then its own columns
        (a loop over flat appends builds them twice as fast as one tuple a row)."""
        ids = self._series_ids
        params: list[Any] = []
        append, extend = params.append, params.extend
        for row in rows:  # a row starts with its _SERIES columns (see _own_columns)
            append(ids[row[0], row[1]])
            extend(row[2:])
        return params

    def _count(self, selection: Selection) -> int:
        where, params = _where(selection)
        sql = f"SELECT count(*) FROM {_source(selection)} WHERE {where}"
        count: int = self._rows(sql, params)[0][0]
        return count

    def _frame(self, selection: Selection, exact: bool) -> pd.DataFrame:
        table = selection.table
        where, params = _where(selection)
        rows = self._rows(
            f"SELECT ?, ?, {', '.join(_own_columns(table))} FROM {_source(selection)} "
            f"WHERE {where} ORDER BY {table.order}",
            [selection.exchange, selection.symbol, *params],
        )
        return to_frame(table, rows, exact)

    def put_workflow(self, view: Mapping[str, Any]) -> None:
        row = (queue_id_of(view), _dumps(view))
        with self._transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO workflows (queue_id, view) VALUES (?, ?)", row)

    def workflow(self, queue_id: str) -> dict[str, Any] | None:
        rows = self._rows("SELECT view FROM workflows WHERE queue_id = ?", (queue_id,))
        return json.loads(rows[0][0]) if rows else None

    def workflows(self) -> list[dict[str, Any]]:
        rows = self._rows("SELECT view FROM workflows ORDER BY queue_id")
        return [json.loads(view) for (view,) in rows]

    def put_graph(self, graph: GraphData) -> None:
        by_key = itemgetter("_key")
        sets = [
            (graph.name, i, s.collection, None, None, _dumps(sorted(s.vertices, key=by_key)))
            for i, s in enumerate(graph.vertex_sets)
        ] + [
            (graph.name, i, s.collection, s.from_collection, s.to_collection, _dumps(s.edges))
            for i, s in enumerate(graph.edge_sets, start=len(graph.vertex_sets))
        ]
        metadata = _dumps(graph.metadata)
        with self._transaction() as conn:
            conn.execute("DELETE FROM graph_sets WHERE graph = ?", (graph.name,))
            conn.execute(
                "INSERT OR REPLACE INTO graphs (name, metadata) VALUES (?, ?)",
                (graph.name, metadata),
            )
            conn.executemany("INSERT INTO graph_sets VALUES (?, ?, ?, ?, ?, ?)", sets)

    def graph(self, name: str) -> GraphData | None:
        with self._lock, self._errors():
            # One read transaction, so that a concurrent put is seen whole or not at all.
            self._conn.execute("BEGIN")
            try:
                head = self._conn.execute(
                    "SELECT metadata FROM graphs WHERE name = ?", (name,)
                ).fetchone()
                sets = self._conn.execute(
                    "SELECT collection, from_collection, to_collection, items FROM graph_sets "
                    "WHERE graph = ? ORDER BY position",
                    (name,),
                ).fetchall()
            finally:
                self._conn.execute("COMMIT")
        if head is None:
            return None
        vertex_sets: list[VertexSet] = []
        edge_sets: list[EdgeSet] = []
        for collection, from_collection, to_collection, items in sets:
            if from_collection is None:
                vertex_sets.append(VertexSet(collection, json.loads(items)))
            else:
                edge_sets.append(
                    EdgeSet(collection, from_collection, to_collection, json.loads(items))
                )
        return GraphData(name, vertex_sets, edge_sets, json.loads(head[0]))

    def graph_names(self) -> list[str]:
        return [name for (name,) in self._rows("SELECT name FROM graphs ORDER BY name")]

    def put_model(self, model: ModelRecord) -> None:
        row = (model.name, model.created_at, _dumps(asdict(model)))
        with self._transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO models (name, created_at, record) VALUES (?, ?, ?)", row
            )

    def models(self) -> list[ModelRecord]:
        rows = self._rows("SELECT record FROM models ORDER BY created_at, name")
        return [ModelRecord(**json.loads(record)) for (record,) in rows]

    def close(self) -> None:
        with self._lock:
            self._conn.close()
