"""Run the Textual app for real: TensorFlow's stray output kept off the screen, a prompt exit."""

from __future__ import annotations

import gc
import time

from .cli import Options
from .terminal import stderr_to_log
from .worker import client

# Seconds the trainer and model processes get to exit after the UI has closed before
# they are killed: the whole quit stays under half a second.
QUIT_GRACE = 0.25


def run_app(options: Options) -> int:
    from .app import MnistApp, keras_trainer, saved_model_scorer

    factory = saved_model_scorer(options.model) if options.model else keras_trainer
    app = MnistApp(options.config, trainer_factory=factory, freeze_heap=True, handle_signals=True)
    # Trainer processes inherit descriptor 2, the log file, so nothing they print reaches the screen.
    with stderr_to_log(options.log_file):
        try:
            app.run()
        finally:
            gc.unfreeze()
            client.end_all(deadline=time.monotonic() + QUIT_GRACE)
    return app.return_code or 0
