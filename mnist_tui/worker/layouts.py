"""The map's 2-D layouts of embeddings, and their cache (memory, and a file in the run's folder).

NumPy only (umap-learn when the ``map`` extra is installed); runs in the model process.

The nonlinear layout ("islands") is a small UMAP-style layout in NumPy: a
k-nearest-neighbour graph of the embeddings, then attraction along its edges and
repulsion from random points. On 10,000 test embeddings it takes a few seconds on two
cores and keeps 92% of points among neighbours of their own digit (10-NN vote), where
PCA keeps 48% (``benchmarks/map.py``). With the ``map`` extra installed
(``pip install "mnist-tui[map]"``), ``method="umap"`` uses umap-learn instead (tighter
islands; its first fit in a process spends about two minutes compiling).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from pathlib import Path

import numpy as np

from ..analysis import fit_pca
from ..files import atomic_path

LAYOUT_FILE = "map-{method}.npy"
"""The layout's cache file in a recorded run's folder."""

# ------------------------------------------------------------------ the islands layout (NumPy)

Progress = Callable[[float, str], None]


def _nearest(points: np.ndarray, k: int, progress: Progress, chunk: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """``(n, k)`` indices and distances of each point's nearest other points, nearest first."""
    n = len(points)
    squares = (points * points).sum(axis=1)
    index = np.empty((n, k), np.int64)
    dist = np.empty((n, k), np.float32)
    for start in range(0, n, chunk):
        block = points[start : start + chunk]
        d = squares[start : start + chunk, None] - 2 * block @ points.T + squares[None]
        rows = np.arange(len(block))
        d[rows, start + rows] = np.inf
        near = np.argpartition(d, k - 1, axis=1)[:, :k]
        near_d = np.take_along_axis(d, near, axis=1)
        order = np.argsort(near_d, axis=1)
        index[start : start + chunk] = np.take_along_axis(near, order, axis=1)
        dist[start : start + chunk] = np.sqrt(np.maximum(np.take_along_axis(near_d, order, axis=1), 0))
        progress(0.4 * min(start + chunk, n) / n, "nearest neighbours")
    return index, dist


