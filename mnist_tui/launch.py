"""Run the Textual app for real: TensorFlow's stray output kept off the screen, a prompt exit."""

from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING, TextIO

from .commands.train import Options
from .terminal import stderr_to_log
from .worker import client

if TYPE_CHECKING:
    from .recorded import OpenedRun
    from .runs.resume import ResumePlan


def run_app(options: Options, plan: ResumePlan | None = None) -> int:
    from .app import QUIT_GRACE, MnistApp, keras_trainer, saved_model_scorer
    from .recorded import RecordingTrainer

    def recorded(config):
        return RecordingTrainer(keras_trainer(config), config)

    factory = keras_trainer if not options.record else recorded
    if options.model:
        factory = saved_model_scorer(options.model)  # scoring a file is not a training run: not recorded
    # Trainer and model processes inherit descriptor 2, the log file, so nothing they
    # print reaches the screen: they start inside this block only.
    with stderr_to_log(options.log_file) as (terminal, _log):
        opened = None
        if options.run is not None:
            opened = open_run(options.run, terminal)
            if opened is None:
                return 1
        app = MnistApp(
            options.config,
            trainer_factory=factory,
            freeze_heap=True,
            handle_signals=True,
            predictions=opened.predictions if opened else None,
            model=opened.model if opened else None,
            title=opened.title if opened else "Results",
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
