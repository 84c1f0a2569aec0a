"""Run the Textual app for real: TensorFlow's stray output kept off the screen, a prompt exit."""

from __future__ import annotations

import gc
import os
import sys
import threading
import time

from .cli import Options
from .screens.training import TRAINER_THREAD
from .terminal import stderr_to_log

QUIT_GRACE = 0.5  # seconds a trainer may take to stop after the UI has closed


def run_app(options: Options) -> int:
    from .app import MnistApp, keras_trainer, saved_model_scorer

    factory = saved_model_scorer(options.model) if options.model else keras_trainer
    app = MnistApp(options.config, trainer_factory=factory, freeze_heap=True)
    with stderr_to_log(options.log_file) as (terminal, log_path):
        try:
            app.run()
        finally:
            gc.unfreeze()
    status = app.return_code or 0
    # Keras stops within a batch once cancelled, but an import of TensorFlow or a
    # saved-model write cannot be interrupted; don't keep the person waiting for it.
    deadline = time.monotonic() + QUIT_GRACE
    trainers = [t for t in threading.enumerate() if t.name == TRAINER_THREAD]
    for thread in trainers:
        thread.join(max(deadline - time.monotonic(), 0))
    if any(t.is_alive() for t in trainers):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    return status
