"""Nearest neighbours by cosine similarity over a fixed set of embeddings.

The training set's embeddings are normalised once when the index is built; each query
is then one matrix-vector product and a partial sort, a few milliseconds for 60,000
rows of 128 floats.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class Neighbours:
    """The ``k`` most similar rows for each query, most similar first.

    Attributes:
        indices: ``(k,)`` int64 for a single query, ``(queries, k)`` for a batch.
        similarities: float32 cosine similarities in the same shape.
    """

    indices: np.ndarray
    similarities: np.ndarray


def normalise_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length as float32; zero and non-finite rows become zero.

    A zero row (a dead embedding, e.g. every ReLU off) has no direction, so it is
    similar to nothing rather than a division by zero.
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    ok = np.isfinite(norms) & (norms > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        unit = np.where(ok, vectors / np.where(ok, norms, 1), 0)
    return unit.astype(np.float32, copy=False)


class NeighbourIndex:
    """Cosine-similarity search over a fixed matrix of embeddings.

    Args:
        embeddings: ``(n, d)`` vectors, e.g. the penultimate layer for the training set.
    """

    def __init__(self, embeddings: np.ndarray) -> None:
        embeddings = np.asarray(embeddings)
        if embeddings.ndim != 2:
            raise ValueError(f"expected (n, d) embeddings, got shape {embeddings.shape}")
        # C-contiguous float32 keeps the product on the fast BLAS path.
        self._unit = np.ascontiguousarray(normalise_rows(embeddings))

    def __len__(self) -> int:
        return self._unit.shape[0]

    @property
    def dim(self) -> int:
        """The embedding width ``d``."""
        return self._unit.shape[1]

    def similarities(self, query: np.ndarray) -> np.ndarray:
        """Cosine similarity of every indexed row to each query.

        Args:
            query: ``(d,)`` or ``(queries, d)``.

        Returns:
            ``(n,)`` or ``(queries, n)`` float32.
        """
        query = np.asarray(query)
        if query.shape[-1:] != (self.dim,) or query.ndim not in (1, 2):
            raise ValueError(f"expected ({self.dim},) or (queries, {self.dim}) query, got {query.shape}")
        return normalise_rows(query) @ self._unit.T

    def query(self, query: np.ndarray, k: int = 6) -> Neighbours:
        """The ``k`` rows most similar to the query, ties broken by the lower index.

        Args:
            query: ``(d,)`` or ``(queries, d)``.
            k: how many neighbours; more than the index holds returns them all.

        Returns:
            :class:`Neighbours` shaped like the query (one row per query).
        """
        if k < 0:
            raise ValueError(f"k must be non-negative, got {k}")
        sims = self.similarities(query)
        single = sims.ndim == 1
        rows = sims[None] if single else sims
        k = min(k, len(self))
        indices = np.stack([_top_k(row, k) for row in rows]) if len(rows) else np.zeros((0, k), np.int64)
        similarities = np.take_along_axis(rows, indices, axis=1)
        if single:
            return Neighbours(indices[0], similarities[0])
        return Neighbours(indices, similarities)


def _top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest scores, descending, ties by index; NaN never wins."""
    if k == 0:
        return np.zeros(0, np.int64)
    scores = np.where(np.isnan(scores), -np.inf, scores)
    # argpartition is O(n); it may cut a run of equal scores anywhere, so the boundary
    # value's ties are re-selected by index to keep the result deterministic.
    part = np.argpartition(-scores, k - 1)[:k]
    threshold = scores[part].min()
    above = np.flatnonzero(scores > threshold)
    at = np.flatnonzero(scores == threshold)[: k - len(above)]
    chosen = np.concatenate([above, at])
    return chosen[np.lexsort((chosen, -scores[chosen]))].astype(np.int64)
