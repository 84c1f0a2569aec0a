"""The UI side of a trainer process: start it, relay its events, ask its model, end it.

Imports neither TensorFlow nor Keras (a test checks ``sys.modules``): everything the
UI needs from a model travels over a pipe as plain data.
"""

from __future__ import annotations

import itertools
import multiprocessing
import multiprocessing.connection
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..events import Failed, Finished, Sink
from ..training import RunControl, temporary_paths
from .protocol import (
    Cancel,
    Job,
    ModelLoading,
    ModelServerError,
    Request,
    Response,
    ScoreJob,
    ServeJob,
    Serving,
    Stop,
    TrainJob,
)

PROCESS_NAME = "mnist-tui-trainer"
POLL = 0.05  # seconds between looks at the run's stop/cancel flags while no event arrives
PREDICT_TIMEOUT = 10.0  # a prediction takes milliseconds; this only catches a hung process
SAVE_TIMEOUT = 300.0
LOAD_TIMEOUT = 120.0  # importing TensorFlow and loading a model, for a ServeJob
EXIT_GRACE = 0.25  # seconds a process may take to exit when asked before it is killed


def describe_exit(exitcode: int | None) -> str:
    """How a process ended, in words: ``killed by SIGKILL`` or ``exited with status 3``."""
    if exitcode is None:
        return "stopped answering"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"was killed by {name}"
    return f"exited with status {exitcode}"


def died(exitcode: int | None, what: str = "training process") -> Failed:
    """The ``Failed`` event for a trainer process that ended without saying why."""
    hint = "Earlier results stay open (r); t trains again."
    if exitcode == -signal.SIGKILL:
        hint = "It was most likely out of memory: try fewer hidden units or a smaller batch size. " + hint
    return Failed(f"The {what} {describe_exit(exitcode)}.", hint)


