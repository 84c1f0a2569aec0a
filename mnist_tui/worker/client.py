"""The UI side of a trainer process: relay its training events, then ask its model with typed requests.

Imports neither TensorFlow nor Keras (a test checks ``sys.modules``): everything the
UI needs from a model travels over a pipe as plain data (:mod:`.protocol`).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..events import (
    Failed,
    Finished,
    JobProgress,
    LayerWeights,
    MapLayout,
    ModelLoading,
    ModelServerError,
    NearestImages,
    RunControl,
    Sink,
)
from . import spare
from .processes import Live, describe_exit, died, end_all, live_processes, receive, start
from .protocol import (
    Embeddings,
    Job,
    Layout,
    Neighbours,
    Predict,
    Progress,
    Request,
    Response,
    Save,
    ScoreJob,
    ServeJob,
    Serving,
    Stop,
    TrainJob,
    Weights,
    Why,
)

__all__ = ["TIMEOUTS", "ProcessTrainer", "RemoteModel", "describe_exit", "died", "end_all", "live_processes"]

POLL = 0.05  # seconds between looks at the run's stop/cancel flags while no event arrives
CANCEL_POLL = 0.05  # seconds between looks at a caller's cancel event while it waits for an answer
LOAD_TIMEOUT = 120.0
"""Seconds a :class:`ServeJob` may take to import TensorFlow and load its model."""
TIMEOUTS: dict[type[Request], float] = {
    Predict: 10.0,  # milliseconds in fact: this only catches a hung process
    Save: 300.0,
    Why: 60.0,  # milliseconds once warm; the first one traces the gradient function
    Weights: 120.0,
    # Long jobs report progress: for them this is the longest silence allowed, not the whole job.
    Neighbours: 300.0,  # embedding a chunk of training images on a busy machine (a CNN is slow)
    Embeddings: 300.0,
    Layout: 600.0,  # UMAP's first fit in a process compiles with numba, in silence, for about two minutes
}
"""Seconds each request may wait for its answer (or, for a long job, for its next progress message)."""
CLOSED = "The model process has been closed."


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
        self.checkpoint_dir: Path | None = None
        """Set by whoever records the run (its folder), before :meth:`run`: a training job checkpoints there."""
        self.resume_from: Path | None = None
        """The run folder whose checkpoint a training job goes on from (a resumed or trained-further run)."""
        self.further = False

    def run(self, sink: Sink, control: RunControl) -> None:
        if isinstance(self.job, TrainJob):
            self.job = replace(
                self.job, checkpoint_dir=self.checkpoint_dir, resume_from=self.resume_from, further=self.further
            )
        writing = [self.job.config.save] if self.job.config.save is not None else []
        # The spare process has imported Keras already; while this run trains, no other spare is kept.
        live = spare.take(self.job, writing, hold=True) if self.target is None else None
        try:
            live = live or start(self.job, self.target, writing)
            self._relay(live, sink, control)
        finally:
            if self.target is None:
                spare.release()

    def _relay(self, live: Live, sink: Sink, control: RunControl) -> None:
        self.process = live.process
        stop_sent = False
        while True:
            if control.cancel.is_set():
                live.end()
                return
            if control.stop.is_set() and not stop_sent:
                stop_sent = True
                try:
                    live.send(Stop())
                except (OSError, ValueError):
                    pass
            try:
                message = receive(live, POLL)
            except (EOFError, OSError, ValueError, TypeError):  # the pipe is over (closed under a read: TypeError)
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


class _Pending:
    """One request on its way: its answer, or why there is none, and its progress callback."""

    def __init__(self, timeout: float, progress: JobProgress | None) -> None:
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self.progress = progress
        self.done = threading.Event()
        self.response: Response | None = None
        self.error: str | None = None

    def advanced(self, fraction: float, stage: str) -> None:
        self.deadline = time.monotonic() + self.timeout  # a job that reports is alive
        if self.progress is not None:
            try:
                self.progress(fraction, stage)
            except Exception:  # a caller's display failing must not stop the reader thread
                self.progress = None

    def wait(self, cancel: threading.Event | None) -> Response:
        while not self.done.is_set():
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise ModelServerError(f"The model process did not answer within {self.timeout:g} s.")
            if cancel is not None and cancel.is_set():
                raise ModelServerError("The request was cancelled.")
            self.done.wait(min(left, CANCEL_POLL) if cancel is not None else left)
        if self.response is None:
            raise ModelServerError(self.error or "The model process stopped answering.")
        return self.response


class RemoteModel:
    """A model served by its own process: the app's :class:`~mnist_tui.events.ModelService`, over a pipe.

    Thread-safe, and several requests may be in flight at once: a reader thread routes
    each response to its request by id, so a drawing's prediction never waits behind a
    long job (the child answers quick requests while its job thread works). Each
    request gets exactly one response; one that times out leaves its late answer to be
    skipped. A process that dies fails every request with how it ended.
    """

    def __init__(
        self, live: Live, name: str, history: dict[str, list[float]] | None = None, *, loading: bool = False
    ) -> None:
        self._live = live
        self.name = name
        self.history = history
        self._ids = itertools.count(1)
        self._pending: dict[int, _Pending] = {}
        self._lock = threading.Lock()  # guards _pending and _error
        self._error: str | None = None  # once set (the process failed or is gone), every request fails with it
        self._closed = False
        self._closed_why = CLOSED  # what every request says once closed
        self._loaded = threading.Event()  # set once a ServeJob's process says Serving (or can never say it)
        if not loading:
            self._loaded.set()
        threading.Thread(target=self._read, name="mnist-tui-model-reader", daemon=True).start()

    @classmethod
    def open(
        cls,
        model_path: Path,
        name: str,
        *,
        data: Path | None = None,
        target: Callable[[Any, Job], None] | None = None,
    ) -> RemoteModel:
        """Start a process serving the saved model at ``model_path``; returns at once.

        Args:
            model_path: The ``.keras`` file.
            name: What the model is called in the UI.
            data: Where its run found MNIST (the training images the views compare with).
            target: The child's entry point (tests run a scripted one).

        Requests wait until the model is loaded (TensorFlow's import takes a few seconds),
        except :meth:`predict`, which says :class:`~mnist_tui.events.ModelLoading` at once.
        """
        job = ServeJob(Path(model_path), name, None if data is None else Path(data))
        live = spare.take(job) if target is None else None  # a spare only loads the weights: a quarter of a second
        return cls(live or start(job, target, ()), name, loading=True)

    @property
    def pid(self) -> int:
        return self._live.process.pid

    @property
    def alive(self) -> bool:
        return not self._closed and self._live.process.exitcode is None

    @property
    def ready(self) -> bool:
        """Whether the model is loaded and answers at once (never waits); a failed load is ready to say so."""
        return self._loaded.is_set()

    # ------------------------------------------------------------------ the reader thread

    def _read(self) -> None:
        """Route every message from the child to the request waiting for it, until the pipe closes."""
        while True:
            try:
                message = self._live.conn.recv()
            except Exception:
                # The pipe is over: the child went away, or the UI closed it while a message
                # was half read (then even a TypeError: the closed handle is None). How the
                # process ended is said below; nothing may look like a crash in the log.
                break
            if isinstance(message, Serving):
                self._loaded.set()
                spare.loaded()  # the next spare may start importing now
            elif isinstance(message, Failed) and not self._loaded.is_set():
                self._fail(message.message)  # the saved model could not be loaded
                spare.loaded()
            elif isinstance(message, Progress):
                with self._lock:
                    pending = self._pending.get(message.id)
                if pending is not None:
                    pending.advanced(message.fraction, message.stage)
            elif isinstance(message, Response):
                with self._lock:
                    pending = self._pending.pop(message.id, None)
                if pending is not None:  # else a late answer to a request that gave up: skipped
                    pending.response = message
                    pending.done.set()
        if self._closed:
            self._fail(self._closed_why)
        else:  # the pipe closes a moment before the process has ended
            self._fail(f"The model process {self._live.exit_status(0.5)}.")

    def _fail(self, error: str) -> None:
        with self._lock:
            self._error = self._error or error
            pending, self._pending = list(self._pending.values()), {}
        for waiting in pending:
            waiting.error = self._error
            waiting.done.set()
        self._loaded.set()

    # ------------------------------------------------------------------ one request

    def _ask(
        self, request: Request, *, progress: JobProgress | None = None, cancel: threading.Event | None = None
    ) -> Any:
        """Send ``request`` and wait for its answer.

        Raises:
            ModelServerError: the server answered with an error, did not answer in time
                (:data:`TIMEOUTS`), is gone (with how it ended), or ``cancel`` was set.
        """
        if self._closed:
            raise ModelServerError(self._closed_why)
        if not self._loaded.wait(LOAD_TIMEOUT):
            raise ModelServerError(f"The model process did not load the model within {LOAD_TIMEOUT:g} s.")
        pending = _Pending(TIMEOUTS[type(request)], progress)
        with self._lock:
            if self._error is not None:
                raise ModelServerError(self._error)
            self._pending[request.id] = pending
        try:
            try:
                self._live.send(request)
            except (OSError, ValueError):
                raise ModelServerError(f"The model process {self._live.exit_status(0.5)}.") from None
            response = pending.wait(cancel)
        finally:
            with self._lock:
                self._pending.pop(request.id, None)
        if response.error is not None:
            raise ModelServerError(response.error)
        return response.value

    def _next_id(self) -> int:
        return next(self._ids)  # itertools.count is atomic under the GIL

    # ------------------------------------------------------------------ what the app asks

    def predict(self, images: np.ndarray) -> np.ndarray:
        """``(n, height, width)`` uint8 images -> ``(n, classes)`` probabilities.

        Raises:
            ModelLoading: the model is still loading (the caller asks again later, and
                the UI never waits for TensorFlow's import).
            ModelServerError: the process is gone or failed.
        """
        if not self.ready:
            raise ModelLoading("Loading the model…")
        return np.asarray(self._ask(Predict(self._next_id(), np.ascontiguousarray(images, dtype=np.uint8))))

    def save(self, path: Path) -> None:
        """Have the model process write the model to ``path`` atomically.

        Raises:
            ModelServerError: the file could not be written (the message says why, e.g.
                "No space left on device"), or the process is gone.
        """
        path = Path(path)
        self._live.writing.add(path)
        try:
            self._ask(Save(self._next_id(), path))
        finally:
            if self.alive:
                self._live.writing.discard(path)

    def why(
        self, image: np.ndarray, classes: list[int], steps: int, *, cancel: threading.Event | None = None
    ) -> np.ndarray:
        """Integrated-gradients maps of one image for each of ``classes``."""
        request = Why(self._next_id(), np.ascontiguousarray(image, np.uint8), tuple(int(c) for c in classes), steps)
        return np.asarray(self._ask(request, cancel=cancel), np.float32)

    def neighbours(
        self,
        image: np.ndarray,
        k: int,
        *,
        progress: JobProgress | None = None,
        cancel: threading.Event | None = None,
    ) -> NearestImages:
        """The ``k`` training images nearest to ``image``; the first call embeds the training set."""
        request = Neighbours(self._next_id(), np.ascontiguousarray(image, np.uint8), int(k))
        return self._ask(request, progress=progress, cancel=cancel)

    def embeddings(
        self, images: np.ndarray, *, progress: JobProgress | None = None, cancel: threading.Event | None = None
    ) -> np.ndarray:
        """``(n, d)`` float32 penultimate-layer embeddings of ``images``."""
        request = Embeddings(self._next_id(), np.ascontiguousarray(images, np.uint8))
        return np.asarray(self._ask(request, progress=progress, cancel=cancel), np.float32)

    def layout(
        self,
        images: np.ndarray,
        method: str = "auto",
        cache_dir: Path | None = None,
        *,
        progress: JobProgress | None = None,
        cancel: threading.Event | None = None,
    ) -> MapLayout:
        """A 2-D layout of the images' embeddings, computed (with progress) or read from a cache."""
        request = Layout(self._next_id(), np.ascontiguousarray(images, np.uint8), method, cache_dir)
        return self._ask(request, progress=progress, cancel=cancel)

    def weights(self, *, cancel: threading.Event | None = None) -> LayerWeights:
        """The first layer's weights."""
        return self._ask(Weights(self._next_id()), cancel=cancel)

    def close(self, reason: str | None = None) -> None:
        """End the model process; its memory returns to the operating system.

        Args:
            reason: What every request says from now on (a new run replaced this one,
                and where the model can be opened again); by default, that it was closed.
        """
        if self._closed:
            return
        self._closed_why = reason or CLOSED
        self._closed = True
        threading.Thread(target=self._live.end, name="mnist-tui-end-model", daemon=True).start()
