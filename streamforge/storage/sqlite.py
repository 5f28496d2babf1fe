"""The embedded store: one SQLite file in WAL mode.

WAL lets readers in other processes (notebooks, the CLI) work while one writer writes, and lets
several writer processes (a connector, the queue-manager) take turns, each waiting up to
:data:`BUSY_TIMEOUT_S` for the write lock. ``synchronous=NORMAL`` keeps every commit atomic and
consistent; only the last commits before a power loss may be lost.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from functools import cache
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from streamforge.schemas import Candle, Trade
from streamforge.storage.base import Store, StoreError, queue_id_of
from streamforge.storage.frames import to_frame
from streamforge.storage.graphs import EdgeSet, GraphData, ModelRecord, VertexSet
from streamforge.storage.migrations import migrate
from streamforge.storage.tables import CANDLES, TRADES, Selection, Table, split

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


@cache
def _upsert_sql(table: Table, rows: int) -> str:
    """Upsert of ``rows`` records; within a statement, the last of equal keys wins."""
    columns = ", ".join(table.columns)
    marks = ", ".join("?" for _ in table.columns)
    values = ", ".join(f"({marks})" for _ in range(rows))
    updates = ", ".join(f"{c} = excluded.{c}" for c in table.columns if c not in table.key)
    return (
        f"INSERT INTO {table.kind} ({columns}) VALUES {values} "
        f"ON CONFLICT ({', '.join(table.key)}) DO UPDATE SET {updates}"
    )


def _where(selection: Selection) -> tuple[str, list[object]]:
    conditions = selection.conditions()
    clause = " AND ".join(f"{column} {op} ?" for column, op, _ in conditions)
    return clause, [value for _, _, value in conditions]


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

    def upsert(self, records: Sequence[Trade | Candle]) -> int:
        trades, candles = split(records)
        with self._transaction() as conn:
            for table, batch in ((TRADES, trades), (CANDLES, candles)):
                self._write(conn, table, batch)
        return len(trades) + len(candles)

    def _write(self, conn: sqlite3.Connection, table: Table, records: Sequence[Any]) -> None:
        per = min(ROWS_PER_STATEMENT, self._max_params // len(table.columns))
        whole = len(records) - len(records) % per
        if whole:
            sql = _upsert_sql(table, per)
            for i in range(0, whole, per):
                conn.execute(sql, list(chain.from_iterable(map(table.row, records[i : i + per]))))
        if whole < len(records):
            conn.executemany(_upsert_sql(table, 1), map(table.row, records[whole:]))

    def _count(self, selection: Selection) -> int:
        where, params = _where(selection)
        count: int = self._rows(
            f"SELECT count(*) FROM {selection.table.kind} WHERE {where}", params
        )[0][0]
        return count

    def _frame(self, selection: Selection, exact: bool) -> pd.DataFrame:
        table = selection.table
        where, params = _where(selection)
        rows = self._rows(
            f"SELECT {', '.join(table.columns)} FROM {table.kind} WHERE {where} "
            f"ORDER BY {table.order}",
            params,
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
