"""Idempotent storage of market records, workflow views, graphs and model records.

:func:`open_store` picks the backend by URL: an embedded SQLite file (the default) or ArangoDB.
"""

from streamforge.storage.base import Store, StoreError
from streamforge.storage.graphs import EdgeSet, GraphData, ModelRecord, VertexSet
from streamforge.storage.tables import RecordKind
from streamforge.storage.url import open_store

__all__ = [
    "EdgeSet",
    "GraphData",
    "ModelRecord",
    "RecordKind",
    "Store",
    "StoreError",
    "VertexSet",
    "open_store",
]
