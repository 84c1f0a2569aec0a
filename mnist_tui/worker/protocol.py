"""Messages between the UI process and a trainer process: plain, picklable data.

Child to parent: the trainer's own events (:mod:`mnist_tui.events`), then, once the
model is served, :class:`Response` objects. Parent to child: :class:`Stop`,
:class:`Cancel` while training, :class:`Request` objects afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..config import TrainConfig


@dataclass(frozen=True)
class TrainJob:
    """Train a model for ``config``, then serve it."""

    config: TrainConfig


@dataclass(frozen=True)
class ScoreJob:
    """Load the saved model at ``model_path``, score it on the test set, then serve it."""

    model_path: Path
    config: TrainConfig


@dataclass(frozen=True)
class ServeJob:
    """Load the saved model at ``model_path`` and serve it (no scoring: its results are known)."""

    model_path: Path
    name: str


Job = TrainJob | ScoreJob | ServeJob


@dataclass(frozen=True)
class Stop:
    """End training after the current batch; the model is kept, scored and served."""


@dataclass(frozen=True)
class Cancel:
    """Abandon the run as fast as possible and exit."""


@dataclass(frozen=True)
class Request:
    """Ask the model server for something; answered by exactly one :class:`Response`."""

    id: int
    op: str
    args: tuple = ()


@dataclass(frozen=True)
class Response:
    """The answer to the request ``id``: a value, or an error message (one line)."""

    id: int
    value: object = None
    error: str | None = None


@dataclass(frozen=True)
class Serving:
    """The child loaded a saved model (:class:`ServeJob`) and answers requests now."""

    name: str


class ModelServerError(Exception):
    """A request to a model process failed: it answered with an error, timed out, or is gone."""


class ModelLoading(ModelServerError):
    """The model process is still loading its model: ask again in a moment."""
