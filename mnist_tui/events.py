"""What a trainer reports, how the UI steers it, and what the UI may ask of a trained model.

Events carry plain Python floats and NumPy arrays only (never tensors), so they can
cross from the training thread to the UI, be printed by headless mode, or be
scripted by tests without TensorFlow. The model handles (:class:`ModelHandle`,
:class:`ModelService`), their answers and their errors are what screens and widgets
use of a model process: they never import the worker's protocol.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from .config import TrainConfig
from .predictions import Predictions


@dataclass
class RunControl:
    """Requests from the UI to a running trainer; thread-safe.

    ``stop`` ends training after the current batch and keeps the model (it is then
    evaluated and reported as usual). ``cancel`` abandons the run as fast as possible:
    the app is quitting.
    """

    stop: threading.Event = field(default_factory=threading.Event)
    cancel: threading.Event = field(default_factory=threading.Event)

    @property
    def halted(self) -> bool:
        return self.stop.is_set() or self.cancel.is_set()


class ModelHandle(Protocol):
    """A trained model as the app uses it (``training.TrainedModel``, or a stand-in in tests)."""

    name: str

    def predict(self, images: np.ndarray) -> np.ndarray:
        """``(n, height, width)`` uint8 images -> ``(n, classes)`` probabilities, quickly for a few images."""
        ...

    def save(self, path: Path) -> None:
        """Write the model to ``path`` atomically."""
        ...


# ---------------------------------------------------------------------- a model served by a process


class ModelServerError(Exception):
    """A request to a model process failed: it answered with an error, timed out, or is gone."""


class ModelLoading(ModelServerError):
    """The model process is still loading its model: ask again in a moment."""


JobProgress = Callable[[float, str], None]
"""``progress(fraction, stage)``: a long job's progress, called on a thread that is not the UI's."""


@dataclass(frozen=True)
class NearestImages:
    """The training images nearest to one image in the model's penultimate layer, nearest first."""

    indices: np.ndarray
    """Indices into the training set."""
    similarities: np.ndarray
    """Cosine similarities, in [-1, 1]."""
    labels: np.ndarray
    images: np.ndarray
    """``(k, height, width)`` uint8."""


@dataclass(frozen=True)
class LayerWeights:
    """The first layer that looks at the pixels, and the kernel of the layer after it."""

    kind: str
    """``"dense"`` (a Dense layer over the pixels) or ``"conv"`` (a Conv2D layer)."""
    layer: str
    """The layer's name in the model."""
    kernel: np.ndarray
    next_kernel: np.ndarray | None
    """The next layer's kernel when its inputs are this layer's units (it ranks them by use)."""


@dataclass(frozen=True)
class MapLayout:
    """A 2-D layout of embeddings: ``points`` is ``(n, 2)`` float32."""

    method: str
    """``"islands"`` or ``"umap"``."""
    points: np.ndarray


@runtime_checkable
class ModelService(ModelHandle, Protocol):
    """A model served by a process of its own (``worker.client.RemoteModel``): what the views ask it.

    Every method blocks until the answer comes, so callers run on a worker thread. A
    ``cancel`` event (a Textual worker's ``cancelled_event``) ends the wait early when
    its view is closed. Failures raise :class:`ModelServerError` with a message for a
    person: the model cannot answer that (no hidden layer), the process is gone, or it
    did not answer in time.
    """

    @property
    def ready(self) -> bool:
        """Whether the model is loaded and answers at once (never waits)."""
        ...

    def why(
        self, image: np.ndarray, classes: list[int], steps: int, *, cancel: threading.Event | None = None
    ) -> np.ndarray:
        """Integrated-gradients maps of one image for each of ``classes``: ``(len(classes), height, width)``."""
        ...

    def neighbours(
        self,
        image: np.ndarray,
        k: int,
        *,
        progress: JobProgress | None = None,
        cancel: threading.Event | None = None,
    ) -> NearestImages:
        """The ``k`` training images nearest to ``image`` (the first call embeds the training set, with progress)."""
        ...

    def embeddings(
        self, images: np.ndarray, *, progress: JobProgress | None = None, cancel: threading.Event | None = None
    ) -> np.ndarray:
        """``(n, d)`` float32 penultimate-layer embeddings of ``images``."""
        ...

    def layout(
        self,
        images: np.ndarray,
        method: str = "auto",
        cache_dir: Path | None = None,
        *,
        progress: JobProgress | None = None,
        cancel: threading.Event | None = None,
    ) -> MapLayout:
        """A 2-D layout of the images' embeddings ("islands", "umap", or "auto"), kept in ``cache_dir`` if given."""
        ...

    def weights(self, *, cancel: threading.Event | None = None) -> LayerWeights:
        """The first layer's weights."""
        ...


