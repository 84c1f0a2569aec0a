"""The served model: the trained model and everything the views compute from it, each once.

One object per model process owns the Keras model and its predictor, the one embedder
(the penultimate layer, on images scaled as in training) that the nearest training
images and the map share, the why-maps' explainer, the training images (loaded once,
from the data path its job carried), their neighbour index, and the map's layouts.
:meth:`ServedModel.answer` is the one place a request's type picks what answers it.

Runs in the model process only; Keras is imported inside the functions it calls.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

import numpy as np

from ..analysis import NeighbourIndex
from ..events import JobProgress, LayerWeights, MapLayout, ModelHandle, NearestImages
from .explain import Explainer, ExplainError, first_layer_weights, penultimate_model
from .layouts import LayoutCache
from .protocol import Embeddings, Layout, Neighbours, Predict, Request, Save, Weights, Why

EMBED_BATCH = 1000
"""Images per forward pass of the embedder; progress is reported after each."""
TRAINING_STAGE = "Embedding the training images (once per model)"
TEST_STAGE = "Embedding the images"


def _ignore(fraction: float, stage: str) -> None:
    pass


def digest(images: np.ndarray) -> tuple[tuple[int, ...], str]:
    """A key naming an array of images by its content (the same test set asked twice is embedded once)."""
    images = np.ascontiguousarray(images)
    return images.shape, hashlib.blake2b(images.tobytes(), digest_size=16).hexdigest()


class ServedModel:
    """A trained model as its process serves it.

    Args:
        trained: the model (``training.TrainedModel``: ``predict``, ``save`` and the
            Keras model as ``model``).
        data_path: where its MNIST is (``None``: the usual search), for the training images.
    """

    def __init__(self, trained: ModelHandle, data_path: Path | None = None) -> None:
        self.trained = trained
        self.data_path = data_path
        self.layouts = LayoutCache()
        self._lock = threading.Lock()  # the main thread and the job thread both build what is lazy
        self._embedder: Any = None
        self._explainer: Explainer | None = None
        self._training: tuple[np.ndarray, np.ndarray] | None = None
        self._index: NeighbourIndex | None = None
        self._embedded: tuple[Any, np.ndarray] | None = None  # (digest, embeddings) of the last images asked

    @property
    def keras_model(self) -> Any:
        return getattr(self.trained, "model", None)

    # ------------------------------------------------------------------ the one dispatch

    def answer(self, request: Request, progress: JobProgress = _ignore) -> Any:
        """The value that answers ``request`` (``progress``: how a long one reports).

        Raises:
            ExplainError: the model cannot answer this (the message says why, for a person).
            Exception: anything else that failed; the child sends its one-line text.
        """
        match request:
            case Predict(images=images):
                return self.trained.predict(np.asarray(images, np.uint8))
            case Save(path=path):
                return self.trained.save(Path(path))
            case Why(image=image, classes=classes, steps=steps):
                return self.why(image, classes, steps)
            case Neighbours(image=image, k=k):
                return self.neighbours(image, k, progress)
            case Embeddings(images=images):
                return self.embeddings(images, progress)
            case Layout(images=images, method=method, cache_dir=cache_dir):
                return self.layout(images, method, cache_dir, progress)
            case Weights():
                return self.weights()
        raise TypeError(f"unknown request {type(request).__name__}")

    # ------------------------------------------------------------------ what is built once

    def embedder(self) -> Any:
        """The penultimate-layer model (raises :class:`ExplainError` when the model has none)."""
        with self._lock:
            if self._embedder is None:
                self._embedder = penultimate_model(self._keras())
            return self._embedder

    def explainer(self) -> Explainer:
        with self._lock:
            if self._explainer is None:
                self._explainer = Explainer(self._keras())
            return self._explainer

    def training_images(self) -> tuple[np.ndarray, np.ndarray]:
        """The training images and labels, loaded once from :attr:`data_path`."""
        with self._lock:
            if self._training is None:
                from ..data import load_mnist

                try:
                    data = load_mnist(self.data_path)
                except Exception as exc:
                    raise ExplainError(f"The training images could not be loaded: {exc}") from None
                self._training = (data.x_train, data.y_train)
            return self._training

    def _keras(self) -> Any:
        model = self.keras_model
        if model is None:
            raise ExplainError("This model is not a Keras model, so it cannot be looked inside.")
        return model

    # ------------------------------------------------------------------ answers

    def embed(self, images: np.ndarray, progress: JobProgress = _ignore, stage: str = TEST_STAGE) -> np.ndarray:
        """``(n, height, width)`` uint8 images -> ``(n, d)`` float32 penultimate-layer outputs."""
        from ..models import scale

        embedder = self.embedder()
        images = np.asarray(images, np.uint8)
        shape = tuple(self._keras().inputs[0].shape[1:])
        parts = []
        for start in range(0, len(images), EMBED_BATCH):
            batch = scale(images[start : start + EMBED_BATCH]).reshape((-1, *shape))
            out = np.asarray(embedder(batch, training=False))
            parts.append(out.reshape(len(out), -1).astype(np.float32))
            progress(min(start + EMBED_BATCH, len(images)) / len(images), stage)
        if not parts:
            return np.zeros((0, int(np.prod(embedder.outputs[0].shape[1:]))), np.float32)
        return np.concatenate(parts)

    def embeddings(self, images: np.ndarray, progress: JobProgress = _ignore) -> np.ndarray:
        """:meth:`embed`, kept for the last images asked (the map asks for the test set's, then lays them out)."""
        key = digest(images)
        known = self._embedded
        if known is not None and known[0] == key:
            return known[1]
        embeddings = self.embed(images, progress)
        self._embedded = (key, embeddings)
        return embeddings

    def why(self, image: np.ndarray, classes: tuple[int, ...] | list[int], steps: int) -> np.ndarray:
        return self.explainer().why(np.asarray(image, np.uint8), list(classes), int(steps))

    def neighbours(self, image: np.ndarray, k: int, progress: JobProgress = _ignore) -> NearestImages:
        """The ``k`` training images nearest to ``image``; the first call embeds the training set."""
        self.embedder()  # says why before any data is loaded
        images, labels = self.training_images()
        if self._index is None:  # only the job thread asks: no lock needed to build it once
            if not len(images):
                raise ExplainError("There are no training images to compare with.")
            self._index = NeighbourIndex(self.embed(images, progress, TRAINING_STAGE))
        query = self.embed(np.asarray(image, np.uint8)[None])[0]
        found = self._index.query(query, int(k))
        return NearestImages(
            indices=found.indices,
            similarities=found.similarities,
            labels=labels[found.indices].astype(np.int64),
            images=images[found.indices],
        )

    def layout(
        self, images: np.ndarray, method: str, cache_dir: Path | None, progress: JobProgress = _ignore
    ) -> MapLayout:
        """The map's layout of the images' embeddings: each (method, images) computed once per process and run."""
        embeddings = self.embeddings(images, progress)
        resolved, points = self.layouts.get(embeddings, method, digest(images), cache_dir, progress)
        return MapLayout(resolved, points)

    def weights(self) -> LayerWeights:
        return first_layer_weights(self._keras())
