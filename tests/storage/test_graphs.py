"""Graph and model records check names and keys as they are built."""

from __future__ import annotations

import pytest

from streamforge.storage import EdgeSet, GraphData, ModelRecord, VertexSet


def test_a_well_formed_graph_builds() -> None:
    graph = GraphData(
        "g1",
        [VertexSet("a", [{"_key": "x:1.5", "w": 1}]), VertexSet("b", [{"_key": "y"}])],
        [EdgeSet("ab", "a", "b", [{"_from": "x:1.5", "_to": "y", "w": 2}])],
        {"note": "ok"},
    )

    assert [s.collection for s in graph.vertex_sets] == ["a", "b"]


@pytest.mark.parametrize("name", ["", "1graph", "has-dash", "has space", "a/b", "x" * 65])
def test_names_must_be_letters_digits_and_underscores(name: str) -> None:
    with pytest.raises(ValueError, match="graph name"):
        GraphData(name)
    with pytest.raises(ValueError, match="vertex collection"):
        VertexSet(name)
    with pytest.raises(ValueError, match="edge collection"):
        EdgeSet(name, "a", "b")


@pytest.mark.parametrize("key", [None, 7, "", "a/b", "a|b", "sp ace", "x" * 255])
def test_vertex_keys_must_be_valid_document_keys(key: object) -> None:
    with pytest.raises(ValueError, match="_key"):
        VertexSet("v", [{"_key": key}])


def test_vertex_keys_are_unique_within_a_set() -> None:
    with pytest.raises(ValueError, match="'a' appears more than once"):
        VertexSet("v", [{"_key": "a"}, {"_key": "b"}, {"_key": "a"}])


def test_edge_ends_must_be_vertex_keys() -> None:
    with pytest.raises(ValueError, match="_from"):
        EdgeSet("e", "v", "v", [{"_to": "a"}])
    with pytest.raises(ValueError, match="_to"):
        EdgeSet("e", "v", "v", [{"_from": "a", "_to": "v/a"}])


def test_store_managed_attributes_are_refused() -> None:
    with pytest.raises(ValueError, match="vertices may not set"):
        VertexSet("v", [{"_key": "a", "_id": "v/a"}])
    with pytest.raises(ValueError, match="edges may not set"):
        EdgeSet("e", "v", "v", [{"_from": "a", "_to": "b", "_key": "1"}])


def test_collection_names_are_unique_within_a_graph() -> None:
    with pytest.raises(ValueError, match=r"more than once: \['v'\]"):
        GraphData("g", [VertexSet("v")], [EdgeSet("v", "v", "v")])


def test_edge_sets_join_vertex_sets_of_the_graph() -> None:
    with pytest.raises(ValueError, match="'w', which is not one of its vertex sets"):
        GraphData("g", [VertexSet("v")], [EdgeSet("e", "v", "w")])


def test_model_names_must_be_valid_document_keys() -> None:
    with pytest.raises(ValueError, match="model name"):
        ModelRecord("gcn/1", 0, "g")