@dataclass(frozen=True)
class Stage:
    """The run moved on to a new phase (loading TensorFlow, loading data, ...)."""

    name: str
    detail: str = ""


@dataclass(frozen=True)
class DownloadProgress:
    """Bytes of one MNIST file downloaded so far."""

    file: str
    done: int
    total: int


@dataclass(frozen=True)
class BatchEnd:
    """Running metrics within an epoch (rate-limited, so not every batch).

    ``losses`` and ``accuracies`` hold every value Keras reported since the previous
    event, this one's last: the curve keeps its detail however few events get through.
    """

    epoch: int  # 1-based
    step: int  # 1-based, batches done in this epoch
    steps: int
    loss: float
    accuracy: float
    elapsed: float  # seconds since fit() started
    losses: tuple[float, ...] = ()
    accuracies: tuple[float, ...] = ()


@dataclass(frozen=True)
class EpochEnd:
    """An epoch finished."""

    epoch: int  # 1-based
    epochs: int
    loss: float
    accuracy: float
    val_loss: float | None
    val_accuracy: float | None
    seconds: float
    elapsed: float


@dataclass(frozen=True)
class LossCurve:
    """The state of a downsampled batch-loss curve (``runs.recorder.Downsampler``), to continue it exactly."""

    points: tuple[float, ...] = ()
    every: int = 1
    partial_sum: float = 0.0
    partial_count: int = 0


@dataclass(frozen=True)
class Started:
    """The model is built and ``fit()`` is about to start.

    A run that goes on from a checkpoint carries what came before: ``earlier`` (the
    epochs and their batch-loss curve ``earlier_curve``) are the run's own when it is
    ``resumed``, its parent's when it trains a finished run further.
    """

    config: TrainConfig
    epochs: int
    steps_per_epoch: int
    params: int
    summary: str
    train_size: int
    test_size: int
    precision: str = ""
    """The precision that ran, e.g. ``"bfloat16 (auto: AMX)"`` (empty from trainers that do not say)."""
    backend: str = ""
    """The Keras backend that ran, e.g. ``"jax (auto)"``."""
    earlier: tuple[EpochEnd, ...] = ()
    earlier_curve: LossCurve | None = None
    resumed: bool = False
    """``earlier`` are this run's own epochs (a resume), not its parent's (training further)."""


@dataclass(frozen=True)
class Stopped:
    """The person asked to stop; training ends after the current batch and the model is kept.

    It carries the batches reported since the last :class:`BatchEnd` (``losses``,
    ``accuracies``, the last of them ``loss`` and ``accuracy``), so the screen and the
    record show the run up to the batch it stopped at, not up to the last throttled event.
    Keras then ends the epoch early: the :class:`EpochEnd` that follows, for ``epoch``,
    covers ``step`` of its ``steps`` batches.
    """

    epoch: int  # 1-based
    step: int  # 1-based, batches done in this epoch
    steps: int = 0
    """Batches in a whole epoch (0 from trainers that do not say)."""
    loss: float = float("nan")
    accuracy: float = float("nan")
    elapsed: float = 0.0
    losses: tuple[float, ...] = ()
    accuracies: tuple[float, ...] = ()

    @property
    def partial(self) -> bool:
        """Whether the stop cut its epoch short."""
        return 0 < self.step < self.steps


@dataclass(frozen=True)
class Finished:
    """Training (complete or stopped early) ended and the test set was scored."""

    history: dict[str, list[float]]
    test_loss: float
    test_accuracy: float
    predictions: Predictions
    stopped_early: bool = False
    seconds: float = 0.0
    saved_to: Path | None = None
    # to draw against and save from the app; used only once the run's thread is done with it
    model: ModelHandle | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Failed:
    """The run could not go on. ``message`` says what happened, ``hint`` what to do."""

    message: str
    hint: str = ""
    details: str = field(default="", compare=False)


@dataclass(frozen=True)
class Notice:
    """Something the person should know that does not stop the run (e.g. the run store failed)."""

    message: str


def one_line(exc: BaseException) -> str:
    """An exception as one short line for an error panel: ``TypeName: first line``."""
    return f"{type(exc).__name__}: {exc}".strip().splitlines()[0][:300]


TrainerEvent = Stage | DownloadProgress | Started | BatchEnd | EpochEnd | Stopped | Finished | Failed | Notice
Sink = Callable[[TrainerEvent], None]
