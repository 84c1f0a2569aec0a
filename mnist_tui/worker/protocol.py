"""Messages between the UI process and a trainer process: plain, picklable data.

Parent to child: a job (what the process is for), then :class:`Stop` and
:class:`Cancel` while training, and typed requests (one frozen dataclass each, every
one with its id) once the model is served. Child to parent: the trainer's own events
(:mod:`mnist_tui.events`), :class:`Serving` once a saved model is loaded, then for each
request exactly one :class:`Response`; a long job sends :class:`Progress` messages
before its response, so nothing is ever polled.

The answers' types (:class:`~mnist_tui.events.NearestImages` and the others) and the
errors live in :mod:`mnist_tui.events`, where screens and widgets find them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from ..config import TrainConfig
from ..events import ModelLoading, ModelServerError

__all__ = [
    "Cancel",
    "Embeddings",
    "Job",
    "Layout",
    "ModelLoading",
    "ModelServerError",
    "Neighbours",
    "Predict",
    "Progress",
    "Request",
    "Response",
    "Save",
    "ScoreJob",
    "ServeJob",
    "Serving",
    "SpareJob",
    "Stop",
    "TrainJob",
    "Weights",
    "Why",
]

# ---------------------------------------------------------------------- jobs


@dataclass(frozen=True)
class TrainJob:
    """Train a model for ``config``, then serve it (its training images come from ``config.data``).

    ``checkpoint_dir``: where a checkpoint is written after every epoch (the run's folder).
    ``resume_from``: the run folder whose last checkpoint training goes on from: the same
    run's (a resume) or, when ``further``, a finished parent's (a new run).
    """

    config: TrainConfig
    checkpoint_dir: Path | None = None
    resume_from: Path | None = None
    further: bool = False


@dataclass(frozen=True)
class ScoreJob:
    """Load the saved model at ``model_path``, score it on the test set, then serve it."""

    model_path: Path
    config: TrainConfig


@dataclass(frozen=True)
class ServeJob:
    """Load the saved model at ``model_path`` and serve it (no scoring: its results are known).

    ``data`` is where the run found MNIST (``None``: the usual search), for the views that
    need the training images.
    """

    model_path: Path
    name: str
    data: Path | None = None


@dataclass(frozen=True)
class SpareJob:
    """Import Keras on ``backend`` now, then wait for the real job (a :class:`TrainJob`, :class:`ScoreJob` or
    :class:`ServeJob`) to arrive over the pipe: a spare process kept warm, so a job starts without the import.

    No operation runs before the job: TensorFlow's thread pools are still the job's to size.
    """

    backend: str


Job = TrainJob | ScoreJob | ServeJob | SpareJob


@dataclass(frozen=True)
class Stop:
    """End training after the current batch; the model is kept, scored and served."""


@dataclass(frozen=True)
class Cancel:
    """Abandon the run as fast as possible and exit."""


# ---------------------------------------------------------------------- requests to the served model


@dataclass(frozen=True)
class Request:
    """Something asked of the served model; answered by exactly one :class:`Response` with the same ``id``."""

    id: int
    LONG: ClassVar[bool] = False
    """Whether the child answers it on its job thread (seconds or more, with progress) rather than at once."""


@dataclass(frozen=True)
class Predict(Request):
    """``(n, height, width)`` uint8 images -> ``(n, classes)`` float32 probabilities."""

    images: np.ndarray


@dataclass(frozen=True)
class Save(Request):
    """Write the model (and its history) to ``path`` atomically; answered with ``None``.

    Answered on the child's main thread, whose SIGTERM handler unwinds a save in progress
    (removing its temporary file) before the process exits.
    """

    path: Path


@dataclass(frozen=True)
class Why(Request):
    """Integrated-gradients maps of ``image`` for each class: ``(len(classes), height, width)`` float32."""

    image: np.ndarray
    classes: tuple[int, ...]
    steps: int


@dataclass(frozen=True)
class Neighbours(Request):
    """The ``k`` training images nearest to ``image``: a :class:`~mnist_tui.events.NearestImages`.

    The first one embeds the whole training set (once per model), with progress.
    """

    image: np.ndarray
    k: int
    LONG: ClassVar[bool] = True


@dataclass(frozen=True)
class Embeddings(Request):
    """``(n, d)`` float32 penultimate-layer embeddings of ``images``."""

    images: np.ndarray
    LONG: ClassVar[bool] = True


@dataclass(frozen=True)
class Layout(Request):
    """A :class:`~mnist_tui.events.MapLayout` of the images' embeddings, by ``method`` ("islands", "umap", "auto").

    ``cache_dir`` (a recorded run's folder) keeps the layout for the next process.
    """

    images: np.ndarray
    method: str = "auto"
    cache_dir: Path | None = None
    LONG: ClassVar[bool] = True


@dataclass(frozen=True)
class Weights(Request):
    """The first layer's weights: a :class:`~mnist_tui.events.LayerWeights`."""


# ---------------------------------------------------------------------- answers


@dataclass(frozen=True)
class Response:
    """The answer to the request ``id``: a value, or an error message (one line, for a person)."""

    id: int
    value: object = None
    error: str | None = None


@dataclass(frozen=True)
class Progress:
    """How far the long request ``id`` has got (``fraction`` in [0, 1]); its response follows."""

    id: int
    fraction: float
    stage: str


@dataclass(frozen=True)
class Serving:
    """The child loaded a saved model (:class:`ServeJob`) and answers requests now."""

    name: str
