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

No Textual and no TensorFlow here.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from .data import MnistData, app_cache_dir, load_mnist
from .events import Finished, RunControl, Sink
from .files import atomic_path
from .predictions import Predictions
from .runs import data_fingerprint

FOLDER = "predictions"


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


def known(checksum: str, cache_dir: Path | None = None) -> bool:
    """Whether any test predictions are kept for the model with ``checksum`` (no data need be read to know)."""
    folder = (cache_dir or app_cache_dir()) / FOLDER
    try:
        return any(folder.glob(f"{checksum}-*.npy"))
    except OSError:
        return False


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


def open_scored(model_path: Path, data_path: Path | None, cache_dir: Path | None = None) -> Predictions | None:
    """The kept test predictions of the model file at ``model_path``, on the test set found at ``data_path``.

    ``None`` when none are kept (the test set is read only when some are: nothing is
    ever downloaded here), or anything cannot be read.
    """
    try:
        checksum = file_checksum(model_path)
    except OSError:
        return None
    if not known(checksum, cache_dir):
        return None
    try:
        data = load_mnist(data_path, splits=("test",))
    except Exception:  # the scoring that follows says what is wrong with the data
        return None
    return lookup(checksum, data, cache_dir)


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
