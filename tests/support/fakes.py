"""Deterministic stand-ins for Keras and the model process: fixed predictions, scripted trainers, one fake server."""

from __future__ import annotations

import functools
import itertools
import threading
import time

import numpy as np

from mnist_tui.config import TrainConfig
from mnist_tui.events import (
    BatchEnd,
    EpochEnd,
    Failed,
    Finished,
    LayerWeights,
    MapLayout,
    ModelServerError,
    NearestImages,
    Stage,
    Started,
    Stopped,
)
from mnist_tui.predictions import Predictions
from mnist_tui.worker.protocol import Embeddings, Layout, Neighbours, Predict, Request, Save, Weights, Why


def digit_image(digit: int, shift: int = 0) -> np.ndarray:
    """A crude but recognisable 28x28 drawing of ``digit`` (a seven-segment shape)."""
    image = np.zeros((28, 28), np.uint8)
    segments = {
        "a": (slice(5, 7), slice(9, 19)),
        "b": (slice(5, 14), slice(17, 19)),
        "c": (slice(13, 23), slice(17, 19)),
        "d": (slice(21, 23), slice(9, 19)),
        "e": (slice(13, 23), slice(9, 11)),
        "f": (slice(5, 14), slice(9, 11)),
        "g": (slice(13, 15), slice(9, 19)),
    }
    shapes = ["abcdef", "bc", "abged", "abgcd", "fgbc", "afgcd", "afgedc", "abc", "abcdefg", "abcdfg"]
    for segment in shapes[digit]:
        rows, cols = segments[segment]
        image[rows, cols] = 255
        image[rows.start : rows.stop, max(cols.start - 1, 0)] //= 1
    image = np.roll(image, shift, axis=1)
    # soft edges so that both rendering modes show more than two grey levels
    image[1:, :] = np.maximum(image[1:, :], image[:-1, :] // 3)
    return image


def fake_predictions(n: int = 200, seed: int = 7) -> Predictions:
    """``n`` images with fixed labels and probabilities; about one in eight is a mistake.

    Each call gets arrays of its own (a test may change them); they are drawn once per ``(n, seed)``.
    """
    images, labels, probabilities = _fake_arrays(n, seed)
    return Predictions(images.copy(), labels.copy(), probabilities.copy())


@functools.lru_cache(maxsize=8)
def _fake_arrays(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 10
    images = np.stack([digit_image(int(d), shift=int(rng.integers(-2, 3))) for d in labels])
    probabilities = np.full((n, 10), 0.0, dtype=np.float32)
    for i, label in enumerate(labels):
        wrong = i % 8 == 5
        guess = (label + 3) % 10 if wrong else label
        confidence = 0.45 + 0.5 * rng.random()
        probabilities[i] = (1 - confidence) / 9
        probabilities[i, guess] = confidence
    return images, labels.astype(np.uint8), probabilities


class ScriptedTrainer:
    """Emits a fixed list of events, then (optionally) waits to be stopped."""

    def __init__(self, events: list, *, hold: bool = False) -> None:
        self.events = events
        self.hold = hold
        self.control = None

    def run(self, sink, control) -> None:
        self.control = control
        for event in self.events:
            sink(event)


CONFIG = TrainConfig(epochs=10)
STEPS = 1875
SUMMARY = "Flatten      (784,)                0\nDense        (128,)          100,480\nDropout      (128,)                0\nDense        (10,)             1,290"


def started(config: TrainConfig = CONFIG) -> Started:
    return Started(config, config.epochs, STEPS, 101_770, SUMMARY, 60_000, 10_000)


def epoch(n: int, epochs: int = 10) -> EpochEnd:
    loss = 0.30 / n**0.8
    return EpochEnd(n, epochs, loss, 1 - loss / 3, loss * 0.8, 1 - loss / 3.5, 2.0 + 0.1 * n, 2.1 * n)


def batches(epoch_number: int, upto: int) -> list[BatchEnd]:
    base = 2.1 * (epoch_number - 1)
    return [
        BatchEnd(
            epoch_number,
            step,
            STEPS,
            0.5 / (1 + step / 300) / epoch_number,
            0.85 + 0.1 * step / STEPS,
            base + step / 900,
        )
        for step in range(100, upto + 1, 100)
    ]


def stopped_at(epoch_number: int, step: int) -> Stopped:
    """The stop at ``step``, with the batches since the last :func:`batches` event (every 100th)."""
    first = step - step % 100 + 1 if step % 100 else step - 99
    losses = tuple(0.5 / (1 + s / 300) / epoch_number for s in range(first, step + 1))
    accuracies = tuple(0.85 + 0.1 * s / STEPS for s in range(first, step + 1))
    elapsed = 2.1 * (epoch_number - 1) + step / 900
    return Stopped(epoch_number, step, STEPS, losses[-1], accuracies[-1], elapsed, losses, accuracies)


CNN_SUMMARY = "\n".join(
    [
        "Reshape      (28, 28, 1)           0",
        "Conv2D       (28, 28, 32)        832",
        "MaxPooling2D (14, 14, 32)          0",
        "Conv2D       (14, 14, 64)     51,264",
        "MaxPooling2D (7, 7, 64)            0",
        "Flatten      (3136,)               0",
        "Dense        (128,)          401,536",
        "Dropout      (128,)                0",
        "Dense        (10,)             1,290",
    ]
)
"""The CNN's summary as ``models.summary_text`` writes it (9 layers)."""


def started_cnn() -> Started:
    config = TrainConfig(arch="cnn", epochs=3)
    return Started(config, config.epochs, STEPS, 454_922, CNN_SUMMARY, 60_000, 10_000)


LOADING = [Stage("Loading data", "/data/mnist"), Stage("Loading TensorFlow")]
PREFIX = [
    Stage("Loading data"),
    Stage("Loading TensorFlow"),
    Stage("Building model", "mlp"),
    started(),
    Stage("Training"),
]
MID_TRAINING = [*PREFIX, epoch(1), epoch(2), *batches(3, 1200)]


def finished(stopped: bool = False, epochs_done: int = 10, model=None) -> list:
    predictions = fake_predictions()
    history = {"loss": [epoch(i).loss for i in range(1, epochs_done + 1)]}
    tail: list = []
    if stopped:  # as Keras does it: the stop's batches, then the epoch it cut short ends
        cut = epochs_done + 1
        tail = [*batches(cut, 600), stopped_at(cut, 700), epoch(cut)]
        history["loss"].append(epoch(cut).loss)
    return [
        *PREFIX,
        *[epoch(i) for i in range(1, epochs_done + 1)],
        *tail,
        Stage("Evaluating"),
        Finished(history, 0.071, predictions.accuracy, predictions, stopped_early=stopped, seconds=21.4, model=model),
    ]


FAILED = [
    *PREFIX,
    epoch(1),
    *batches(2, 300),
    Failed("Training diverged: the loss became NaN at epoch 2, batch 300.", "Try a smaller learning rate (it was 10)."),
]


class TemplateModel:
    """Reads a digit by its likeness to the seven-segment :func:`digit_image` shapes (no Keras)."""

    def __init__(self) -> None:
        from mnist_tui.drawing import mnist_style

        self.templates = np.stack([mnist_style(digit_image(d)) for d in range(10)]).astype(np.float32) / 255
        self.calls = 0
        self.name = "templates"

    def predict(self, images: np.ndarray) -> np.ndarray:
        self.calls += 1
        x = np.asarray(images, np.float32).reshape(len(images), 1, 28, 28) / 255
        overlap = (x * self.templates).sum(axis=(2, 3))
        norms = np.sqrt((x * x).sum(axis=(2, 3)) * (self.templates**2).sum(axis=(1, 2))) + 1e-6
        logits = 12 * overlap / norms
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        return exp / exp.sum(axis=1, keepdims=True)

    def save(self, path) -> None:
        path.write_bytes(b"fake model")


# ---------------------------------------------------------------------- the fake model server


def cluster_embeddings(labels: np.ndarray, seed: int = 3) -> np.ndarray:
    """``(n, 8)`` points: one tight blob per digit, the blobs on a circle."""
    rng = np.random.default_rng(seed)
    angles = np.asarray(labels, np.float64) * (2 * np.pi / 10)
    centres = np.c_[np.cos(angles), np.sin(angles), np.zeros((len(labels), 6))] * 10
    return (centres + rng.normal(0, 0.6, centres.shape)).astype(np.float32)


def unit_kernel(units: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """A Dense kernel whose unit ``u`` looks like digit ``u % 10`` minus its mean, and a next kernel."""
    images = np.stack([digit_image(u % 10, shift=u // 10).astype(np.float32) / 255 for u in range(units)])
    kernel = (images - images.mean(axis=(1, 2), keepdims=True)).reshape(units, 784).T
    following = np.outer(np.arange(units, 0, -1), np.ones(10)).astype(np.float32) / units
    return kernel.astype(np.float32), following


TRAIN_SIZE = 60_000
NEIGHBOUR_LABELS = (3, 3, 8, 5, 3, 9)
HOLD_LIMIT = 10.0
"""Seconds a held request waits for its gate before it fails (a test that forgot to release it)."""


class FakeModelServer(TemplateModel):
    """The one stand-in for a model process (``worker.client.RemoteModel``): every UI test's served model.

    Its typed methods build the requests the real client sends and hand them to
    :meth:`serve`, the one place that dispatches on a request's type, as the model
    process does. No Keras, no process: answers are fixed and immediate, unless the
    test holds a request type (:meth:`hold`) to stand for a slow or busy process.

    Answers: predictions by the seven-segment templates; why-maps that are the image
    times +1 on its left half and -1 on its right half, scaled by ``1 + class / 10``;
    six neighbours (seven-segment digits labelled :data:`NEIGHBOUR_LABELS`); one tight
    blob of embeddings per true digit; an islands layout from other blobs.

    Args:
        labels: the test images' true labels (the fake embeddings place them in blobs).
        errors: request type -> message: those requests fail with ``ModelServerError``.
        layout_done: answer :class:`Layout` (else: report 40% and work on until cancelled).
        weights: ``"dense"`` or ``"conv"`` answers :class:`Weights`; any other text is its error.
        chunks: progress reports of the first :class:`Neighbours` (the training set's embedding).
    """

    ready = True

    def __init__(
        self,
        labels: np.ndarray | None = None,
        *,
        errors: dict[type[Request], str] | None = None,
        layout_done: bool = True,
        weights: str = "dense",
        chunks: int = 2,
    ) -> None:
        super().__init__()
        self.name = "fake-server"
        self.labels = np.asarray(fake_predictions().labels if labels is None else labels)
        self.errors = errors or {}
        self.layout_done = layout_done
        self.weights_kind = weights
        self.chunks = chunks
        self.requests: list[Request] = []
        """Every request served, in the order they came."""
        self.progress: list[tuple[type[Request], float, str]] = []
        self.waiting: set[type[Request]] = set()
        """The request types held at their gate right now."""
        self._gates: dict[type[Request], threading.Event] = {}
        self._ids = itertools.count(1)
        self._prepared = False

    @property
    def kinds(self) -> list[type[Request]]:
        """The types of the requests served, in order."""
        return [type(request) for request in self.requests]

    @property
    def ops(self) -> list[str]:
        """The requests' type names in lower case, in order (``"weights"``)."""
        return [kind.__name__.lower() for kind in self.kinds]

    def hold(self, kind: type[Request]) -> threading.Event:
        """Hold every request of type ``kind`` until the returned event is set (or its caller cancels)."""
        gate = self._gates[kind] = threading.Event()
        return gate

    # ------------------------------------------------------------------ events.ModelService

    def predict(self, images: np.ndarray) -> np.ndarray:
        return self.serve(Predict(next(self._ids), np.asarray(images, np.uint8)))

    def save(self, path) -> None:
        self.serve(Save(next(self._ids), path))

    def why(self, image, classes, steps, *, cancel=None) -> np.ndarray:
        request = Why(next(self._ids), np.asarray(image, np.uint8), tuple(int(c) for c in classes), steps)
        return self.serve(request, cancel=cancel)

    def neighbours(self, image, k, *, progress=None, cancel=None) -> NearestImages:
        return self.serve(Neighbours(next(self._ids), np.asarray(image, np.uint8), k), progress, cancel)

    def embeddings(self, images, *, progress=None, cancel=None) -> np.ndarray:
        return self.serve(Embeddings(next(self._ids), np.asarray(images, np.uint8)), progress, cancel)

    def layout(self, images, method="auto", cache_dir=None, *, progress=None, cancel=None) -> MapLayout:
        return self.serve(Layout(next(self._ids), np.asarray(images, np.uint8), method, cache_dir), progress, cancel)

    def weights(self, *, cancel=None) -> LayerWeights:
        return self.serve(Weights(next(self._ids)), cancel=cancel)

    # ------------------------------------------------------------------ the one dispatch

    def serve(self, request: Request, progress=None, cancel: threading.Event | None = None):
        """Answer ``request`` as the model process would (``progress`` and ``cancel`` as ``RemoteModel``'s)."""
        self.requests.append(request)

        def report(fraction: float, stage: str) -> None:
            self.progress.append((type(request), fraction, stage))
            if progress is not None:
                progress(fraction, stage)

        gate = self._gates.get(type(request))
        if gate is not None:
            self._wait(type(request), gate, cancel)
        if type(request) in self.errors:
            raise ModelServerError(self.errors[type(request)])
        match request:
            case Predict(images=images):
                return TemplateModel.predict(self, images)
            case Save(path=path):
                return TemplateModel.save(self, path)
            case Why(image=image, classes=classes):
                sign = np.where(np.arange(image.shape[1]) < image.shape[1] // 2, 1.0, -1.0)[None, :]
                x = image.astype(np.float32) / 255
                return np.stack([x * sign * (1 + c / 10) for c in classes]).astype(np.float32)
            case Neighbours(k=k):
                if not self._prepared:
                    for chunk in range(1, self.chunks + 1):
                        report(chunk / self.chunks, "Embedding the training images")
                    self._prepared = True
                labels = np.array(NEIGHBOUR_LABELS[:k])
                return NearestImages(
                    indices=np.arange(k) * 1000 + 7,
                    similarities=np.linspace(0.95, 0.70, k).astype(np.float32),
                    labels=labels,
                    images=np.stack([digit_image(int(d)) for d in labels]),
                )
            case Embeddings(images=images):
                assert len(images) == len(self.labels), "the map asks for the embeddings of every test image"
                return cluster_embeddings(self.labels)
            case Layout():
                if not self.layout_done:
                    report(0.4, "layout")
                    self._wait(Layout, threading.Event(), cancel)  # a long layout: works until its map closes
                report(1.0, "done")
                return MapLayout("islands", cluster_embeddings(self.labels, seed=5)[:, :2] * 2)
            case Weights():
                if self.weights_kind == "dense":
                    kernel, following = unit_kernel()
                    return LayerWeights("dense", "dense", kernel, following)
                if self.weights_kind == "conv":
                    kernel = np.random.default_rng(1).normal(size=(5, 5, 1, 32))
                    return LayerWeights("conv", "conv2d", kernel, None)
                raise ModelServerError(self.weights_kind)
        raise ModelServerError(f"unknown request {type(request).__name__}")

    def _wait(self, kind: type[Request], gate: threading.Event, cancel: threading.Event | None) -> None:
        self.waiting.add(kind)
        try:
            deadline = time.monotonic() + HOLD_LIMIT
            while not gate.wait(0.01):
                if cancel is not None and cancel.is_set():
                    raise ModelServerError("The request was cancelled.")
                if time.monotonic() > deadline:
                    raise ModelServerError(f"{kind.__name__} was held for {HOLD_LIMIT:g} s and never released")
        finally:
            self.waiting.discard(kind)
