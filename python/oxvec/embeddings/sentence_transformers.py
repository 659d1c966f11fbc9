"""sentence-transformers models as an embedding function (``"sentence-transformers"``)."""

from __future__ import annotations

import threading
from typing import Any, ClassVar

from .base import EmbeddingFunction
from .registry import get_registry


@get_registry().register("sentence-transformers")
class SentenceTransformerEmbeddings(EmbeddingFunction):
    """A sentence-transformers model, loaded once per process on first use.

    Parameters (to ``create``)
    --------------------------
    name
        A model name found in the local Hugging Face cache, or a directory holding the
        model (default ``"all-MiniLM-L6-v2"``). Nothing is downloaded when
        ``HF_HUB_OFFLINE=1``.
    device
        ``"cpu"`` (default), ``"cuda"``, ...
    normalize
        Unit-length vectors (default ``True``: cosine and dot agree).
    batch_size
        Texts per forward pass (64).

    Examples
    --------
    >>> from oxvec.embeddings import get_registry
    >>> func = get_registry().get("sentence-transformers").create(name="all-MiniLM-L6-v2")
    >>> func.to_json()["name"], func.to_json()["params"]["name"]  # nothing loaded yet
    ('sentence-transformers', 'all-MiniLM-L6-v2')
    """

    _models: ClassVar[dict[tuple[str, str], Any]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("name", "all-MiniLM-L6-v2")
        kwargs.setdefault("device", "cpu")
        kwargs.setdefault("normalize", True)
        super().__init__(**kwargs)
        self._dim: int | None = None

    def model(self) -> Any:
        """The loaded model (loaded once per process, on first use).

        Examples
        --------
        >>> from oxvec.embeddings import get_registry
        >>> func = get_registry().get("sentence-transformers").create()
        >>> func.model().get_sentence_embedding_dimension()  # doctest: +SKIP
        384
        """
        key = (str(self.name), str(self.device))
        with self._lock:
            if key not in self._models:
                try:
                    from sentence_transformers import SentenceTransformer
                except ImportError as e:
                    raise ImportError(
                        "the 'sentence-transformers' embedding function needs the "
                        "sentence-transformers package: pip install sentence-transformers"
                    ) from e
                self._models[key] = SentenceTransformer(key[0], device=key[1])
            return self._models[key]

    def ndims(self) -> int:
        """The model's vector dimension (loads the model).

        Examples
        --------
        >>> from oxvec.embeddings import get_registry
        >>> get_registry().get("sentence-transformers").create().ndims()  # doctest: +SKIP
        384
        """
        if self._dim is None:
            m = self.model()
            dim = getattr(m, "get_sentence_embedding_dimension", lambda: None)()
            self._dim = int(dim) if dim else len(self.compute_source_embeddings(["x"])[0])
        return self._dim

    def compute_source_embeddings(self, texts: list[str]) -> Any:
        """One vector per text, from the model (loads it).

        Examples
        --------
        >>> from oxvec.embeddings import get_registry
        >>> func = get_registry().get("sentence-transformers").create()
        >>> func.compute_source_embeddings(["hello"]).shape  # doctest: +SKIP
        (1, 384)
        """
        return self.model().encode(
            texts,
            batch_size=int(self.batch_size),
            normalize_embeddings=bool(self.normalize),
            show_progress_bar=False,
            convert_to_numpy=True,
        )
