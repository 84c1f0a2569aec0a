"""A model file's test predictions, kept by the file's checksum: opening the same file again skips the scoring.

``mnist-tui --model PATH`` scores the file on the test set in its model process (the
import of TensorFlow, the load, 10,000 predictions). The probabilities it got are kept in
the app's cache folder (``~/.cache/mnist-tui/predictions/``), named by the SHA-256 of the
model file and the fingerprint of the test images and labels, so a changed file or other
test data never reuse them. A second open of the same file then reads them (400 kB) and
shows its results at once, as ``--run`` does, while the model loads for the views that
need it.

The cache only saves time: a file that cannot be read or written is as if it were not
there, and it is written whole or not at all (``files.atomic_path``).

A first open does not wait for the scoring either: the results browser opens on the test
images as soon as they are read (:func:`local_test_set`), and the predictions fill in
when the model process has answered (:class:`ToScore`, :func:`predict_all`).

No Textual and no TensorFlow here.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .data import (
    DATA_ENV,
    MnistData,
    app_cache_dir,
    has_all_files,
    keras_cache_file,
    load_idx_dir,
    load_npz,
    load_path,
)
from .datasets import MNIST
from .events import Finished, ModelHandle, ModelServerError, RunControl, Sink
from .files import atomic_path
from .predictions import Predictions
from .runs import data_fingerprint

FOLDER = "predictions"
BATCH = 1000
"""Test images per prediction request: each one is a quick request (a fraction of a second for the CNN)."""
READY_POLL = 0.05
"""Seconds between looks at whether the model process has loaded its model."""
LOAD_WAIT = 120.0
"""Seconds the predictions wait for the model process to load the model (as ``RemoteModel``'s requests do)."""


def file_checksum(path: Path) -> str:
    """The SHA-256 of a file's bytes, in hex (raises ``OSError`` when it cannot be read)."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def cache_file(checksum: str, fingerprint: str, cache_dir: Path | None = None) -> Path:
    """Where the probabilities of the model with ``checksum`` on the test data with ``fingerprint`` are kept."""
    return (cache_dir or app_cache_dir()) / FOLDER / f"{checksum}-{fingerprint}.npy"


def keep(checksum: str, predictions: Predictions, cache_dir: Path | None = None) -> Path | None:
    """Keep ``predictions``' probabilities for the model with ``checksum``; ``None`` when they could not be written."""
    path = cache_file(checksum, data_fingerprint(predictions.images, predictions.labels), cache_dir)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp, open(tmp, "wb") as file:
            np.save(file, np.asarray(predictions.probabilities, np.float32), allow_pickle=False)
    except OSError:
        return None
    return path


def lookup(checksum: str, data: MnistData, cache_dir: Path | None = None) -> Predictions | None:
    """The kept predictions of the model with ``checksum`` on ``data``'s test set, or ``None``."""
    path = cache_file(checksum, data_fingerprint(data.x_test, data.y_test), cache_dir)
    try:
        probabilities = np.load(path, allow_pickle=False)
        predictions = Predictions(data.x_test, data.y_test, probabilities)
    except (OSError, ValueError, EOFError):  # not kept, unreadable, empty or the wrong shape: scored again
        return None
    if not np.all(np.isfinite(probabilities)):
        return None
    return predictions


class KeepingScorer:
    """Wraps the trainer that scores a model file so that its test predictions are kept for the next open.

    The checksum is taken before the scoring starts: the predictions belong to the
    bytes that were scored, even if the file changes meanwhile.
    """

    def __init__(self, trainer: Any, model_path: Path, cache_dir: Path | None = None) -> None:
        self.trainer = trainer
        self.model_path = Path(model_path)
        self.cache_dir = cache_dir

    def run(self, sink: Sink, control: RunControl) -> None:
        try:
            checksum: str | None = file_checksum(self.model_path)
        except OSError:
            checksum = None  # the scorer says what is wrong with the file

        def keeping(event: Any) -> None:
            if isinstance(event, Finished) and checksum is not None and not event.stopped_early:
                keep(checksum, event.predictions, self.cache_dir)
            sink(event)

        self.trainer.run(keeping, control)


# ---------------------------------------------------------------------- the first open: images first


def local_test_set(data_path: Path | None, env: Mapping[str, str] = os.environ) -> MnistData | None:
    """The test images and labels where ``mnist-tui`` finds MNIST, read now; ``None`` when they are not on this machine.

    As :func:`~mnist_tui.data.load_mnist` looks for them, but never downloads: a download,
    and data that cannot be read, are left to the scoring on the training screen, which
    shows the download's progress or says what is wrong.
    """
    splits = ("test",)
    try:
        explicit = data_path if data_path is not None else env.get(DATA_ENV) or None
        if explicit is not None:
            return load_path(Path(explicit), splits=splits)
        keras_file = keras_cache_file(env)
        if keras_file.is_file():
            return load_npz(keras_file, splits=splits)
        cache = app_cache_dir(env)
        if has_all_files(cache, splits=splits):
            return load_idx_dir(cache, splits=splits)
    except Exception:  # the scoring that follows says what is wrong with the data
        return None
    return None


@dataclass(frozen=True, eq=False)
class ToScore:
    """A model file opened before its test predictions are known: the images to predict, and where to keep the answer.

    Attributes:
        path: The model file (its name titles the results).
        images: ``(n, height, width)`` uint8 test images.
        labels: Their true labels.
        checksum: The file's SHA-256 (:func:`file_checksum`, taken before the scoring);
            ``None``: the predictions are not kept.
        cache_dir: Where they are kept (``None``: the app's cache folder).
    """

    path: Path
    images: np.ndarray
    labels: np.ndarray
    checksum: str | None = None
    cache_dir: Path | None = None


def predict_all(
    model: ModelHandle,
    images: np.ndarray,
    *,
    progress: Callable[[int], object] | None = None,
    cancel: threading.Event | None = None,
    batch: int = BATCH,
    load_wait: float = LOAD_WAIT,
) -> np.ndarray:
    """``(n, classes)`` probabilities of ``images``, asked of ``model`` in batches once it has loaded.

    Waits (off the UI thread) while the model process imports TensorFlow and loads the
    model (``model.ready``); ``progress(done)`` is called with the images predicted so far.

    Raises:
        ModelServerError: the model could not be loaded (within ``load_wait`` seconds) or
            answer (the message says why), or ``cancel`` was set.
    """
    deadline = time.monotonic() + load_wait
    while not getattr(model, "ready", True):
        if cancel is not None and cancel.is_set():
            raise ModelServerError("The predictions were cancelled.")
        if time.monotonic() > deadline:
            raise ModelServerError(f"The model process did not load the model within {load_wait:g} s.")
        time.sleep(READY_POLL)
    parts = []
    for start in range(0, len(images), batch):
        if cancel is not None and cancel.is_set():
            raise ModelServerError("The predictions were cancelled.")
        parts.append(np.asarray(model.predict(images[start : start + batch]), np.float32))
        if progress is not None:
            progress(min(start + batch, len(images)))
    if not parts:
        return np.zeros((0, MNIST.num_classes), np.float32)
    return np.concatenate(parts)
