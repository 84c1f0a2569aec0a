"""What one session of the app keeps across its screens: the options, the last results, the run store, the test set.

Plain Python, no Textual: the app owns one :class:`Session`; the screens get the pieces
they need when they are made (the store, the test set) and ask the app for the rest
with messages.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from . import data as loader
from .config import TrainConfig
from .data import MnistData
from .events import ModelHandle
from .predictions import Predictions
from .runs import RunStore, open_store


@dataclass(frozen=True)
class RunResults:
    """What the results browser of a finished run needs, kept so it can be reopened."""

    predictions: Predictions
    model: ModelHandle | None
    title: str
    run_dir: Path | None = None
    run_id: int | None = None
    """The recorded run these are (``None``: not recorded); its model opens again from the store."""


class TestSet:
    """MNIST's test images, read once in a session and shared: compared runs' flipped images, reopened runs.

    Recorded runs keep probabilities, not images. Thread-safe: read on a worker thread,
    used on the UI thread.

    Args:
        loaded: Test images already at hand (tests; a screen used alone).
    """

    __test__ = False  # not a pytest test class, despite its name

    def __init__(self, loaded: MnistData | None = None) -> None:
        self._data = loaded
        self._lock = threading.Lock()

    @property
    def data(self) -> MnistData | None:
        """The test images once read, else ``None``."""
        return self._data

    def keep(self, loaded: MnistData) -> None:
        """Keep ``loaded`` for the session, unless a test set is kept already (screens may show it)."""
        with self._lock:
            if self._data is None:
                self._data = loaded

    def load(self, path: str | Path | None) -> MnistData:
        """The test images, read from ``path`` (else where MNIST is found) the first time; blocks: call it off the UI thread.

        Raises:
            DataError: MNIST cannot be found or read.
        """
        with self._lock:
            if self._data is None:
                self._data = loader.load_mnist(path)  # looked up now: tests stand in for it
            return self._data


@dataclass
class Session:
    """The app's state shared by its screens, in one place."""

    config: TrainConfig
    """The options of the run training now, or of the last one: the train-again form starts from them."""
    last_results: RunResults | None = None
    """The latest run that finished (``r`` reopens them after a failed run)."""
    test_set: TestSet = field(default_factory=TestSet)
    store: RunStore | None = None
    """The run store, once a screen needed it (see :meth:`open_store`)."""
    last_save: tuple[str, Path] | None = None
    """The model last saved in this session (its name) and the absolute path it went to."""

    def save_path_for(self, model_name: str) -> Path:
        """Where the save dialog suggests saving ``model_name``: always an absolute path.

        The path this model was last saved to; else, after another model was saved, that
        file's folder; else the current directory. The name is ``mnist-NAME.keras``.
        """
        if self.last_save is not None:
            name, path = self.last_save
            if name == model_name:
                return path
            return path.parent / f"mnist-{model_name}.keras"
        return Path.cwd() / f"mnist-{model_name}.keras"

    def remember_save(self, model_name: str, path: Path) -> None:
        """A model was saved to ``path``: the next save dialog starts from there."""
        self.last_save = (model_name, Path(path).absolute())

    def open_store(self) -> RunStore:
        """The run store, opened on first need and then kept.

        Raises:
            StoreError: it cannot be opened (the next call tries again).
        """
        if self.store is None:
            self.store = open_store()
        return self.store
