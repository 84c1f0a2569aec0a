"""Run the Textual app for real: TensorFlow's stray output kept off the screen, a prompt exit."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from .commands.train import Options
from .terminal import stderr_to_log
from .worker import client, spare

if TYPE_CHECKING:
    from .predictions import Predictions
    from .recorded import OpenedRun
    from .runs.resume import ResumePlan
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
        # The spare model process starts importing TensorFlow now, while the UI loads: the
        # first run, the model file or the recorded run below takes it (worker/spare.py).
        spare.enable()
        opened = None
        if options.run is not None:
            opened = open_run(options.run, terminal)
            if opened is None:
                return 1
        shown = (opened.predictions, opened.model, opened.title) if opened else None
        if options.model:
            shown = open_scored_file(options.model, options.config.data)
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


def open_scored_file(model_path: Path, data_path: Path | None) -> tuple[Predictions, RemoteModel, str] | None:
    """``--model PATH`` opened before: its kept test predictions, a model process loading it and the title.

    ``None``: nothing kept for the file as it is now; it is scored as usual.
    """
    from .scored import open_scored

    predictions = open_scored(model_path, data_path)
    if predictions is None:
        return None
    model = client.RemoteModel.open(model_path, Path(model_path).stem, data=data_path)
    return predictions, model, f"{Path(model_path).name} · test accuracy {predictions.accuracy:.2%}"
