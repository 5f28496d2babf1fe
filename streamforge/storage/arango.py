"""The ArangoDB store: ``arango://USER:PASSWORD@HOST:PORT/DB``, or ``arangos://`` for TLS.

The port defaults to 8529, the database to ``streamforge``, the user to ``root`` (empty
password). ``arangos://`` takes ``?ca=PATH`` (a CA bundle to verify the server with) or
``?verify=false``. On open the database is created if missing (when the user may), and the
document collections ``trades``, ``candles``, ``workflows``, ``models`` and ``graphs`` with their
range indexes.

Document keys: ArangoDB does not allow ``|`` in a ``_key``, so the natural id's separators
become ``:`` (``binance:BTCUSDT:42``, ``binance:BTCUSDT:1m:1700000000000``); no part of an id
holds a ``:``, so the mapping reverses by swapping back (:func:`natural_key`).

Graph ``G`` is the named graph ``G`` whose set ``S`` lives in collection ``G-S`` (names hold no
``-``); its metadata and set list are a document in ``graphs``. Putting a graph again drops and
recreates its collections, which ArangoDB cannot do in a transaction: meanwhile :meth:`graph`
returns ``None``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import partial
from operator import itemgetter
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qsl, unquote, urlsplit

import pandas as pd
import requests
from arango.client import ArangoClient
from arango.cursor import Cursor
from arango.database import Database, StandardDatabase
from arango.errno import DATABASE_NOT_FOUND, DUPLICATE_NAME
from arango.exceptions import ArangoError, ArangoServerError
from arango.http import DefaultHTTPClient

from streamforge.config.secrets import redact
from streamforge.storage.base import Store, StoreError, queue_id_of
from streamforge.storage.frames import to_frame
from streamforge.storage.graphs import EdgeSet, GraphData, ModelRecord, VertexSet, is_key
from streamforge.storage.tables import TABLES, Rows, Selection, Table

DEFAULT_PORT = 8529
DEFAULT_DATABASE = "streamforge"
#: Seconds an HTTP request may take; a refused connection fails at once (no retries).
REQUEST_TIMEOUT_S = 60.0
#: Documents per AQL insert: bounds the size of one request.
INSERT_CHUNK = 20_000
KEY_SEPARATOR = ":"

_COLLECTIONS = ("trades", "candles", "workflows", "models", "graphs")
_INDEXES: dict[str, list[tuple[str, ...]]] = {
    "trades": [("exchange", "symbol", "trade_time"), ("exchange", "symbol", "trade_id")],
    "candles": [("exchange", "symbol", "interval", "open_time")],
}
_INSERT = 'FOR d IN @docs INSERT d INTO @@collection OPTIONS { overwriteMode: "replace" }'
_AQL_OPERATORS = {"=": "==", ">=": ">=", "<": "<"}


def document_key(table: Table, row: Sequence[Any]) -> str:
    """The ``_key`` of a record, given as a row of ``table``: its natural id with ``|``
    replaced by ``:``."""
    return KEY_SEPARATOR.join(str(row[i]) for i in table.key_positions)


def natural_key(key: str) -> str:
    """The natural id (``exchange|symbol|...``) of a document ``_key``."""
    return key.replace(KEY_SEPARATOR, "|")


def set_collection(graph: str, collection: str) -> str:
    """The ArangoDB collection holding set ``collection`` of graph ``graph``."""
    return f"{graph}-{collection}"


@dataclass(frozen=True)
class ArangoTarget:
    """Where and as whom to connect, read from a store URL."""

    hosts: str
    database: str
    username: str
    password: str = field(repr=False)
    #: ``True``, ``False``, or the path of a CA bundle.
    verify: bool | str = True

    @classmethod
    def parse(cls, url: str, display: str) -> ArangoTarget:
        """Read ``url``; errors name ``display``, the URL with its password masked."""
        try:
            parts = urlsplit(url)
            port = parts.port or DEFAULT_PORT
        except ValueError as exc:
            raise StoreError(f"bad ArangoDB URL {display}: {exc}") from None
        if parts.scheme not in ("arango", "arangos") or not parts.hostname:
            raise StoreError(
                f"bad ArangoDB URL {display}: use arango://USER:PASSWORD@HOST:PORT/DB "
                "or arangos://... for TLS"
            )
        database = unquote(parts.path.strip("/")) or DEFAULT_DATABASE
        if "/" in database:
            raise StoreError(f"bad ArangoDB URL {display}: the path is one database name")
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        tls = parts.scheme == "arangos"
        return cls(
            hosts=f"{'https' if tls else 'http'}://{host}:{port}",
            database=database,
            username=unquote(parts.username or "root"),
            password=unquote(parts.password or ""),
            verify=_verify(parts.query, tls, display),
        )


def _verify(query: str, tls: bool, display: str) -> bool | str:
    params = dict(parse_qsl(query, keep_blank_values=True))
    unknown = sorted(set(params) - {"ca", "verify"})
    if unknown or (params and not tls):
        raise StoreError(
            f"bad ArangoDB URL {display}: only arangos:// takes parameters, ca=PATH or verify=false"
        )
    if "ca" in params:
        if not Path(params["ca"]).is_file():
            raise StoreError(f"bad ArangoDB URL {display}: CA file not found: {params['ca']}")
        return params["ca"]
    verify = params.get("verify", "true").lower()
    if verify not in ("true", "false"):
        raise StoreError(f"bad ArangoDB URL {display}: verify must be true or false")
    return verify == "true"


@contextmanager
def _errors(label: str) -> Iterator[None]:
    """Failures of the server or of the connection as :class:`StoreError`, password masked."""
    try:
        yield
    except ArangoServerError as exc:
        if exc.http_code in (401, 403):
            raise StoreError(f"{label}: not authorized ({exc.error_message})") from None
        raise StoreError(f"{label}: {redact(str(exc))}") from None
    except (ConnectionAbortedError, requests.RequestException) as exc:
        raise StoreError(f"cannot reach ArangoDB at {label}: {redact(str(exc))}") from None
    except ArangoError as exc:
        raise StoreError(f"{label}: {redact(str(exc))}") from None


def _aql(db: Database, query: str, **bind_vars: Any) -> list[Any]:
    cursor = cast(Cursor, db.aql.execute(query, bind_vars=bind_vars, batch_size=10_000))
    return list(cursor)


def _insert(db: Database, collection: str, docs: Sequence[Mapping[str, Any]]) -> None:
    for i in range(0, len(docs), INSERT_CHUNK):
        _aql(db, _INSERT, docs=docs[i : i + INSERT_CHUNK], **{"@collection": collection})


def _where(selection: Selection) -> tuple[str, dict[str, Any]]:
    conditions = selection.conditions()
    clause = " AND ".join(
        f"d.`{column}` {_AQL_OPERATORS[op]} @v{i}" for i, (column, op, _) in enumerate(conditions)
    )
    return clause, {f"v{i}": value for i, (_, _, value) in enumerate(conditions)}


def _documents(table: Table, rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    """Documents of ``rows``; of equal keys the last one, as one INSERT may not hold both."""
    columns = table.columns
    docs = {document_key(table, row): dict(zip(columns, row, strict=True)) for row in rows}
    return [{"_key": key, **doc} for key, doc in docs.items()]


def _edge_documents(graph: str, edges: EdgeSet) -> list[dict[str, Any]]:
    """Edges with ArangoDB ids as ends and their position as ``_key``, which keeps their order."""
    sources = set_collection(graph, edges.from_collection)
    targets = set_collection(graph, edges.to_collection)
    return [
        edge
        | {"_key": str(i), "_from": f"{sources}/{edge['_from']}", "_to": f"{targets}/{edge['_to']}"}
        for i, edge in enumerate(edges.edges)
    ]


def _graph_head(graph: GraphData) -> dict[str, Any]:
    """The ``graphs`` document of a graph: its metadata and sets, in order."""
    return {
        "_key": graph.name,
        "metadata": graph.metadata,
        "vertex_sets": [s.collection for s in graph.vertex_sets],
        "edge_sets": [
            {"collection": s.collection, "from": s.from_collection, "to": s.to_collection}
            for s in graph.edge_sets
        ],
    }


class ArangoStore(Store):
    """A :class:`Store` in an ArangoDB database; open it with :meth:`connect`."""

    def __init__(self, client: ArangoClient, db: StandardDatabase, url: str) -> None:
        self._client = client
        self._db = db
        self.url = url

    @classmethod
    def connect(cls, url: str, display: str) -> ArangoStore:
        """Connect to ``url``, create what is missing, and check the credentials."""
        target = ArangoTarget.parse(url, display)
        client = ArangoClient(
            hosts=target.hosts,
            http_client=DefaultHTTPClient(request_timeout=REQUEST_TIMEOUT_S, retry_attempts=0),
            resolver_max_tries=1,
            verify_override=target.verify,
        )
        try:
            with _errors(display):
                db = _database(client, target, display)
                _bootstrap(db)
        except BaseException:
            client.close()
            raise
        return cls(client, db, display)

    def upsert_rows(self, rows: Rows) -> int:
        batches = [(TABLES[kind], _documents(TABLES[kind], batch)) for kind, batch in rows.items()]
        if not batches:
            return 0
        with _errors(self.url):
            txn = self._db.begin_transaction(write=[table.kind for table, _ in batches])
            try:
                for table, docs in batches:
                    _insert(txn, table.kind, docs)
            except BaseException:
                txn.abort_transaction()
                raise
            txn.commit_transaction()
        return sum(map(len, rows.values()))

    def _count(self, selection: Selection) -> int:
        where, bind = _where(selection)
        query = f"FOR d IN @@c FILTER {where} COLLECT WITH COUNT INTO n RETURN n"
        with _errors(self.url):
            rows = _aql(self._db, query, **bind, **{"@c": selection.table.kind})
        return int(rows[0]) if rows else 0

    def _frame(self, selection: Selection, exact: bool) -> pd.DataFrame:
        table = selection.table
        where, bind = _where(selection)
        values = ", ".join(f"d.`{column}`" for column in table.columns)
        query = f"FOR d IN @@c FILTER {where} SORT d.`{table.order}` RETURN [{values}]"
        with _errors(self.url):
            rows = _aql(self._db, query, **bind, **{"@c": table.kind})
        return to_frame(table, rows, exact)

    def put_workflow(self, view: Mapping[str, Any]) -> None:
        doc = {"_key": queue_id_of(view), "view": dict(view)}
        with _errors(self.url):
            self._db.collection("workflows").insert(doc, overwrite_mode="replace", silent=True)

    def workflow(self, queue_id: str) -> dict[str, Any] | None:
        if not is_key(queue_id):  # such a view cannot have been stored
            return None
        with _errors(self.url):
            doc = self._db.collection("workflows").get(queue_id)
        return cast(dict[str, Any], doc["view"]) if isinstance(doc, dict) else None

    def workflows(self) -> list[dict[str, Any]]:
        with _errors(self.url):
            rows = _aql(self._db, "FOR w IN workflows RETURN [w._key, w.view]")
        return [view for _, view in sorted(rows, key=itemgetter(0))]

    def put_graph(self, graph: GraphData) -> None:
        prefixed = partial(set_collection, graph.name)
        sets = [s.collection for s in graph.vertex_sets] + [s.collection for s in graph.edge_sets]
        joined = {c for s in graph.edge_sets for c in (s.from_collection, s.to_collection)}
        with _errors(self.url):
            db = self._db
            db.collection("graphs").delete(graph.name, ignore_missing=True)
            db.delete_graph(graph.name, ignore_missing=True, drop_collections=True)
            for collection in sets:  # left over by a put that failed half-way
                db.delete_collection(prefixed(collection), ignore_missing=True)
            db.create_graph(
                graph.name,
                edge_definitions=[
                    {
                        "edge_collection": prefixed(s.collection),
                        "from_vertex_collections": [prefixed(s.from_collection)],
                        "to_vertex_collections": [prefixed(s.to_collection)],
                    }
                    for s in graph.edge_sets
                ],
                orphan_collections=[
                    prefixed(s.collection) for s in graph.vertex_sets if s.collection not in joined
                ],
            )
            for vertices in graph.vertex_sets:
                _insert(db, prefixed(vertices.collection), vertices.vertices)
            for edges in graph.edge_sets:
                _insert(db, prefixed(edges.collection), _edge_documents(graph.name, edges))
            db.collection("graphs").insert(
                _graph_head(graph), overwrite_mode="replace", silent=True
            )

    def graph(self, name: str) -> GraphData | None:
        if not is_key(name):  # such a graph cannot have been stored
            return None
        with _errors(self.url):
            head = self._db.collection("graphs").get(name)
            if not isinstance(head, dict):
                return None
            vertex_sets = [
                VertexSet(
                    collection, sorted(self._vertices(name, collection), key=itemgetter("_key"))
                )
                for collection in head["vertex_sets"]
            ]
            edge_sets = [
                EdgeSet(s["collection"], s["from"], s["to"], self._edges(name, s["collection"]))
                for s in head["edge_sets"]
            ]
        return GraphData(name, vertex_sets, edge_sets, head["metadata"])

    def _vertices(self, graph: str, collection: str) -> list[dict[str, Any]]:
        query = 'FOR v IN @@c RETURN UNSET(v, "_id", "_rev")'
        rows = _aql(self._db, query, **{"@c": set_collection(graph, collection)})
        return sorted(rows, key=itemgetter("_key"))

    def _edges(self, graph: str, collection: str) -> list[dict[str, Any]]:
        query = (
            'FOR e IN @@c SORT TO_NUMBER(e._key) RETURN MERGE(UNSET(e, "_id", "_rev", "_key"), '
            "{_from: PARSE_IDENTIFIER(e._from).key, _to: PARSE_IDENTIFIER(e._to).key})"
        )
        return _aql(self._db, query, **{"@c": set_collection(graph, collection)})

    def graph_names(self) -> list[str]:
        with _errors(self.url):
            return sorted(_aql(self._db, "FOR g IN graphs RETURN g._key"))

    def put_model(self, model: ModelRecord) -> None:
        doc = {"_key": model.name, **asdict(model)}
        with _errors(self.url):
            self._db.collection("models").insert(doc, overwrite_mode="replace", silent=True)

    def models(self) -> list[ModelRecord]:
        query = 'FOR m IN models RETURN UNSET(m, "_key", "_id", "_rev")'
        with _errors(self.url):
            rows = _aql(self._db, query)
        records = [ModelRecord(**row) for row in rows]
        return sorted(records, key=lambda m: (m.created_at, m.name))

    def close(self) -> None:
        self._client.close()


def _database(client: ArangoClient, target: ArangoTarget, display: str) -> StandardDatabase:
    """The target database, created first if missing and the user may."""
    db = client.db(target.database, target.username, target.password)
    try:
        db.properties()
    except ArangoServerError as exc:
        if exc.error_code != DATABASE_NOT_FOUND:
            raise
        system = client.db("_system", target.username, target.password)
        try:
            system.create_database(target.database)
        except ArangoServerError as create_exc:
            if create_exc.error_code != DUPLICATE_NAME:
                raise StoreError(
                    f"{display}: database {target.database} does not exist and "
                    f"{target.username} may not create it ({create_exc.error_message})"
                ) from None
    return db


def _bootstrap(db: Database) -> None:
    """Create the store's collections and indexes where missing (both are idempotent)."""
    for name in _COLLECTIONS:
        if not db.has_collection(name):
            try:
                db.create_collection(name)
            except ArangoServerError as exc:
                if exc.error_code != DUPLICATE_NAME:  # another process created it first
                    raise
    for name, indexes in _INDEXES.items():
        for fields in indexes:
            db.collection(name).add_index({"type": "persistent", "fields": list(fields)})
