"""A LangChain vector store on an oxvec table: ``pip install oxvec[langchain]``.

Examples
--------
>>> from langchain_core.embeddings import DeterministicFakeEmbedding
>>> from oxvec.integrations.langchain import OxvecVectorStore
>>> store = OxvecVectorStore(DeterministicFakeEmbedding(size=16), uri="memory://")
>>> store.add_texts(["oxvec is fast", "ducks quack"], [{"src": "a"}, {"src": "b"}], ids=["1", "2"])
['1', '2']
>>> [d.id for d in store.similarity_search("ducks quack", k=1)]
['2']
>>> [d.page_content for d in store.similarity_search("x", k=2, filter={"src": "a"})]
['oxvec is fast']
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from typing import Any, Callable

import numpy as np
import pyarrow as pa
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore
from langchain_core.vectorstores.utils import maximal_marginal_relevance

import oxvec

from ..exceptions import InvalidInputError
from ._filters import metadata_filter

__all__ = ["OxvecVectorStore"]

_METRICS = ("cosine", "l2", "dot")


class OxvecVectorStore(VectorStore):
    """LangChain's ``VectorStore`` over one oxvec table.

    Each document is a row: ``id`` (string, the upsert key), ``text``, ``metadata`` (JSON
    text) and ``vector``. Adding documents whose ids exist replaces them, in one version per
    call. ``filter`` takes a dict (``{"source": "a.txt", "page": {"$gte": 2}}``, with
    ``$eq``, ``$ne``, ``$gt``, ``$gte``, ``$lt``, ``$lte``, ``$in``, ``$nin``, ``$and``,
    ``$or``) or an oxvec SQL condition over the columns (``"text LIKE '%duck%'"``).

    Parameters
    ----------
    embedding
        The LangChain embeddings that turn texts into vectors.
    uri
        The database (a directory, or ``"memory://"``); or pass ``connection``.
    connection
        An open :class:`oxvec.Database` instead of ``uri``.
    table_name
        The table (created on the first add).
    distance
        ``"cosine"`` (default), ``"l2"`` or ``"dot"``.
    Examples
    --------
    >>> from langchain_core.embeddings import DeterministicFakeEmbedding
    >>> store = OxvecVectorStore(DeterministicFakeEmbedding(size=8), uri="memory://")
    >>> store.add_texts(["a", "b"], ids=["1", "2"])
    ['1', '2']
    >>> [d.id for d in store.similarity_search("b", k=1)]
    ['2']
    """

    def __init__(
        self,
        embedding: Embeddings,
        *,
        uri: str | None = None,
        connection: oxvec.Database | None = None,
        table_name: str = "vectorstore",
        distance: str = "cosine",
    ) -> None:
        if (uri is None) == (connection is None):
            raise InvalidInputError("pass one of uri= or connection=")
        if distance not in _METRICS:
            raise InvalidInputError(f"distance must be one of {_METRICS}, got {distance!r}")
        self._embedding = embedding
        self._db = connection if connection is not None else oxvec.connect(uri)  # type: ignore[arg-type]
        self._name = table_name
        self._distance = distance

    @property
    def embeddings(self) -> Embeddings:
        """The embeddings texts and queries go through.

        Examples
        --------
        >>> from langchain_core.embeddings import DeterministicFakeEmbedding
        >>> from oxvec.integrations.langchain import OxvecVectorStore
        >>> store = OxvecVectorStore(DeterministicFakeEmbedding(size=8), uri="memory://")
        >>> store.add_texts(["red apple", "green pear"], [{"n": 1}, {"n": 2}], ids=["a", "p"])
        ['a', 'p']
        >>> type(store.embeddings).__name__
        'DeterministicFakeEmbedding'
        """
        return self._embedding

    def table(self) -> oxvec.Table | None:
        """The table behind the store (``None`` before the first add).

        Examples
        --------
        >>> from langchain_core.embeddings import DeterministicFakeEmbedding
        >>> from oxvec.integrations.langchain import OxvecVectorStore
        >>> store = OxvecVectorStore(DeterministicFakeEmbedding(size=8), uri="memory://")
        >>> store.add_texts(["red apple", "green pear"], [{"n": 1}, {"n": 2}], ids=["a", "p"])
        ['a', 'p']
        >>> store.table().count_rows()
        2
        """
        try:
            return self._db.open_table(self._name)
        except oxvec.TableNotFoundError:
            return None

    # --- writing ---------------------------------------------------------------------------

    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        """Embeds ``texts`` and upserts them by id (new ids are random UUIDs).

        Examples
        --------
        >>> from langchain_core.embeddings import DeterministicFakeEmbedding
        >>> from oxvec.integrations.langchain import OxvecVectorStore
        >>> store = OxvecVectorStore(DeterministicFakeEmbedding(size=8), uri="memory://")
        >>> store.add_texts(["red apple", "green pear"], [{"n": 1}, {"n": 2}], ids=["a", "p"])
        ['a', 'p']
        >>> store.add_texts(['red apple!'], ids=['a'])
        ['a']
        >>> store.table().count_rows()
        2
        """
        texts = list(texts)
        if metadatas is not None and len(metadatas) != len(texts):
            raise InvalidInputError(f"{len(metadatas)} metadatas for {len(texts)} texts")
        if ids is not None and len(ids) != len(texts):
            raise InvalidInputError(f"{len(ids)} ids for {len(texts)} texts")
        out = [str(i) if i else str(uuid.uuid4()) for i in (ids or [None] * len(texts))]
        if not texts:
            return out
        vectors = np.asarray(self._embedding.embed_documents(texts), dtype=np.float32)
        latest: dict[str, int] = {i: n for n, i in enumerate(out)}  # the last of a repeated id
        keep = sorted(latest.values())
        rows = pa.table(
            {
                "id": pa.array([out[n] for n in keep], pa.string()),
                "text": pa.array([texts[n] for n in keep], pa.string()),
                "metadata": pa.array(
                    [json.dumps((metadatas or [{}] * len(texts))[n], default=str) for n in keep],
                    pa.string(),
                ),
                "vector": pa.FixedSizeListArray.from_arrays(
                    vectors[keep].reshape(-1), vectors.shape[1]
                ),
            }
        )
        table = self.table()
        if table is None:
            self._db.create_table(self._name, schema=rows.schema, exist_ok=True)
            table = self.table()
            assert table is not None
        (
            table.merge_insert("id")
            .when_matched_update_all()
            .when_not_matched_insert_all()
            .execute(rows)
        )
        return out

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        """Deletes the documents with these ids (every document with ``ids=None``); ids that
        are not there are ignored.

        Examples
        --------
        >>> from langchain_core.embeddings import DeterministicFakeEmbedding
        >>> from oxvec.integrations.langchain import OxvecVectorStore
        >>> store = OxvecVectorStore(DeterministicFakeEmbedding(size=8), uri="memory://")
        >>> store.add_texts(["red apple", "green pear"], [{"n": 1}, {"n": 2}], ids=["a", "p"])
        ['a', 'p']
        >>> store.delete(['a'])
        True
        >>> [d.id for d in store.get_by_ids(['a', 'p'])]
        ['p']
        """
        table = self.table()
        if table is None:
            return True
        if ids is None:
            table.delete("true")
        elif ids:
            table.delete("id IN ?", [list(map(str, ids))])
        return True

    # --- reading ---------------------------------------------------------------------------

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        """The documents with these ids, in the order asked (missing ones left out).

        Examples
        --------
        >>> from langchain_core.embeddings import DeterministicFakeEmbedding
        >>> from oxvec.integrations.langchain import OxvecVectorStore
        >>> store = OxvecVectorStore(DeterministicFakeEmbedding(size=8), uri="memory://")
        >>> store.add_texts(["red apple", "green pear"], [{"n": 1}, {"n": 2}], ids=["a", "p"])
        ['a', 'p']
        >>> [d.page_content for d in store.get_by_ids(['p', 'a'])]
        ['green pear', 'red apple']
        """
        table = self.table()
        if table is None or not ids:
            return []
        rows = (
            table.search()
            .where("id IN ?", [list(map(str, ids))])
            .select(["id", "text", "metadata"])
            .to_list()
        )
        by_id = {r["id"]: _document(r) for r in rows}
        return [by_id[i] for i in dict.fromkeys(map(str, ids)) if i in by_id]

    def similarity_search(
        self, query: str, k: int = 4, filter: dict[str, Any] | str | None = None, **kwargs: Any
    ) -> list[Document]:
        """The ``k`` documents nearest ``query``.

        Examples
        --------
        >>> from langchain_core.embeddings import DeterministicFakeEmbedding
        >>> from oxvec.integrations.langchain import OxvecVectorStore
        >>> store = OxvecVectorStore(DeterministicFakeEmbedding(size=8), uri="memory://")
        >>> store.add_texts(["red apple", "green pear"], [{"n": 1}, {"n": 2}], ids=["a", "p"])
        ['a', 'p']
        >>> [d.id for d in store.similarity_search('green pear', k=1)]
        ['p']
        """
        return [d for d, _ in self.similarity_search_with_score(query, k, filter, **kwargs)]

    def similarity_search_with_score(
        self, query: str, k: int = 4, filter: dict[str, Any] | str | None = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        """The ``k`` documents nearest ``query``, with their distances (lower is nearer).

        Examples
        --------
        >>> from langchain_core.embeddings import DeterministicFakeEmbedding
        >>> from oxvec.integrations.langchain import OxvecVectorStore
        >>> store = OxvecVectorStore(DeterministicFakeEmbedding(size=8), uri="memory://")
        >>> store.add_texts(["red apple", "green pear"], [{"n": 1}, {"n": 2}], ids=["a", "p"])
        ['a', 'p']
        >>> doc, distance = store.similarity_search_with_score('red apple', k=1)[0]
        >>> doc.id, abs(round(distance, 6))
        ('a', 0.0)
        """
        vector = self._embedding.embed_query(query)
        return self.similarity_search_with_score_by_vector(vector, k, filter)

    def similarity_search_by_vector(
        self,
        embedding: list[float],
        k: int = 4,
        filter: dict[str, Any] | str | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        """The ``k`` documents nearest a vector.

        Examples
        --------
        >>> from langchain_core.embeddings import DeterministicFakeEmbedding
        >>> from oxvec.integrations.langchain import OxvecVectorStore
        >>> store = OxvecVectorStore(DeterministicFakeEmbedding(size=8), uri="memory://")
        >>> store.add_texts(["red apple", "green pear"], [{"n": 1}, {"n": 2}], ids=["a", "p"])
        ['a', 'p']
        >>> v = store.embeddings.embed_query('green pear')
        >>> [d.id for d in store.similarity_search_by_vector(v, k=1)]
        ['p']
        """
        return [d for d, _ in self.similarity_search_with_score_by_vector(embedding, k, filter)]

    def similarity_search_with_score_by_vector(
        self,
        embedding: Sequence[float],
        k: int = 4,
        filter: dict[str, Any] | str | None = None,
    ) -> list[tuple[Document, float]]:
        """The ``k`` documents nearest a vector, with their distances.

        Examples
        --------
        >>> from langchain_core.embeddings import DeterministicFakeEmbedding
        >>> from oxvec.integrations.langchain import OxvecVectorStore
        >>> store = OxvecVectorStore(DeterministicFakeEmbedding(size=8), uri="memory://")
        >>> store.add_texts(["red apple", "green pear"], [{"n": 1}, {"n": 2}], ids=["a", "p"])
        ['a', 'p']
        >>> v = store.embeddings.embed_query('green pear')
        >>> [(d.id, round(s, 6)) for d, s in store.similarity_search_with_score_by_vector(v, k=1)]
        [('p', 0.0)]
        """
        rows = self._search(embedding, k, filter, ["id", "text", "metadata"])
        return [(_document(r), float(r["_distance"])) for r in rows]

    def max_marginal_relevance_search(
        self,
        query: str,
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filter: dict[str, Any] | str | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        """``k`` documents near ``query`` and unlike each other, chosen by maximal marginal
        relevance among the ``fetch_k`` nearest (``lambda_mult``: 1 for relevance alone, 0
        for diversity alone).

        Examples
        --------
        >>> from langchain_core.embeddings import DeterministicFakeEmbedding
        >>> from oxvec.integrations.langchain import OxvecVectorStore
        >>> store = OxvecVectorStore(DeterministicFakeEmbedding(size=8), uri="memory://")
        >>> store.add_texts(["red apple", "green pear"], [{"n": 1}, {"n": 2}], ids=["a", "p"])
        ['a', 'p']
        >>> [d.id for d in store.max_marginal_relevance_search('red apple', k=1, fetch_k=2)]
        ['a']
        """
        vector = self._embedding.embed_query(query)
        return self.max_marginal_relevance_search_by_vector(vector, k, fetch_k, lambda_mult, filter)

    def max_marginal_relevance_search_by_vector(
        self,
        embedding: list[float],
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filter: dict[str, Any] | str | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        """:meth:`max_marginal_relevance_search` for a vector.

        Examples
        --------
        >>> from langchain_core.embeddings import DeterministicFakeEmbedding
        >>> from oxvec.integrations.langchain import OxvecVectorStore
        >>> store = OxvecVectorStore(DeterministicFakeEmbedding(size=8), uri="memory://")
        >>> store.add_texts(["red apple", "green pear"], [{"n": 1}, {"n": 2}], ids=["a", "p"])
        ['a', 'p']
        >>> v = store.embeddings.embed_query('red apple')
        >>> [d.id for d in store.max_marginal_relevance_search_by_vector(v, k=1)]
        ['a']
        """
        rows = self._search(
            embedding, max(fetch_k, k), filter, ["id", "text", "metadata", "vector"]
        )
        if not rows:
            return []
        chosen = maximal_marginal_relevance(
            np.asarray(embedding, dtype=np.float32),
            [r["vector"] for r in rows],
            lambda_mult=lambda_mult,
            k=k,
        )
        return [_document(rows[i]) for i in chosen]

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        if self._distance == "cosine":
            return self._cosine_relevance_score_fn
        if self._distance == "l2":
            return lambda d: self._euclidean_relevance_score_fn(float(np.sqrt(max(d, 0.0))))
        return self._max_inner_product_relevance_score_fn

    def _search(
        self,
        vector: Sequence[float],
        k: int,
        filter: dict[str, Any] | str | None,
        columns: list[str],
    ) -> list[dict[str, Any]]:
        table = self.table()
        if table is None or k <= 0:
            return []
        q = table.search(list(vector), vector_column="vector").metric(self._distance).limit(k)
        if isinstance(filter, str):
            q = q.where(filter)
        elif filter:
            q = q.where(*metadata_filter(filter))
        return q.select(columns).to_list()

    @classmethod
    def from_texts(
        cls,
        texts: list[str],
        embedding: Embeddings,
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> OxvecVectorStore:
        """A store (``uri=`` or ``connection=`` and the other constructor arguments in
        ``kwargs``) holding ``texts``.

        Examples
        --------
        >>> from langchain_core.embeddings import DeterministicFakeEmbedding
        >>> from oxvec.integrations.langchain import OxvecVectorStore
        >>> store = OxvecVectorStore(DeterministicFakeEmbedding(size=8), uri="memory://")
        >>> store.add_texts(["red apple", "green pear"], [{"n": 1}, {"n": 2}], ids=["a", "p"])
        ['a', 'p']
        >>> s2 = OxvecVectorStore.from_texts(['x'], store.embeddings, uri='memory://', ids=['1'])
        >>> [d.id for d in s2.similarity_search('x', k=1)]
        ['1']
        """
        store = cls(embedding, **kwargs)
        store.add_texts(texts, metadatas, ids=ids)
        return store


def _document(row: dict[str, Any]) -> Document:
    return Document(id=row["id"], page_content=row["text"], metadata=json.loads(row["metadata"]))
