"""Scripted trainers and served models that run inside a real trainer process (no TensorFlow): the protocol's tests."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnist_tui.events import BatchEnd, Failed, Finished, NearestImages, Stage, Stopped
from mnist_tui.files import atomic_path
from mnist_tui.worker.child import main as child_main
from mnist_tui.worker.protocol import TrainJob
from mnist_tui.worker.served import ServedModel
from tests.support import fakes


@dataclass(frozen=True)
class ScriptJob(TrainJob):
    """A training job whose child runs the scripted trainer named ``script``."""

    script: str = "finish"


class SlowSavingModel(fakes.TemplateModel):
    """Writes its temporary file, then takes its time before renaming it into place.

    ``MNIST_TUI_TEST_SAVE_SECONDS`` (default 30) is how long; with
    ``MNIST_TUI_TEST_SAVE_DEAF`` set, SIGTERM is ignored meanwhile (a save deep in C code,
    or slow to unwind, that only a kill ends).
    """

    def save(self, path) -> None:
        if os.environ.get("MNIST_TUI_TEST_SAVE_DEAF") and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        with atomic_path(Path(path)) as tmp:
            tmp.write_bytes(b"half a model")
            time.sleep(float(os.environ.get("MNIST_TUI_TEST_SAVE_SECONDS", "30")))


class Script:
    def __init__(self, job: ScriptJob) -> None:
        self.job = job

    def run(self, sink, control) -> None:
        script = self.job.script
        sink(Stage("Loading data"))
        sink(fakes.started(self.job.config))
        if script == "crash":
            sys.stderr.flush()
            os._exit(3)
        if script == "save-at-end":  # as --save does: the trained model is written before Finished
            sink(Stage("Saving", str(self.job.config.save)))
            SlowSavingModel().save(self.job.config.save)
        if script == "fail":
            sink(Failed("The data is bad.", "Fix it."))
            return
        if script == "hold":
            step = 0
            while not control.halted:
                step += 1
                sink(BatchEnd(1, step, fakes.STEPS, 0.5, 0.9, step / 100))
                time.sleep(0.01)
            if control.cancel.is_set():
                return
            sink(Stopped(1, step))
        else:
            for n in range(1, 4):
                sink(fakes.epoch(n, 3))
        predictions = fakes.fake_predictions(50)
        model = SlowSavingModel() if script == "slow-save" else fakes.TemplateModel()
        sink(
            Finished(
                {"loss": [0.3, 0.2, 0.1]},
                0.1,
                predictions.accuracy,
                predictions,
                stopped_early=script == "hold",
                model=model,
            )
        )


JOB_STEPS = 20


class ScriptServed(ServedModel):
    """The real served model, whose nearest-images job (no Keras here) takes its time and reports progress.

    ``MNIST_TUI_TEST_JOB_SECONDS`` (default 3) is how long the job takes.
    """

    def neighbours(self, image, k, progress=lambda fraction, stage: None) -> NearestImages:
        seconds = float(os.environ.get("MNIST_TUI_TEST_JOB_SECONDS", "3"))
        for step in range(1, JOB_STEPS + 1):
            time.sleep(seconds / JOB_STEPS)
            progress(step / JOB_STEPS, "Embedding the training images")
        k = int(k)
        return NearestImages(np.arange(k), np.ones(k, np.float32), np.zeros(k, np.int64), np.repeat(image[None], k, 0))


def main(conn, job) -> None:
    """The trainer process's entry point, with scripted trainers and served models."""
    child_main(conn, job, make_trainer=Script, make_served=ScriptServed)
