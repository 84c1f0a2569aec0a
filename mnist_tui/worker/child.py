"""The trainer process's main loop: run the job, report its events, then serve the model.

Started by :mod:`.client` with multiprocessing's ``spawn`` context. Two threads: the
main one runs the trainer and then answers requests; a reader thread takes every
message from the parent, so that a stop or a cancel arrives while ``fit()`` runs.
"""

from __future__ import annotations

import dataclasses
import os
import queue
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from ..events import Failed, Finished, TrainerEvent, one_line
from ..training import KerasTrainer, RunControl, SavedModelScorer
from .protocol import Cancel, Job, Request, Response, ScoreJob, ServeJob, Serving, Stop, TrainJob

EXIT = "exit"  # the request op that ends the server


def keras_trainer(job: TrainJob | ScoreJob) -> KerasTrainer | SavedModelScorer:
    """The trainer for a job: TensorFlow loads when it runs, in this process only."""
    if isinstance(job, ScoreJob):
        return SavedModelScorer(job.model_path, job.config)
    return KerasTrainer(job.config)


class Child:
    """One trainer process: its pipe to the parent, the run's control flags and the served model."""

    def __init__(self, conn: Any, make_trainer: Callable[[Job], Any] | None = None) -> None:
        self.conn = conn
        self.make_trainer = make_trainer or keras_trainer
        self.control = RunControl()
        self.requests: queue.Queue[Request | None] = queue.Queue()
        self.model: Any = None  # training.TrainedModel once there is one
        self._send_lock = threading.Lock()
        self.handlers: dict[str, Callable[..., Any]] = {
            "predict": lambda images: self.model.predict(np.asarray(images, np.uint8)),
            "save": lambda path: self.model.save(Path(path)),
            "ping": lambda: os.getpid(),
        }
        # The understanding views' requests: each module's HANDLERS maps an op to
        # ``handler(model, *args)``, ``model`` being the served ``training.TrainedModel``.
        from . import explain, learned

        for module in (explain, learned):
            for op, handler in module.HANDLERS.items():
                self.handlers[op] = partial(lambda handler, *args: handler(self.model, *args), handler)

    def send(self, message: object) -> None:
        # Keras may call the callback from a helper thread: one writer at a time.
        with self._send_lock:
            try:
                self.conn.send(message)
            except (OSError, ValueError):  # the parent is gone; the reader thread cancels
                self.control.cancel.set()

    def read(self) -> None:
        """Reader thread: route the parent's messages until the pipe closes."""
        while True:
            try:
                message = self.conn.recv()
            except (EOFError, OSError):
                break
            if isinstance(message, Stop):
                self.control.stop.set()
            elif isinstance(message, Cancel):
                break
            elif isinstance(message, Request):
                if message.op == EXIT:
                    break
                self.requests.put(message)
        self.control.cancel.set()
        self.requests.put(None)

    def sink(self, event: TrainerEvent) -> None:
        if isinstance(event, Finished):
            # the model stays here; the parent talks to it through requests
            self.model = event.model
            event = dataclasses.replace(event, model=None)
        self.send(event)

    def run(self, job: Job) -> None:
        threading.Thread(target=self.read, name="mnist-tui-pipe", daemon=True).start()
        if isinstance(job, ServeJob):
            if not self.load(job):
                return
        else:
            self.make_trainer(job).run(self.sink, self.control)
        if self.model is not None and not self.control.cancel.is_set():
            self.serve()

    def load(self, job: ServeJob) -> bool:
        try:
            from .. import models
            from ..training import TrainedModel, load_history

            self.model = TrainedModel(models.load_model(job.model_path), job.name, load_history(job.model_path))
        except Exception as exc:
            if type(exc).__name__ == "ModelError":  # models.ModelError, when models imported at all
                self.send(Failed(str(exc), "Check the model file."))
            else:
                self.send(Failed(one_line(exc), "See the log file for details.", traceback.format_exc()))
            return False
        self.send(Serving(job.name))
        return True

    def serve(self) -> None:
        """Answer requests, one at a time, until the parent says exit or goes away."""
        while (request := self.requests.get()) is not None:
            handler = self.handlers.get(request.op)
            if handler is None:
                self.send(Response(request.id, error=f"unknown request {request.op!r}"))
                continue
            try:
                value = handler(*request.args)
            except Exception as exc:
                self.send(Response(request.id, error=getattr(exc, "strerror", None) or one_line(exc)))
            else:
                self.send(Response(request.id, value))


def _terminated(signum: int, frame: object) -> None:
    # Unwind (so that a save in progress removes its temporary file), then exit.
    raise SystemExit(128 + signum)


def main(conn: Any, job: Job, make_trainer: Callable[[Job], Any] | None = None) -> None:
    """Entry point of the trainer process (``make_trainer``: scripted trainers in tests)."""
    # The parent decides when this process ends: ctrl+c reaches the whole process
    # group, and the UI turns it into an orderly stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _terminated)
    signal.signal(signal.SIGHUP, _terminated)
    # Descriptor 2 is the UI's log file (inherited); descriptor 1 is the terminal,
    # where nothing of this process may ever appear.
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        Child(conn, make_trainer).run(job)
    finally:
        conn.close()
