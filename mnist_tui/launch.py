"""Run the Textual app for real: TensorFlow's stray output kept off the screen, a prompt exit."""

from __future__ import annotations

import os
import sys
import time

from .cli import Options
from .terminal import stderr_to_log
from .worker import client


def run_app(options: Options) -> int:
    from .app import QUIT_GRACE, MnistApp, keras_trainer, saved_model_scorer

    factory = saved_model_scorer(options.model) if options.model else keras_trainer
    app = MnistApp(options.config, trainer_factory=factory, freeze_heap=True, handle_signals=True)
    # Trainer processes inherit descriptor 2, the log file, so nothing they print reaches the screen.
    with stderr_to_log(options.log_file):
        try:
            app.run()
        finally:
            client.end_all(deadline=time.monotonic() + QUIT_GRACE)  # usually done already, on quit
    status = app.return_code or 0
    # Every process and file is settled; tearing the interpreter down would only add
    # about 0.4 s before the shell prompt comes back.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
