"""The LlamaIndex vector store, tested as LlamaIndex's own vector-store integrations are:
the class, add / query / delete by document, node access, metadata filters, text and
hybrid queries, persistence, and the async methods LlamaIndex derives."""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("llama_index.core")

import oxvec
from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores.types import (
    BasePydanticVectorStore,
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryMode,
)
from oxvec.integrations.llama_index import OxvecVectorStore


def node(i: int, doc: str, text: str, emb: list[float], **meta) -> TextNode:
    return TextNode(
        id_=f"n{i}",
        text=text,
        embedding=emb,
        metadata=meta,
        relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=doc)},
    )


@pytest.fixture
def nodes():
    return [
        node(1, "d1", "the cat sat on the mat", [1.0, 0.0, 0.0], author="ann", year=2020),
        node(2, "d1", "the dog chased the cat", [0.9, 0.1, 0.0], author="bob", year=2021),
        node(3, "d2", "rust is a systems language", [0.0, 1.0, 0.0], author="ann", year=2022),
        node(4, "d3", "python for data work", [0.0, 0.0, 1.0], author="cy", year=2023),
    ]


@pytest.fixture
def store(tmp_path, nodes):
    s = OxvecVectorStore(uri=str(tmp_path))
    assert s.add(nodes) == ["n1", "n2", "n3", "n4"]
    return s


def test_class():
    names = [b.__name__ for b in OxvecVectorStore.__mro__]
    assert BasePydanticVectorStore.__name__ in names
    assert OxvecVectorStore.class_name() == "OxvecVectorStore"


def test_query_returns_nodes_with_text_metadata_and_relationships(store):
    res = store.query(VectorStoreQuery(query_embedding=[1.0, 0.05, 0.0], similarity_top_k=2))
    assert res.ids == ["n1", "n2"]
    first = res.nodes[0]
    assert first.get_content() == "the cat sat on the mat"
    assert first.metadata == {"author": "ann", "year": 2020}
    assert first.ref_doc_id == "d1"
    assert res.similarities[0] > res.similarities[1]


@pytest.mark.parametrize(
    ("filters", "ids"),
    [
        (MetadataFilters(filters=[MetadataFilter(key="author", value="ann")]), {"n1", "n3"}),
        (
            MetadataFilters(
                filters=[MetadataFilter(key="year", value=2021, operator=FilterOperator.GTE)]
            ),
            {"n2", "n3", "n4"},
        ),
        (
            MetadataFilters(
                filters=[
                    MetadataFilter(key="author", value="ann"),
                    MetadataFilter(key="year", value=2021, operator=FilterOperator.LT),
                ]
            ),
            {"n1"},
        ),
        (
            MetadataFilters(
                filters=[
                    MetadataFilter(key="author", value="cy"),
                    MetadataFilter(key="year", value=2021),
                ],
                condition=FilterCondition.OR,
            ),
            {"n2", "n4"},
        ),
        (
            MetadataFilters(
                filters=[MetadataFilter(key="author", value=["bob", "cy"], operator="in")]
            ),
            {"n2", "n4"},
        ),
        (
            MetadataFilters(
                filters=[
                    MetadataFilter(key="author", value="AN", operator="text_match_insensitive")
                ]
            ),
            {"n1", "n3"},
        ),
    ],
)
def test_metadata_filters(store, filters, ids):
    res = store.query(
        VectorStoreQuery(query_embedding=[1.0, 0.0, 0.0], similarity_top_k=10, filters=filters)
    )
    assert set(res.ids) == ids


def test_delete_by_document_nodes_and_clear(store, tmp_path):
    store.delete("d1")
    assert {n.node_id for n in store.get_nodes()} == {"n3", "n4"}
    store.delete_nodes(node_ids=["n3"])
    assert [n.node_id for n in store.get_nodes()] == ["n4"]
    store.clear()
    assert store.get_nodes() == []
    # Persistence: a new store on the same directory sees the same (empty) table.
    assert OxvecVectorStore(uri=str(tmp_path)).get_nodes() == []


def test_get_and_delete_nodes_by_filter(store):
    ann = MetadataFilters(filters=[MetadataFilter(key="author", value="ann")])
    assert {n.node_id for n in store.get_nodes(filters=ann)} == {"n1", "n3"}
    assert [n.node_id for n in store.get_nodes(node_ids=["n4"])] == ["n4"]
    store.delete_nodes(filters=ann)
    assert {n.node_id for n in store.get_nodes()} == {"n2", "n4"}


def test_upsert_and_doc_ids(store, nodes):
    store.add([node(1, "d9", "replaced", [0.0, 0.0, 1.0], author="zed", year=1)])
    assert store.get_nodes(node_ids=["n1"])[0].get_content() == "replaced"
    res = store.query(
        VectorStoreQuery(query_embedding=[1.0, 0.0, 0.0], similarity_top_k=10, doc_ids=["d9"])
    )
    assert res.ids == ["n1"]


def test_text_and_hybrid_queries(store):
    text = store.query(
        VectorStoreQuery(query_str="cat", similarity_top_k=5, mode=VectorStoreQueryMode.TEXT_SEARCH)
    )
    assert set(text.ids) == {"n1", "n2"}
    hybrid = store.query(
        VectorStoreQuery(
            query_str="rust language",
            query_embedding=[0.0, 0.0, 1.0],
            similarity_top_k=2,
            mode=VectorStoreQueryMode.HYBRID,
            alpha=0.5,
        )
    )
    assert set(hybrid.ids) == {"n3", "n4"}
    with pytest.raises(oxvec.InvalidInputError, match="not supported"):
        store.query(VectorStoreQuery(query_embedding=[1, 0, 0], mode=VectorStoreQueryMode.SVM))


def test_async_methods(tmp_path, nodes):
    async def run():
        s = OxvecVectorStore(uri=str(tmp_path))
        await s.async_add(nodes)
        res = await s.aquery(VectorStoreQuery(query_embedding=[0, 1.0, 0], similarity_top_k=1))
        await s.adelete("d2")
        return res.ids, {n.node_id for n in await s.aget_nodes()}

    ids, left = asyncio.run(run())
    assert ids == ["n3"] and left == {"n1", "n2", "n4"}


def test_an_empty_store_answers_nothing(tmp_path):
    s = OxvecVectorStore(uri=str(tmp_path))
    res = s.query(VectorStoreQuery(query_embedding=[1.0, 0.0], similarity_top_k=3))
    assert res.ids == [] and s.get_nodes() == []
    s.delete("nope")
    s.clear()
