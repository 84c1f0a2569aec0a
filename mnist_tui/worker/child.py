"""The trainer process's main loop: run the job, report its events, then serve the model.

Started by :mod:`.processes` with multiprocessing's ``spawn`` context. Three threads:
the main one runs the trainer and then answers quick requests (predict, save, why,
weights); a job thread answers long ones (the training set's embeddings for the
nearest images, the map's embeddings and layout), pushing progress as it goes; a
reader thread takes every message from the parent, so that a stop or a cancel
arrives while ``fit()`` runs and a prediction is answered while a long job works.
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
from pathlib import Path
from typing import Any

from ..events import Failed, Finished, ModelHandle, RunControl, Stage, TrainerEvent, one_line
from ..training import KerasTrainer, SavedModelScorer
from .protocol import (
    Cancel,
    Job,
    Progress,
    Request,
    Response,
    ScoreJob,
    ServeJob,
    Serving,
    SpareJob,
    Stop,
    TrainJob,
)
from .served import ServedModel

MakeServed = Callable[[ModelHandle, Path | None], ServedModel]
"""``make_served(trained, data_path)``: the served model for a trained one (scripted ones in tests)."""


def keras_trainer(job: TrainJob | ScoreJob) -> KerasTrainer | SavedModelScorer:
    """The trainer for a job: TensorFlow loads when it runs, in this process only."""
    if isinstance(job, ScoreJob):
        return SavedModelScorer(job.model_path, job.config)
    return KerasTrainer(job.config, checkpoint_dir=job.checkpoint_dir, resume=job.resume_from, further=job.further)


def data_path(job: Job) -> Path | None:
    """Where the job's MNIST is: the training images the served model compares with."""
    if isinstance(job, SpareJob):
        return None
    path = job.data if isinstance(job, ServeJob) else job.config.data
    return None if path is None else Path(path)