@dataclass(eq=False)
class _Live:
    """A child process the UI started, and the files it may be half-way through writing."""

    process: Any
    conn: Any
    writing: set[Path] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ask_to_exit(self) -> None:
        try:
            self.conn.send(Cancel())
        except (OSError, ValueError):
            pass

    def end(self, grace: float = EXIT_GRACE) -> None:
        """Ask the process to exit, terminate it after ``grace`` seconds, kill it if it still runs.

        One thread at a time reaps a process (``Process.join`` from two threads at once
        may lose its exit status).
        """
        with self.lock:
            process = self.process
            if process.exitcode is None:
                self.ask_to_exit()
                process.join(grace)
            if process.exitcode is None:
                process.terminate()  # SIGTERM: the child unwinds, removing its temporary files
                process.join(0.1)
            if process.exitcode is None:
                process.kill()
                process.join(1.0)
            try:
                self.conn.close()
            except OSError:
                pass
            self.sweep()

    def reap(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for the process to exit (one thread at a time, as in :meth:`end`)."""
        with self.lock:
            self.process.join(timeout)

    def sweep(self) -> None:
        """Remove what a process that is gone left half-written (a kill gives it no time to)."""
        pid = self.process.pid
        for target in list(self.writing):  # a save may finish meanwhile
            for path in temporary_paths(target, pid):
                path.unlink(missing_ok=True)


_live: list[_Live] = []
_start_lock = threading.Lock()
_live_lock = threading.Lock()


def _register(live: _Live) -> None:
    with _live_lock:
        _live[:] = [other for other in _live if other.process.exitcode is None]
        _live.append(live)


def live_processes() -> list[Any]:
    """The trainer and model processes of this UI that are still running."""
    with _live_lock:
        return [live.process for live in _live if live.process.exitcode is None]


def end_all(deadline: float | None = None) -> None:
    """End every process this UI started, all at once, by ``deadline`` (``time.monotonic()``) if given.

    Quitting calls this: every process gets a cancel and a SIGTERM together, and
    SIGKILL if it is still there at the deadline (an import of TensorFlow does not
    stop for a signal handler). A process killed in the middle of a save leaves a
    temporary file, which is removed here: the UI knows what each process was writing.
    """
    with _live_lock:
        lives = list(_live)
        _live.clear()
    running = [live for live in lives if live.process.exitcode is None]
    for live in running:
        live.ask_to_exit()
        live.process.terminate()
    deadline = time.monotonic() + EXIT_GRACE if deadline is None else deadline
    multiprocessing.connection.wait([live.process.sentinel for live in running], max(deadline - time.monotonic(), 0.0))
    for live in lives:
        live.end(grace=0.0)


def _start(job: Job, target: Callable[[Any, Job], None] | None, writing: Iterable[Path]) -> _Live:
    if target is None:
        from .child import main as target
    context = multiprocessing.get_context("spawn")  # never fork: the UI has threads
    parent, child = context.Pipe(duplex=True)
    process = context.Process(target=target, args=(child, job), name=PROCESS_NAME, daemon=True)
    with _start_lock:
        # multiprocessing hands its helper process sys.stderr's descriptor, and inside
        # Textual sys.stderr is a capture object without one: give it the real stream.
        captured, sys.stderr = sys.stderr, sys.__stderr__
        try:
            process.start()
        finally:
            sys.stderr = captured
    child.close()
    live = _Live(process, parent, set(writing))
    _register(live)
    return live


def _receive(live: _Live, timeout: float) -> Any:
    """The next message, or ``None`` when none came within ``timeout``; raises EOFError when the child is gone."""
    if live.conn.poll(timeout):
        return live.conn.recv()  # EOFError / OSError once the child has exited
    if live.process.exitcode is not None and not live.conn.poll(0):
        raise EOFError
    return None


class ProcessTrainer:
    """A trainer that runs ``job`` in a process of its own; the training screen drives it like any trainer.

    :meth:`run` blocks on the calling (reader) thread: it relays the child's events to
    the sink and the run's stop/cancel flags to the child. After ``Finished``, the child
    serves its model: the event's ``model`` is a :class:`RemoteModel` talking to it.

    Args:
        job: What the child does.
        target: The child's entry point (tests run a scripted one in a real process).
    """

    def __init__(self, job: TrainJob | ScoreJob, *, target: Callable[[Any, Job], None] | None = None) -> None:
        self.job = job
        self.target = target
        self.model_path = job.model_path if isinstance(job, ScoreJob) else None
        self.process: Any = None

    def run(self, sink: Sink, control: RunControl) -> None:
        writing = [self.job.config.save] if self.job.config.save is not None else []
        live = _start(self.job, self.target, writing)
        self.process = live.process
        stop_sent = False
        while True:
            if control.cancel.is_set():
                live.end()
                return
            if control.stop.is_set() and not stop_sent:
                stop_sent = True
                try:
                    live.conn.send(Stop())
                except (OSError, ValueError):
                    pass
            try:
                message = _receive(live, POLL)
            except (EOFError, OSError):
                live.reap(1.0)
                live.sweep()
                if not control.cancel.is_set():
                    sink(died(live.process.exitcode))
                return
            if message is None:
                continue
            if isinstance(message, Finished):
                live.writing.clear()
                name = self.model_path.stem if self.model_path else self.job.config.arch
                sink(replace(message, model=RemoteModel(live, name, message.history)))
                return
            sink(message)
            if isinstance(message, Failed):
                live.end()
                return


class RemoteModel:
    """A model served by its own process: the app's ``ModelHandle``, over a pipe.

    Each request gets an id and exactly one response; a request that times out
    leaves its late answer to be skipped by id. Thread-safe: one request at a time.
    """

    def __init__(
        self, live: _Live, name: str, history: dict[str, list[float]] | None = None, *, loading: bool = False
    ) -> None:
        self._live = live
        self._loading = loading  # a ServeJob's process says Serving once its model is loaded
        self.name = name
        self.history = history
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._closed = False

    @classmethod
    def open(cls, model_path: Path, name: str, *, target: Callable[[Any, Job], None] | None = None) -> RemoteModel:
        """Start a process serving the saved model at ``model_path``; returns at once.

        The first request waits until the model is loaded (TensorFlow's import takes a few seconds).
        """
        return cls(_start(ServeJob(Path(model_path), name), target, ()), name, loading=True)

    @property
    def pid(self) -> int:
        return self._live.process.pid

    @property
    def alive(self) -> bool:
        return not self._closed and self._live.process.exitcode is None

    def _dead(self) -> ModelServerError:
        self._live.reap(0.5)
        return ModelServerError(f"The model process {describe_exit(self._live.process.exitcode)}.")

    @property
    def ready(self) -> bool:
        """Whether the model is loaded and answers at once (never waits)."""
        if self._loading and self._lock.acquire(blocking=False):
            try:
                self._wait_loaded(timeout=0.0)
            except ModelServerError:
                return True  # gone or failed: a request says so at once
            finally:
                self._lock.release()
        return not self._loading

    def _wait_loaded(self, timeout: float = LOAD_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while self._loading:
            try:
                message = _receive(self._live, max(deadline - time.monotonic(), 0.0))
            except (EOFError, OSError):
                raise self._dead() from None
            if message is None:
                if timeout == 0.0:
                    return
                raise ModelServerError(f"The model process did not load the model within {timeout:g} s.")
            if isinstance(message, Failed):
                raise ModelServerError(message.message)
            self._loading = not isinstance(message, Serving)

    def request(self, op: str, *args: Any, timeout: float = PREDICT_TIMEOUT) -> Any:
        """Send one request and wait for its response.

        Raises:
            ModelServerError: the server answered with an error, did not answer within
                ``timeout`` seconds, or is gone (with how it ended).
        """
        with self._lock:
            if self._closed:
                raise ModelServerError("The model process has been closed.")
            self._wait_loaded()
            request = Request(next(self._ids), op, args)
            try:
                self._live.conn.send(request)
            except (OSError, ValueError):
                raise self._dead() from None
            deadline = time.monotonic() + timeout
            while True:
                try:
                    message = _receive(self._live, max(deadline - time.monotonic(), 0.0))
                except (EOFError, OSError):
                    raise self._dead() from None
                if message is None:
                    raise ModelServerError(f"The model process did not answer within {timeout:g} s.")
                if isinstance(message, Response) and message.id == request.id:
                    break
        if message.error is not None:
            raise ModelServerError(message.error)
        return message.value

    def predict(self, images: np.ndarray) -> np.ndarray:
        """``(n, 28, 28)`` uint8 images -> ``(n, 10)`` probabilities.

        Raises:
            ModelLoading: the model is still loading (the caller asks again later, and
                the UI never waits for TensorFlow's import).
            ModelServerError: the process is gone or failed.
        """
        if not self.ready:
            raise ModelLoading("Loading the model…")
        return np.asarray(self.request("predict", np.ascontiguousarray(images, dtype=np.uint8)))

    def save(self, path: Path) -> None:
        """Have the model process write the model to ``path`` atomically.

        Raises:
            ModelServerError: the file could not be written (the message says why, e.g.
                "No space left on device"), or the process is gone.
        """
        path = Path(path)
        self._live.writing.add(path)
        try:
            self.request("save", str(path), timeout=SAVE_TIMEOUT)
        finally:
            if self.alive:
                self._live.writing.discard(path)

    def close(self) -> None:
        """End the model process; its memory returns to the operating system."""
        self._closed = True
        threading.Thread(target=self._live.end, name="mnist-tui-end-model", daemon=True).start()
