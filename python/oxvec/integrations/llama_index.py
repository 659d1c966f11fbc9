"""A LlamaIndex vector store on an oxvec table: ``pip install oxvec[llama-index]``.

Examples
--------
>>> from llama_index.core.schema import TextNode
>>> from llama_index.core.vector_stores.types import VectorStoreQuery
>>> from oxvec.integrations.llama_index import OxvecVectorStore
>>> store = OxvecVectorStore(uri="memory://")
>>> store.add([
...     TextNode(id_="a", text="oxvec is fast", embedding=[1.0, 0.0], metadata={"k": 1}),
...     TextNode(id_="b", text="ducks quack", embedding=[0.0, 1.0], metadata={"k": 2}),
... ])
['a', 'b']
>>> res = store.query(VectorStoreQuery(query_embedding=[0.9, 0.1], similarity_top_k=1))
>>> res.ids, res.nodes[0].get_content()
(['a'], 'oxvec is fast')
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.schema import BaseNode, MetadataMode
from llama_index.core.vector_stores.types import (
    BasePydanticVectorStore,
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryMode,
    VectorStoreQueryResult,
)
from llama_index.core.vector_stores.utils import metadata_dict_to_node, node_to_metadata_dict

import oxvec

from ..exceptions import InvalidInputError
from ..rerankers import LinearCombinationReranker
from ._filters import metadata_filter

__all__ = ["OxvecVectorStore"]

_OPS = {
    FilterOperator.EQ: "$eq",
    FilterOperator.NE: "$ne",
    FilterOperator.GT: "$gt",
    FilterOperator.GTE: "$gte",
    FilterOperator.LT: "$lt",
    FilterOperator.LTE: "$lte",
    FilterOperator.IN: "$in",
    FilterOperator.NIN: "$nin",
    FilterOperator.TEXT_MATCH: "$contains",
    FilterOperator.TEXT_MATCH_INSENSITIVE: "$icontains",
}
_COLUMNS = ["id", "doc_id", "text", "node"]


class OxvecVectorStore(BasePydanticVectorStore):
    """LlamaIndex's vector store over one oxvec table.

    Each node is a row: ``id`` (the node id, the upsert key), ``doc_id`` (its source
    document), ``text``, ``metadata`` (JSON, which filters read), ``node`` (the rest of the
    node, JSON) and ``vector``. Queries: vector (``DEFAULT``), full-text (``TEXT_SEARCH``,
    BM25 over ``text``) and ``HYBRID`` (both, fused with weight ``alpha`` on the vector
    side); metadata filters with ``==``, ``!=``, ``>``, ``>=``, ``<``, ``<=``, ``in``,
    ``nin``, ``text_match`` (and case-insensitive), under ``and`` / ``or``.

    Parameters
    ----------
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
    >>> from llama_index.core.schema import TextNode
    >>> store = OxvecVectorStore(uri="memory://")
    >>> store.add([TextNode(id_="n", text="hello", embedding=[1.0, 0.0])])
    ['n']
    >>> [n.get_content() for n in store.get_nodes()]
    ['hello']
    """

    stores_text: bool = True
    flat_metadata: bool = False
    uri: str | None = None
    table_name: str = "llama_index"
    distance: str = "cosine"
    _db: Any = PrivateAttr()

    def __init__(
        self,
        uri: str | None = None,
        *,
        connection: oxvec.Database | None = None,
        table_name: str = "llama_index",
        distance: str = "cosine",
        **kwargs: Any,
    ) -> None:
        if (uri is None) == (connection is None):
            raise InvalidInputError("pass one of uri= or connection=")
        if distance not in ("cosine", "l2", "dot"):
            raise InvalidInputError(f"distance must be cosine, l2 or dot, got {distance!r}")
        super().__init__(uri=uri, table_name=table_name, distance=distance, **kwargs)
        self._db = connection if connection is not None else oxvec.connect(uri)  # type: ignore[arg-type]

    @classmethod
    def class_name(cls) -> str:
        return "OxvecVectorStore"

    @property
    def client(self) -> oxvec.Database:
        """The database.

        Examples
        --------
        >>> from llama_index.core.schema import TextNode
        >>> from llama_index.core.vector_stores.types import VectorStoreQuery
        >>> from oxvec.integrations.llama_index import OxvecVectorStore
        >>> store = OxvecVectorStore(uri="memory://")
        >>> _ = store.add([
        ...     TextNode(id_="a", text="red apple", embedding=[1.0, 0.0], metadata={"n": 1}),
        ...     TextNode(id_="p", text="green pear", embedding=[0.0, 1.0], metadata={"n": 2}),
        ... ])
        >>> type(store.client).__name__
        'Database'
        """
        return self._db

    def table(self) -> oxvec.Table | None:
        """The table behind the store (``None`` before the first add).

        Examples
        --------
        >>> from llama_index.core.schema import TextNode
        >>> from llama_index.core.vector_stores.types import VectorStoreQuery
        >>> from oxvec.integrations.llama_index import OxvecVectorStore
        >>> store = OxvecVectorStore(uri="memory://")
        >>> _ = store.add([
        ...     TextNode(id_="a", text="red apple", embedding=[1.0, 0.0], metadata={"n": 1}),
        ...     TextNode(id_="p", text="green pear", embedding=[0.0, 1.0], metadata={"n": 2}),
        ... ])
        >>> store.table().count_rows()
        2
        """
        try:
            return self._db.open_table(self.table_name)
        except oxvec.TableNotFoundError:
            return None

    def add(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[str]:
        """Upserts ``nodes`` (with their embeddings) by node id, as one version.

        Examples
        --------
        >>> from llama_index.core.schema import TextNode
        >>> from llama_index.core.vector_stores.types import VectorStoreQuery
        >>> from oxvec.integrations.llama_index import OxvecVectorStore
        >>> store = OxvecVectorStore(uri="memory://")
        >>> _ = store.add([
        ...     TextNode(id_="a", text="red apple", embedding=[1.0, 0.0], metadata={"n": 1}),
        ...     TextNode(id_="p", text="green pear", embedding=[0.0, 1.0], metadata={"n": 2}),
        ... ])
        >>> store.add([TextNode(id_='a', text='red apple!', embedding=[1.0, 0.1])])
        ['a']
        >>> store.table().count_rows()
        2
        """
        if not nodes:
            return []
        latest = {n.node_id: n for n in nodes}  # the last of a repeated id
        rows = []
        for node in latest.values():
            embedding = node.get_embedding()
            rest = node_to_metadata_dict(node, remove_text=True, flat_metadata=False)
            rows.append(
                {
                    "id": node.node_id,
                    "doc_id": node.ref_doc_id,
                    "text": node.get_content(metadata_mode=MetadataMode.NONE),
                    "metadata": json.dumps(node.metadata, default=str),
                    "node": json.dumps(rest, default=str),
                    "vector": [float(x) for x in embedding],
                }
            )
        dim = len(rows[0]["vector"])
        schema = pa.schema(
            [
                pa.field("id", pa.string(), False),
                pa.field("doc_id", pa.string()),
                pa.field("text", pa.string()),
                pa.field("metadata", pa.string()),
                pa.field("node", pa.string()),
                pa.field("vector", pa.list_(pa.float32(), dim), False),
            ]
        )
        data = pa.Table.from_pylist(rows, schema)
        table = self.table()
        if table is None:
            table = self._db.create_table(self.table_name, schema=schema, exist_ok=True)
        (
            table.merge_insert("id")
            .when_matched_update_all()
            .when_not_matched_insert_all()
            .execute(data)
        )
        return [n.node_id for n in nodes]

    def delete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        """Deletes every node of the source document ``ref_doc_id``.

        Examples
        --------
        >>> from llama_index.core.schema import TextNode
        >>> from llama_index.core.vector_stores.types import VectorStoreQuery
        >>> from oxvec.integrations.llama_index import OxvecVectorStore
        >>> store = OxvecVectorStore(uri="memory://")
        >>> _ = store.add([
        ...     TextNode(id_="a", text="red apple", embedding=[1.0, 0.0], metadata={"n": 1}),
        ...     TextNode(id_="p", text="green pear", embedding=[0.0, 1.0], metadata={"n": 2}),
        ... ])
        >>> store.add([TextNode(id_='x', text='x', embedding=[1.0, 1.0])])
        ['x']
        >>> store.delete('x')  # by source document: none here
        >>> len(store.get_nodes())
        3
        """
        table = self.table()
        if table is not None:
            table.delete("doc_id = ?", [ref_doc_id])

    def delete_nodes(
        self,
        node_ids: list[str] | None = None,
        filters: MetadataFilters | None = None,
        **delete_kwargs: Any,
    ) -> None:
        """Deletes the nodes with these ids and/or matching ``filters``.

        Examples
        --------
        >>> from llama_index.core.schema import TextNode
        >>> from llama_index.core.vector_stores.types import VectorStoreQuery
        >>> from oxvec.integrations.llama_index import OxvecVectorStore
        >>> store = OxvecVectorStore(uri="memory://")
        >>> _ = store.add([
        ...     TextNode(id_="a", text="red apple", embedding=[1.0, 0.0], metadata={"n": 1}),
        ...     TextNode(id_="p", text="green pear", embedding=[0.0, 1.0], metadata={"n": 2}),
        ... ])
        >>> store.delete_nodes(node_ids=['a'])
        >>> [n.node_id for n in store.get_nodes()]
        ['p']
        """
        table = self.table()
        if table is None:
            return
        sql, params = _where(node_ids, None, filters)
        if sql is None:
            raise InvalidInputError("delete_nodes needs node_ids or filters (clear() empties)")
        table.delete(sql, params)

    def get_nodes(
        self,
        node_ids: list[str] | None = None,
        filters: MetadataFilters | None = None,
    ) -> list[BaseNode]:
        """The nodes with these ids and/or matching ``filters`` (every node with neither).

        Examples
        --------
        >>> from llama_index.core.schema import TextNode
        >>> from llama_index.core.vector_stores.types import VectorStoreQuery
        >>> from oxvec.integrations.llama_index import OxvecVectorStore
        >>> store = OxvecVectorStore(uri="memory://")
        >>> _ = store.add([
        ...     TextNode(id_="a", text="red apple", embedding=[1.0, 0.0], metadata={"n": 1}),
        ...     TextNode(id_="p", text="green pear", embedding=[0.0, 1.0], metadata={"n": 2}),
        ... ])
        >>> [n.get_content() for n in store.get_nodes(node_ids=['p'])]
        ['green pear']
        """
        table = self.table()
        if table is None:
            return []
        sql, params = _where(node_ids, None, filters)
        q = table.search().select([*_COLUMNS, "vector"])
        if sql is not None:
            q = q.where(sql, params)
        return [_node(r) for r in q.to_list()]

    def clear(self) -> None:
        """Deletes every node.

        Examples
        --------
        >>> from llama_index.core.schema import TextNode
        >>> from llama_index.core.vector_stores.types import VectorStoreQuery
        >>> from oxvec.integrations.llama_index import OxvecVectorStore
        >>> store = OxvecVectorStore(uri="memory://")
        >>> _ = store.add([
        ...     TextNode(id_="a", text="red apple", embedding=[1.0, 0.0], metadata={"n": 1}),
        ...     TextNode(id_="p", text="green pear", embedding=[0.0, 1.0], metadata={"n": 2}),
        ... ])
        >>> store.clear()
        >>> store.get_nodes()
        []
        """
        table = self.table()
        if table is not None:
            table.delete("true")

    def query(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        """Vector, full-text or hybrid search (``query.mode``) with ``query.filters``,
        ``doc_ids`` and ``node_ids``; similarities are higher for better matches.

        Examples
        --------
        >>> from llama_index.core.schema import TextNode
        >>> from llama_index.core.vector_stores.types import VectorStoreQuery
        >>> from oxvec.integrations.llama_index import OxvecVectorStore
        >>> store = OxvecVectorStore(uri="memory://")
        >>> _ = store.add([
        ...     TextNode(id_="a", text="red apple", embedding=[1.0, 0.0], metadata={"n": 1}),
        ...     TextNode(id_="p", text="green pear", embedding=[0.0, 1.0], metadata={"n": 2}),
        ... ])
        >>> res = store.query(VectorStoreQuery(query_embedding=[0.1, 1.0], similarity_top_k=1))
        >>> res.ids
        ['p']
        """
        table = self.table()
        if table is None or query.similarity_top_k <= 0:
            return VectorStoreQueryResult(nodes=[], similarities=[], ids=[])
        sql, params = _where(query.node_ids, query.doc_ids, query.filters)
        mode = query.mode
        k = query.similarity_top_k
        if mode == VectorStoreQueryMode.DEFAULT:
            if query.query_embedding is None:
                raise InvalidInputError("a vector query needs query_embedding")
            q = table.search(query.query_embedding, vector_column="vector").metric(self.distance)
            score = "_distance"
        elif mode in (VectorStoreQueryMode.TEXT_SEARCH, VectorStoreQueryMode.HYBRID):
            if not query.query_str:
                raise InvalidInputError(f"a {mode.value} query needs query_str")
            if not any(i.get("index_type") == "FTS" for i in table.list_indices()):
                table.create_fts_index("text", replace=False)
            if mode == VectorStoreQueryMode.TEXT_SEARCH:
                q = table.search(query.query_str, query_type="fts", fts_columns="text")
                score = "_score"
            else:
                if query.query_embedding is None:
                    raise InvalidInputError("a hybrid query needs query_embedding too")
                alpha = 0.5 if query.alpha is None else float(query.alpha)
                q = (
                    table.search(query_type="hybrid", vector_column="vector")
                    .vector(query.query_embedding)
                    .text(query.query_str)
                    .metric(self.distance)
                    .rerank(LinearCombinationReranker(weight=alpha))
                )
                score = "_relevance_score"
        else:
            raise InvalidInputError(
                f"query mode {mode.value!r} is not supported (default, text_search, hybrid are)"
            )
        if sql is not None:
            q = q.where(sql, params)
        rows = q.select([*_COLUMNS, "vector"]).limit(k).to_list()
        sims = [self._similarity(r[score], score) for r in rows]
        return VectorStoreQueryResult(
            nodes=[_node(r) for r in rows], similarities=sims, ids=[r["id"] for r in rows]
        )

    def _similarity(self, value: float, column: str) -> float:
        if column != "_distance":
            return float(value)
        if self.distance == "cosine":
            return 1.0 - float(value)
        if self.distance == "dot":
            return -float(value) + 1.0
        return 1.0 / (1.0 + float(value))


def _where(
    node_ids: Sequence[str] | None,
    doc_ids: Sequence[str] | None,
    filters: MetadataFilters | None,
) -> tuple[str | None, list[Any]]:
    parts: list[str] = []
    params: list[Any] = []
    if node_ids:
        parts.append("id IN ?")
        params.append([str(i) for i in node_ids])
    if doc_ids:
        parts.append("doc_id IN ?")
        params.append([str(i) for i in doc_ids])
    if filters is not None and filters.filters:
        sql, ps = metadata_filter(_as_dict(filters))
        parts.append(f"({sql})")
        params += ps
    if not parts:
        return None, []
    return " AND ".join(parts), params


def _as_dict(filters: MetadataFilters) -> dict[str, Any]:
    """LlamaIndex filters as the filter dicts of ``_filters``."""
    condition = filters.condition or FilterCondition.AND
    if condition not in (FilterCondition.AND, FilterCondition.OR):
        raise InvalidInputError(f"filter condition {condition.value!r} is not supported")
    subs = []
    for f in filters.filters:
        if isinstance(f, MetadataFilters):
            subs.append(_as_dict(f))
            continue
        assert isinstance(f, MetadataFilter)
        op = _OPS.get(f.operator)
        if op is None:
            raise InvalidInputError(f"filter operator {f.operator.value!r} is not supported")
        subs.append({f.key: {op: f.value}})
    return {"$and" if condition == FilterCondition.AND else "$or": subs}


def _node(row: dict[str, Any]) -> BaseNode:
    node = metadata_dict_to_node(json.loads(row["node"]), text=row["text"])
    node.embedding = [float(x) for x in row["vector"]] if row.get("vector") is not None else None
    return node
