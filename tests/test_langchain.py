"""LangChain's standard vector-store suite, sync and async, and oxvec's own additions."""

from __future__ import annotations

import pytest

pytest.importorskip("langchain_tests")

from langchain_core.documents import Document
from langchain_tests.integration_tests import VectorStoreIntegrationTests
from oxvec.integrations.langchain import OxvecVectorStore


class TestOxvecStandard(VectorStoreIntegrationTests):
    @pytest.fixture
    def vectorstore(self, tmp_path):
        return OxvecVectorStore(self.get_embeddings(), uri=str(tmp_path))


@pytest.fixture
def store(tmp_path):
    s = OxvecVectorStore(VectorStoreIntegrationTests.get_embeddings(), uri=str(tmp_path))
    s.add_documents(
        [
            Document("the cat sat", metadata={"src": "a", "page": 1, "ok": True}),
            Document("the dog ran", metadata={"src": "b", "page": 2, "ok": False}),
            Document("a bird sang", metadata={"src": "a", "page": 3}),
            Document("the cat ran", metadata={"src": "c", "page": 4, "tags": ["x"]}),
        ],
        ids=["1", "2", "3", "4"],
    )
    return s


@pytest.mark.parametrize(
    ("flt", "ids"),
    [
        ({"src": "a"}, {"1", "3"}),
        ({"page": {"$gte": 3}}, {"3", "4"}),
        ({"src": {"$in": ["b", "c"]}}, {"2", "4"}),
        ({"src": {"$nin": ["a"]}}, {"2", "4"}),
        ({"ok": True}, {"1"}),
        ({"$or": [{"src": "b"}, {"page": 3}]}, {"2", "3"}),
        ({"src": "a", "page": {"$lt": 2}}, {"1"}),
        ("text LIKE '%ran'", {"2", "4"}),
    ],
)
def test_filters(store, flt, ids):
    got = store.similarity_search("cat", k=10, filter=flt)
    assert {d.id for d in got} == ids


def test_scores_mmr_and_relevance(store):
    hits = store.similarity_search_with_score("the cat sat", k=2)
    assert hits[0][0].id == "1" and hits[0][1] == pytest.approx(0.0, abs=1e-5)
    mmr = store.max_marginal_relevance_search("the cat sat", k=2, fetch_k=4)
    assert len(mmr) == 2 and mmr[0].id == "1"
    rel = store.similarity_search_with_relevance_scores("the cat sat", k=1)
    assert rel[0][1] == pytest.approx(1.0, abs=1e-5)
    assert [d.id for d in store.get_by_ids(["4", "nope", "1"])] == ["4", "1"]


def test_a_bad_filter_is_a_clear_error(store):
    import oxvec

    with pytest.raises(oxvec.InvalidInputError, match="unknown filter operator"):
        store.similarity_search("cat", filter={"page": {"$near": 1}})
    with pytest.raises(oxvec.InvalidInputError, match="compares numbers"):
        store.similarity_search("cat", filter={"src": {"$gt": "a"}})
