"""Immutable events a trainer emits while it runs.

They carry plain Python floats and NumPy arrays only (never tensors), so they can
cross from the training thread to the UI, be printed by headless mode, or be
scripted by tests without TensorFlow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from .config import TrainConfig
from .predictions import Predictions


class ModelHandle(Protocol):
    """A trained model as the app uses it (``training.TrainedModel``, or a stand-in in tests)."""

    name: str

    def predict(self, images: np.ndarray) -> np.ndarray:
        """``(n, 28, 28)`` uint8 images -> ``(n, 10)`` probabilities, quickly for a few images."""
        ...

    def save(self, path: Path) -> None:
        """Write the model to ``path`` atomically."""
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
class Started:
    """The model is built and ``fit()`` is about to start."""

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
class Stopped:
    """The person asked to stop; training ends after the current batch and the model is kept."""

    epoch: int
    step: int


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