class Child:
    """One trainer process: its pipe to the parent, the run's control flags and the served model."""

    def __init__(
        self,
        conn: Any,
        make_trainer: Callable[[Job], Any] | None = None,
        make_served: MakeServed | None = None,
    ) -> None:
        self.conn = conn
        self.make_trainer = make_trainer or keras_trainer
        self.make_served = make_served or ServedModel
        self.control = RunControl()
        self.quick: queue.Queue[Request | None] = queue.Queue()
        self.long: queue.Queue[Request | None] = queue.Queue()
        self.served: ServedModel | None = None
        self.data: Path | None = None
        self._send_lock = threading.Lock()
        self._closed = False
        self.warm = threading.Event()
        """Set once a spare has imported its backend (or failed to)."""

    def send(self, message: object) -> None:
        # Keras may call the callback from a helper thread, and two threads answer requests: one writer at a time.
        with self._send_lock:
            if self._closed:
                return
            try:
                self.conn.send(message)
            except (EOFError, OSError, ValueError):  # the parent is gone (BrokenPipeError is an OSError): the run ends
                self.control.cancel.set()

    def close(self) -> None:
        """Close the pipe, not under a writer's feet; the reader thread then ends quietly."""
        # A writer blocked on a full pipe (a parent that stopped reading) must not keep
        # this process from exiting: after a second, close anyway.
        locked = self._send_lock.acquire(timeout=1.0)
        try:
            self._closed = True
            self.conn.close()
        except OSError:
            pass
        finally:
            if locked:
                self._send_lock.release()

    def read(self) -> None:
        """Reader thread: route the parent's messages until the pipe closes or the parent cancels."""
        while True:
            try:
                message = self.conn.recv()
            except Exception:
                # The parent going away is normal, and so is this process closing the pipe
                # while a message is half read (``recv`` then fails with EOFError, OSError,
                # ValueError or even TypeError, a closed handle being None): either way the
                # pipe is over, and nothing in the log may look like a crash.
                break
            if isinstance(message, Stop):
                self.control.stop.set()
            elif isinstance(message, Cancel):
                break
            elif isinstance(message, Request):
                (self.long if message.LONG else self.quick).put(message)
        self.control.cancel.set()
        self.quick.put(None)
        self.long.put(None)

    def sink(self, event: TrainerEvent) -> None:
        if isinstance(event, Finished):
            # the model stays here; the parent talks to it through requests
            if event.model is not None:
                self.served = self.make_served(event.model, self.data)
            event = dataclasses.replace(event, model=None)
        self.send(event)

    def warm_up(self, spare: SpareJob) -> TrainJob | ScoreJob | ServeJob | None:
        """A spare process: import Keras on its backend, then hand over the job the parent sent.

        The job is read while the import runs: a run or a model file that takes a spare still
        importing is told so at once (the stage its own trainer would show, "Loading
        TensorFlow"), rather than showing no stage until the import is over. ``None``: the
        parent cancelled or went away first (the spare is not needed).
        """
        from .. import backend

        warm = self.warm
        arrived: queue.Queue[TrainJob | ScoreJob | ServeJob | None] = queue.Queue(maxsize=1)

        def receive() -> None:
            job = self._job_for_spare()
            if isinstance(job, (TrainJob, ScoreJob)) and not warm.is_set():
                # sent before the job is handed over, so before any of the job's own events
                self.send(Stage(f"Loading {backend.title(spare.backend)}"))
            arrived.put(job)

        threading.Thread(target=receive, name="mnist-tui-spare-pipe", daemon=True).start()
        try:
            backend.prepare(spare.backend, "mlp")
            from .. import models  # noqa: F401  imports Keras and its backend: the seconds a spare saves
        except Exception:
            # Not warm, but the job may still come: it then meets the same failure in its
            # own import and says so the way it would in a process of its own.
            pass
        warm.set()
        return arrived.get()

    def _job_for_spare(self) -> TrainJob | ScoreJob | ServeJob | None:
        """The next job from the parent (``None``: a cancel, or the parent went away)."""
        while True:
            try:
                message = self.conn.recv()
            except Exception:  # the parent went away: normal for a spare nobody took
                return None
            if isinstance(message, (TrainJob, ScoreJob, ServeJob)):
                return message
            if isinstance(message, Cancel):
                return None

    def run(self, job: Job) -> None:
        if isinstance(job, SpareJob):
            taken = self.warm_up(job)
            if taken is None:
                return
            job = taken
        self.data = data_path(job)
        threading.Thread(target=self.read, name="mnist-tui-pipe", daemon=True).start()
        if isinstance(job, ServeJob):
            if not self.load(job):
                return
        else:
            self.make_trainer(job).run(self.sink, self.control)
        if self.served is not None and not self.control.cancel.is_set():
            threading.Thread(target=self.serve, args=(self.long,), name="mnist-tui-jobs", daemon=True).start()
            self.serve(self.quick)

    def load(self, job: ServeJob) -> bool:
        try:
            from .. import models
            from ..training import TrainedModel, load_history

            trained = TrainedModel(models.load_model(job.model_path), job.name, load_history(job.model_path))
            self.served = self.make_served(trained, self.data)
        except Exception as exc:
            if type(exc).__name__ == "ModelError":  # models.ModelError, when models imported at all
                self.send(Failed(str(exc), "Check the model file."))
            else:
                self.send(Failed(one_line(exc), "See the log file for details.", traceback.format_exc()))
            return False
        self.send(Serving(job.name))
        return True

    def serve(self, requests: queue.Queue[Request | None]) -> None:
        """Answer ``requests`` one at a time until the parent goes away (main thread: quick ones; job thread: long)."""
        while (request := requests.get()) is not None:
            self.answer(request)

    def answer(self, request: Request) -> None:
        """Send exactly one response to ``request`` (after its progress, for a long one)."""
        assert self.served is not None

        def progress(fraction: float, stage: str) -> None:
            self.send(Progress(request.id, float(fraction), stage))

        try:
            value = self.served.answer(request, progress)
        except Exception as exc:
            self.send(Response(request.id, error=getattr(exc, "strerror", None) or one_line(exc)))
        else:
            self.send(Response(request.id, value))


def _terminated(signum: int, frame: object) -> None:
    # Unwind (so that a save in progress removes its temporary file), then exit.
    raise SystemExit(128 + signum)


def main(
    conn: Any, job: Job, make_trainer: Callable[[Job], Any] | None = None, make_served: MakeServed | None = None
) -> None:
    """Entry point of the trainer process (``make_trainer``, ``make_served``: scripted stand-ins in tests)."""
    # The parent decides when this process ends: ctrl+c reaches the whole process
    # group, and the UI turns it into an orderly stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _terminated)
    signal.signal(signal.SIGHUP, _terminated)
    # Descriptor 2 is the UI's log file (inherited); descriptor 1 is the terminal,
    # where nothing of this process may ever appear.
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    child = Child(conn, make_trainer, make_served)
    try:
        child.run(job)
    finally:
        child.close()
        # Nothing is left to unwind: a SIGTERM from here on (the UI ending this process while
        # the interpreter runs its exit handlers) ends it at once, instead of raising
        # SystemExit into an exit handler, which would print a traceback into the log.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