def _graph(points: np.ndarray, k: int, progress: Progress) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Undirected edges ``(heads, tails, weights)`` of the fuzzy k-NN graph (UMAP's fuzzy union)."""
    n = len(points)
    index, dist = _nearest(points, k, progress)
    rho = dist[:, :1]
    sigma = np.maximum(dist.mean(axis=1, keepdims=True) - rho, 1e-3)
    weight = np.exp(-(dist - rho) / sigma).ravel()
    heads = np.repeat(np.arange(n), k)
    tails = index.ravel()
    key = np.minimum(heads, tails) * n + np.maximum(heads, tails)
    edges, inverse = np.unique(key, return_inverse=True)
    # an edge found from both ends: 1 - (1 - w1)(1 - w2)
    log_miss = np.bincount(inverse, weights=np.log1p(-np.minimum(weight, 0.999999)), minlength=len(edges))
    return edges // n, edges % n, (1 - np.exp(log_miss)).astype(np.float32)


def islands_layout(
    embeddings: np.ndarray,
    k: int = 10,
    epochs: int = 150,
    negatives: int = 5,
    rate: float = 10.0,
    seed: int = 0,
    progress: Progress | None = None,
) -> np.ndarray:
    """A 2-D layout that gathers similar embeddings into islands (UMAP-style, NumPy only).

    Every epoch moves all points at once: each edge of the neighbour graph pulls its
    ends together, ``negatives`` random points per point push it away, and a point's
    move is the sum divided by its degree (so dense regions do not fly apart).

    Args:
        embeddings: ``(n, d)`` finite values, ``n >= 2``.
        k: neighbours per point in the graph.
        epochs: optimisation rounds; the step shrinks linearly to zero.
        negatives: random repelling points per point and epoch.
        rate: the first epoch's step size.
        seed: random seed; the same inputs give the same layout.
        progress: called with (fraction done, stage) now and then.

    Returns:
        ``(n, 2)`` float32 coordinates.
    """
    progress = progress or (lambda fraction, stage: None)
    points = np.asarray(embeddings, np.float32)
    n = len(points)
    if n < 3:
        return np.zeros((n, 2), np.float32)
    # 16 principal directions keep the neighbours and make the distances cheap
    reduced = fit_pca(points, min(16, points.shape[1])).transform(points)
    heads, tails, weight = _graph(reduced, min(k, n - 1), progress)
    start = reduced[:, :2] if reduced.shape[1] >= 2 else np.c_[reduced, np.zeros(n, np.float32)]
    layout = (10 * start / max(float(np.abs(start).max()), 1e-9)).astype(np.float32)
    degree = (np.bincount(heads, weights=weight, minlength=n) + np.bincount(tails, weights=weight, minlength=n)).astype(
        np.float32
    )
    inverse_degree = 1 / np.maximum(degree, 1e-6)
    sources = np.repeat(np.arange(n), negatives)
    push_scale = degree / negatives
    rng = np.random.default_rng(seed)
    force = np.empty((n, 2), np.float32)
    for epoch in range(epochs):
        step = rate * (1 - epoch / epochs)
        delta = layout[heads] - layout[tails]
        d2 = np.einsum("ij,ij->i", delta, delta)
        pull = np.clip(delta * (weight * (-2 / (1 + d2)))[:, None], -4, 4)
        targets = rng.integers(0, n, len(sources))
        delta_neg = layout[sources] - layout[targets]
        d2_neg = np.einsum("ij,ij->i", delta_neg, delta_neg)
        push = np.clip(delta_neg * (2 / ((0.01 + d2_neg) * (1 + d2_neg)))[:, None], -4, 4)
        for c in range(2):
            force[:, c] = np.bincount(heads, weights=pull[:, c], minlength=n)
            force[:, c] -= np.bincount(tails, weights=pull[:, c], minlength=n)
            force[:, c] += np.bincount(sources, weights=push[:, c], minlength=n) * push_scale
        layout += step * np.clip(force * inverse_degree[:, None], -4, 4)
        if epoch % 10 == 0:
            progress(0.4 + 0.6 * epoch / epochs, "layout")
    progress(1.0, "done")
    return layout


def umap_available() -> bool:
    """Whether umap-learn (the ``map`` extra) is installed, without importing it."""
    from importlib.util import find_spec

    return find_spec("umap") is not None


def resolve_method(method: str) -> str:
    """``"auto"`` -> ``"umap"`` when umap-learn is installed, else ``"islands"``; other names as they are."""
    if method == "auto":
        return "umap" if umap_available() else "islands"
    return method


def compute_layout(embeddings: np.ndarray, method: str, progress: Progress | None = None) -> np.ndarray:
    """``(n, 2)`` float32 layout by ``method``: "islands", "umap", or "auto" (umap when installed)."""
    progress = progress or (lambda fraction, stage: None)
    method = resolve_method(method)
    if method == "islands":
        return islands_layout(embeddings, progress=progress)
    if method == "umap":
        if not umap_available():
            raise ValueError('UMAP needs the map extra: pip install "mnist-tui[map]"')
        import umap  # the map extra; compiles with numba on its first fit in a process

        progress(0.1, "UMAP (the first time in a process compiles for about two minutes)")
        layout = umap.UMAP(n_neighbors=15, min_dist=0.1, random_state=0).fit_transform(np.asarray(embeddings))
        progress(1.0, "done")
        return np.asarray(layout, np.float32)
    raise ValueError(f"unknown layout method {method!r} (islands, umap or auto)")


# ------------------------------------------------------------------ the cache


class LayoutCache:
    """Every layout this process computed, and those kept in run folders: each layout is computed once.

    In memory by ``(method, key)`` (``key`` names the embeddings, e.g. a digest of the
    images), and in ``cache_dir/map-{method}.npy`` for the next process, checked
    against the number of points.
    """

    def __init__(self) -> None:
        self._layouts: dict[tuple[str, Hashable], np.ndarray] = {}
        self._lock = threading.Lock()

    def get(
        self,
        embeddings: np.ndarray,
        method: str,
        key: Hashable,
        cache_dir: Path | None = None,
        progress: Progress | None = None,
    ) -> tuple[str, np.ndarray]:
        """The ``(method, layout)`` of ``embeddings``: from memory, from the run's file, or computed (with progress).

        ``method`` "auto" is resolved first, so the answer names the method that ran.
        """
        method = resolve_method(method)
        n = len(embeddings)
        with self._lock:
            known = self._layouts.get((method, key))
        if known is None:
            file = Path(cache_dir) / LAYOUT_FILE.format(method=method) if cache_dir is not None else None
            known = _read(file, n)
            if known is None:
                known = compute_layout(embeddings, method, progress)
                if file is not None:
                    _write(file, known)
            with self._lock:
                self._layouts[(method, key)] = known
        if progress is not None:
            progress(1.0, "done")
        return method, known


def _write(path: Path, layout: np.ndarray) -> None:
    """Write atomically; a cache that cannot be written is only a slower next time."""
    try:
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            np.save(handle, layout)
    except OSError:
        pass


def _read(path: Path | None, n: int) -> np.ndarray | None:
    if path is None or not path.is_file():
        return None
    try:
        layout = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    return layout.astype(np.float32) if layout.shape == (n, 2) and np.isfinite(layout).all() else None
