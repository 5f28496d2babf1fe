"""Graphs built from market data, and records of the models trained on them.

Names and keys are checked on construction against the strictest backend (ArangoDB), so a value
that one store accepts every store accepts. Attribute dicts must be JSON-able.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, TypeGuard

#: Graph and collection names: they join into ArangoDB collection names ``<graph>-<collection>``.
NAME_PATTERN = r"[A-Za-z][A-Za-z0-9_]{0,63}"
#: Vertex keys, model names and queue ids: the characters ArangoDB allows in a ``_key``.
KEY_PATTERN = r"[A-Za-z0-9_\-:.@()+,=;$!*'%]{1,254}"
#: Attributes the stores manage themselves.
_VERTEX_RESERVED = frozenset({"_id", "_rev", "_from", "_to"})
_EDGE_RESERVED = frozenset({"_id", "_rev", "_key"})

_name = re.compile(NAME_PATTERN).fullmatch
_key = re.compile(KEY_PATTERN).fullmatch


def _check_name(what: str, name: str) -> None:
    if not isinstance(name, str) or _name(name) is None:
        raise ValueError(f"{what} must match ^{NAME_PATTERN}$, got {name!r}")


def is_key(value: object) -> TypeGuard[str]:
    """Whether ``value`` is a valid document key (:data:`KEY_PATTERN`)."""
    return isinstance(value, str) and _key(value) is not None


def check_key(what: str, key: object) -> str:
    """``key`` if it is a valid document key, else ``ValueError`` naming ``what``."""
    if not is_key(key):
        raise ValueError(f"{what} must match ^{KEY_PATTERN}$, got {key!r}")
    return key


@dataclass(frozen=True)
class VertexSet:
    """Vertices of one kind; each is a dict with a unique string ``_key`` and JSON-able attributes.

    Stores return the vertices ordered by ``_key``.
    """

    collection: str
    vertices: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        _check_name("vertex collection", self.collection)
        seen: set[str] = set()
        for vertex in self.vertices:
            key = check_key(f"{self.collection} vertex _key", vertex.get("_key"))
            if key in seen:
                raise ValueError(f"{self.collection}: vertex _key {key!r} appears more than once")
            seen.add(key)
            if not _VERTEX_RESERVED.isdisjoint(vertex):
                raise ValueError(
                    f"{self.collection} vertices may not set {sorted(_VERTEX_RESERVED)}"
                )


@dataclass(frozen=True)
class EdgeSet:
    """Edges from ``from_collection`` vertices to ``to_collection`` vertices.

    Each edge is a dict with ``_from`` and ``_to`` (vertex ``_key`` values in those collections)
    and JSON-able attributes; stores keep the order of the edges.
    """

    collection: str
    from_collection: str
    to_collection: str
    edges: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        _check_name("edge collection", self.collection)
        for edge in self.edges:
            check_key(f"{self.collection} edge _from", edge.get("_from"))
            check_key(f"{self.collection} edge _to", edge.get("_to"))
            if not _EDGE_RESERVED.isdisjoint(edge):
                raise ValueError(f"{self.collection} edges may not set {sorted(_EDGE_RESERVED)}")


@dataclass(frozen=True)
class GraphData:
    """A named graph: vertex sets, edge sets between them and JSON-able metadata.

    Collection names are unique within the graph, and every edge set joins vertex sets of it.
    """

    name: str
    vertex_sets: list[VertexSet] = field(default_factory=list)
    edge_sets: list[EdgeSet] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_name("graph name", self.name)
        names = [s.collection for s in self.vertex_sets] + [s.collection for s in self.edge_sets]
        repeated = sorted(name for name, n in Counter(names).items() if n > 1)
        if repeated:
            raise ValueError(f"graph {self.name}: collections named more than once: {repeated}")
        vertex_names = {s.collection for s in self.vertex_sets}
        for edges in self.edge_sets:
            for end in (edges.from_collection, edges.to_collection):
                if end not in vertex_names:
                    raise ValueError(
                        f"graph {self.name}: edge set {edges.collection} joins {end!r}, "
                        "which is not one of its vertex sets"
                    )


@dataclass(frozen=True)
class ModelRecord:
    """A trained model: what it learned from, how, how well, and where its weights are.

    ``name`` identifies the record (a re-put overwrites); ``created_at`` is epoch ms (UTC);
    ``graph`` names the graph it was trained on; ``params`` (hyper-parameters) and ``metrics`` are
    JSON-able; ``artifact`` is the path or URI of the saved weights, if kept.
    """

    name: str
    created_at: int
    graph: str
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    artifact: str | None = None

    def __post_init__(self) -> None:
        check_key("model name", self.name)
