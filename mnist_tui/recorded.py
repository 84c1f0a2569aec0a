"""The app's side of the run store: record a run as it trains, and reopen a recorded one.

No Textual and no TensorFlow here: a recorded run's model is served by a model process
(:class:`~mnist_tui.worker.client.RemoteModel`), started when the run is opened.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .config import TrainConfig
from .data import MnistData, load_mnist
from .events import RunControl
from .files import remove_temporaries
from .predictions import Predictions
from .runs import Recorder, RunStore, data_fingerprint
from .runs.resume import ResumePlan
from .worker.client import RemoteModel


class RecordingTrainer:
    """Wraps a trainer so that its run is recorded: a row from the start, every event as it passes.

    The recorder sits on the trainer's own (reader) thread, so the model's save at the
    end never holds up the UI. A run that ends without ``Finished`` or ``Failed`` (the
    app quit, a newer run replaced it) is closed as interrupted.
    """

    def __init__(self, trainer, config: TrainConfig, home: Path | None = None) -> None:
        self.trainer = trainer
        self.config = config
        self.home = home
        self.run_id: int | None = None
        self.run_dir: Path | None = None
        self.plan: ResumePlan | None = None
        """Set before :meth:`run` to resume a recorded run, or train a finished one further."""

    @property
    def model_path(self) -> Path | None:
        return getattr(self.trainer, "model_path", None)

    def run(self, sink, control: RunControl) -> None:
        plan = self.plan
        recorder = Recorder.open(
            sink,
            self.config,
            self.home,
            resume_id=plan.resume_id if plan else None,
            parent_id=plan.parent_id if plan else None,
        )
        self.run_id = recorder.start()
        if self.run_id is not None and recorder.store is not None:
            self.run_dir = recorder.store.run_dir(self.run_id)
        if hasattr(self.trainer, "checkpoint_dir"):  # a trainer that checkpoints does so in the run's folder
            self.trainer.checkpoint_dir = self.run_dir
            if plan is not None:
                self.trainer.resume_from, self.trainer.further = plan.checkpoint_dir, plan.further
        try:
            self.trainer.run(recorder, control)
        finally:
            recorder.close()


@dataclass(frozen=True)
class OpenedRun:
    """A recorded run ready for the results browser."""

    predictions: Predictions
    model: RemoteModel | None
    title: str
    data: MnistData
    warning: str = ""
    run_dir: Path | None = None


def open_recorded(store: RunStore, run_id: int, test_set: MnistData | None = None) -> OpenedRun:
    """Load a recorded run's test probabilities and start a process serving its model.

    Args:
        store: The run store.
        run_id: The run.
        test_set: MNIST already loaded (the images are not kept with a run); found as
            the run found it otherwise.

    Raises:
        StoreError: the run is unknown or its probabilities cannot be read.
        DataError: MNIST cannot be found.
    """
    run = store.get_run(run_id)
    probabilities = store.load_probabilities(run_id)
    data_path = run.config.get("data")
    data = test_set or load_mnist(data_path)
    warning = ""
    if run.data_fingerprint and data_fingerprint(data.x_test, data.y_test) != run.data_fingerprint:
        warning = f"Run {run_id} was scored on other test data than the MNIST found now; its labels may not match."
    predictions = Predictions(data.x_test, data.y_test, probabilities)
    run_dir = store.run_dir(run_id)
    remove_temporaries(run_dir)  # what a process killed mid-write left there (a live writer's files stay)
    model = None
    if run.has_model and not run.model_missing:
        # the model process finds the training images (nearest images) where this run found its data
        model = RemoteModel.open(run.model_path, run.name, data=None if data_path is None else Path(data_path))
    title = f"run {run.id} · {run.name} · test accuracy {predictions.accuracy:.2%}"
    if model is None:
        title += " · model missing"
    return OpenedRun(predictions, model, title, data, warning, run_dir)
