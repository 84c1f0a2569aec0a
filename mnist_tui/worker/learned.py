"""Model-process requests about what the model learned (first-layer weights, map layouts).

Runs in the trainer/model process only; TensorFlow is imported inside the handlers.
Each entry of ``HANDLERS`` maps a request op to ``handler(model, *args)``, ``model``
being the served ``training.TrainedModel``.

The map's nonlinear layout ("islands") is a small UMAP-style layout in NumPy: a
k-nearest-neighbour graph of the embeddings, then attraction along its edges and
repulsion from random points. On 10,000 test embeddings it takes a few seconds on two
cores and keeps 92% of points among neighbours of their own digit (10-NN vote), where
PCA keeps 48% (``benchmarks/map.py``). With the ``map`` extra installed
(``pip install "mnist-tui[map]"``), ``method="umap"`` uses umap-learn instead (tighter
islands; its first fit in a process spends about two minutes compiling).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..analysis import fit_pca

EMBEDDER_ATTR = "_map_embedder"
"""Where the penultimate-layer model is cached on the served model (one per process)."""
LAYOUTS_ATTR = "_map_layouts"
"""``{method: (n, 2) layout}`` computed in this process, so reopening the map is instant."""
JOB_ATTR = "_map_layout_job"
"""The layout computing in the background, if any."""

LAYOUT_FILE = "map-{method}.npy"
"""The layout's cache file in a recorded run's folder."""


# ------------------------------------------------------------------ embeddings and weights


def penultimate_model(keras_model: Any) -> Any:
    """A functional model from the input to the input of the last layer (the embedding).

    Raises:
        ValueError: the model has no graph of layers to cut (a subclassed model).
    """
    import keras

    try:
        inputs = keras_model.inputs
        return keras.Model(inputs[0] if len(inputs) == 1 else inputs, keras_model.layers[-1].input)
    except Exception as exc:
        raise ValueError(
            f"this model's layers cannot be read as a graph ({type(exc).__name__}), so it has no penultimate layer to map"
        ) from None


def map_embeddings(model: Any, images: np.ndarray, batch: int = 1000) -> np.ndarray:
    """``(n, 28, 28)`` uint8 images -> ``(n, d)`` float32 penultimate-layer embeddings."""
    from ..models import scale

    embedder = getattr(model, EMBEDDER_ATTR, None)
    if embedder is None:
        embedder = penultimate_model(model.model)
        setattr(model, EMBEDDER_ATTR, embedder)
    images = np.asarray(images, np.uint8)
    shape = tuple(model.model.inputs[0].shape[1:])
    parts = [
        np.asarray(embedder(scale(images[i : i + batch]).reshape((-1, *shape)), training=False))
        for i in range(0, len(images), batch)
    ]
    out = np.concatenate(parts) if parts else np.zeros((0, int(embedder.outputs[0].shape[-1])), np.float32)
    return out.reshape(len(images), -1).astype(np.float32)


def first_layer_weights(model: Any) -> dict[str, Any]:
    """The first Dense layer over the pixels, or the first Conv2D, and the next layer's kernel.

    Returns:
        ``{"kind": "dense" | "conv", "layer": name, "kernel": array, "next_kernel": array | None}``.

    Raises:
        ValueError: no such layer (the message says what the model has instead).
    """
    layers = list(getattr(model.model, "layers", []))
    kernels = [(layer, getattr(layer, "kernel", None)) for layer in layers]
    kernels = [(layer, np.asarray(k)) for layer, k in kernels if k is not None]
    for i, (layer, kernel) in enumerate(kernels):
        dense = kernel.ndim == 2 and kernel.shape[0] == 784
        if dense or kernel.ndim == 4:
            units = kernel.shape[-1]
            following = kernels[i + 1][1] if i + 1 < len(kernels) else None
            fits = following is not None and following.shape[-2 if following.ndim == 4 else 0] == units
            return {
                "kind": "dense" if dense else "conv",
                "layer": layer.name,
                "kernel": kernel.astype(np.float32),
                "next_kernel": following.astype(np.float32) if fits else None,
            }
    names = ", ".join(type(layer).__name__ for layer in layers) or "no layers"
    raise ValueError(f"no Dense layer over the 784 pixels and no Conv2D layer to show (the model has {names})")


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


def compute_layout(embeddings: np.ndarray, method: str, progress: Progress | None = None) -> np.ndarray:
    """``(n, 2)`` float32 layout by ``method``: "islands", "umap", or "auto" (umap when installed)."""
    progress = progress or (lambda fraction, stage: None)
    if method == "auto":
        method = "umap" if umap_available() else "islands"
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


# ------------------------------------------------------------------ background layout jobs


class LayoutJob:
    """One layout computing on a daemon thread of the model process; polled by the UI."""

    def __init__(self, embeddings: np.ndarray, method: str, cache: Path | None, store: dict) -> None:
        self.method = "umap" if method == "auto" and umap_available() else ("islands" if method == "auto" else method)
        self.fraction = 0.0
        self.stage = "starting"
        self.layout: np.ndarray | None = None
        self.error: str | None = None
        self._args = (np.asarray(embeddings, np.float32), cache, store)
        threading.Thread(target=self._run, name="mnist-tui-map-layout", daemon=True).start()

    def _progress(self, fraction: float, stage: str) -> None:
        self.fraction, self.stage = fraction, stage

    def _run(self) -> None:
        embeddings, cache, store = self._args
        try:
            layout = compute_layout(embeddings, self.method, self._progress)
            store[self.method] = layout
            if cache is not None:
                _write_cache(cache, layout)
            self.layout = layout
        except Exception as exc:  # reported to the UI by the next poll
            self.error = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__

    def state(self) -> dict[str, Any]:
        """What the UI polls: ``done``, ``fraction``, ``stage``, ``method``, ``layout``, ``error``."""
        done = self.layout is not None or self.error is not None
        return {
            "done": done,
            "fraction": self.fraction,
            "stage": self.stage,
            "method": self.method,
            "layout": self.layout,
            "error": self.error,
        }


def _write_cache(path: Path, layout: np.ndarray) -> None:
    """Write atomically; a cache that cannot be written is only a slower next time."""
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    try:
        with open(partial, "wb") as handle:
            np.save(handle, layout)
        partial.replace(path)
    except OSError:
        partial.unlink(missing_ok=True)


def _read_cache(path: Path | None, n: int) -> np.ndarray | None:
    if path is None or not Path(path).is_file():
        return None
    try:
        layout = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    return layout.astype(np.float32) if layout.shape == (n, 2) and np.isfinite(layout).all() else None


def layout_start(model: Any, embeddings: np.ndarray, method: str = "auto", cache_dir: str | None = None) -> dict:
    """Start computing a layout (or answer from a cache at once); poll with ``map_layout_poll``."""
    store = getattr(model, LAYOUTS_ATTR, None)
    if store is None:
        store = {}
        setattr(model, LAYOUTS_ATTR, store)
    resolved = "umap" if method == "auto" and umap_available() else ("islands" if method == "auto" else method)
    cache = Path(cache_dir) / LAYOUT_FILE.format(method=resolved) if cache_dir else None
    n = len(embeddings)
    known = store.get(resolved)
    known = known if known is not None and len(known) == n else _read_cache(cache, n)
    if known is not None:
        store[resolved] = known
        setattr(model, JOB_ATTR, None)
        return {"done": True, "fraction": 1.0, "stage": "cached", "method": resolved, "layout": known, "error": None}
    job = LayoutJob(embeddings, resolved, cache, store)
    setattr(model, JOB_ATTR, job)
    return job.state()


def layout_poll(model: Any) -> dict:
    """The background layout's state (see :meth:`LayoutJob.state`)."""
    job = getattr(model, JOB_ATTR, None)
    if job is None:
        return {
            "done": True,
            "fraction": 0.0,
            "stage": "",
            "method": "",
            "layout": None,
            "error": "no layout was started",
        }
    return job.state()


HANDLERS: dict[str, Callable[..., Any]] = {
    "map_embeddings": map_embeddings,
    "weights": first_layer_weights,
    "map_layout": lambda model, embeddings, method="auto": compute_layout(embeddings, method),
    "map_layout_start": layout_start,
    "map_layout_poll": layout_poll,
}
