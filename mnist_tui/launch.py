"""Run the Textual app for real: TensorFlow's stray output kept off the screen, a prompt exit."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from .commands.train import Options
from .terminal import stderr_to_log
from .worker import client, spare

if TYPE_CHECKING:
    from .predictions import Predictions
    from .recorded import OpenedRun
    from .runs.resume import ResumePlan
    from .scored import ToScore
    from .worker.client import RemoteModel


def run_app(options: Options, plan: ResumePlan | None = None) -> int:
    from .app import QUIT_GRACE, MnistApp, keras_trainer, saved_model_scorer
    from .recorded import RecordingTrainer
    from .scored import KeepingScorer

    def recorded(config):
        return RecordingTrainer(keras_trainer(config), config)

    factory = keras_trainer if not options.record else recorded
    if options.model:
        scorer = saved_model_scorer(options.model)  # scoring a file is not a training run: not recorded

        def factory(config):
            return KeepingScorer(scorer(config), options.model)  # its predictions kept for the next open

    # Trainer and model processes inherit descriptor 2, the log file, so nothing they
    # print reaches the screen: they start inside this block only.
    with stderr_to_log(options.log_file) as (terminal, _log):
        # `--model PATH`: its test images are read now, its model process starts once the
        # first image is on screen (the spare it takes with it), its predictions fill in.
        model_file = open_model_file(options.model, options.config.data) if options.model else None
        if model_file is None:
            # The spare model process starts importing TensorFlow now, while the UI loads: the
            # first run or the recorded run below takes it (worker/spare.py).
            spare.enable()
        opened = None
        if options.run is not None:
            opened = open_run(options.run, terminal)
            if opened is None:
                return 1
        shown: tuple[Predictions | None, RemoteModel | None, str] | None = None
        if opened is not None:
            shown = (opened.predictions, opened.model, opened.title)
        if model_file is not None:
            shown = (model_file.predictions, None, model_file.title)
        app = MnistApp(
            options.config,
            trainer_factory=factory,
            freeze_heap=True,
            handle_signals=True,
            predictions=shown[0] if shown else None,
            model=shown[1] if shown else None,
            title=shown[2] if shown else "Results",
            plan=plan,
            say_interrupted=options.record and opened is None and options.model is None,
            to_score=model_file.to_score if model_file else None,
            open_model=model_file.open_model if model_file else None,
        )
        try:
            app.run()
        finally:
            # Usually under way since q; this waits for every kill and sweep to be done (os._exit
            # follows), and no process may start after it.
            client.end_all(deadline=time.monotonic() + QUIT_GRACE, last=True)
    status = app.return_code or 0
    if opened is not None and opened.warning:
        print(f"mnist-tui: warning: {opened.warning}", file=sys.stderr)
    # Every process and file is settled; tearing the interpreter down would only add
    # about 0.4 s before the shell prompt comes back.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def open_run(run_id: int, errors: TextIO) -> OpenedRun | None:
    """``--run ID``: the recorded run, ready to browse, or ``None`` after one line on ``errors``."""
    from .data import DataError
    from .recorded import open_recorded
    from .runs import StoreError, open_store

    try:
        return open_recorded(open_store(), run_id)
    except (StoreError, DataError, ValueError) as exc:
        print(f"mnist-tui: error: cannot open run {run_id}: {exc}", file=errors)
        return None


@dataclass(frozen=True)
class ModelFile:
    """``--model PATH`` opened: its test predictions or the images to predict, and how to start its model.

    Attributes:
        predictions: Kept from an earlier open of the same file (by its checksum), or ``None``.
        title: The results browser's title.
        to_score: Without kept predictions: the test images the model is asked to predict.
        open_model: Starts the spare and hands it the file (the app calls it once the first
            image is painted); returns the model it serves.
    """

    predictions: Predictions | None
    title: str
    to_score: ToScore | None
    open_model: Callable[[], RemoteModel]


def open_model_file(model_path: Path, data_path: Path | None) -> ModelFile | None:
    """``--model PATH``: the results browser opens on it at once, with its kept predictions or without any yet.

    ``None``: the test images are not on this machine or cannot be read; the file is then
    scored on the training screen, which downloads them or says what is wrong.
    """
    from .scored import ToScore, file_checksum, local_test_set, lookup

    data = local_test_set(data_path)
    if data is None:
        return None
    path = Path(model_path)
    try:
        checksum: str | None = file_checksum(path)
    except OSError:
        checksum = None  # the model process says what is wrong with the file
    kept = lookup(checksum, data) if checksum is not None else None

    def open_model() -> RemoteModel:
        spare.enable()  # the spare starts importing TensorFlow, and is taken by the file at once
        return client.RemoteModel.open(path, path.stem, data=data_path)

    if kept is not None:
        return ModelFile(kept, f"{path.name} · test accuracy {kept.accuracy:.2%}", None, open_model)
    return ModelFile(None, path.name, ToScore(path, data.x_test, data.y_test, checksum), open_model)
