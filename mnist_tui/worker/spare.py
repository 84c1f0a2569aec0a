"""A spare model process kept warm: Keras already imported, waiting for the job that takes it.

Importing TensorFlow takes a process 6-8 s (about 6 s of CPU) on the 2-core machines
this app runs on; loading a saved model's weights into a process that has imported it
takes a quarter of a second. So the app keeps one spare (:class:`~.protocol.SpareJob`)
from the moment it starts: opening a recorded run or a model file, and starting a
training run, hand their job to the spare over its pipe instead of starting a process,
and the next spare starts :data:`REFILL_DELAY` seconds after the taken one has loaded its
model (not at once: its import would compete with the taken process's import, if that is
not over, and with its first answers, on 2 cores).

A training run holds the spares (:func:`take` with ``hold=True``, then :func:`release`):
while it trains no spare is started or kept, so a run never shares its cores with an
import. So do a model file's test predictions on its first open (:func:`hold`). Spares are started with :func:`.processes.start` like every other process of the
UI, so quitting ends them with the rest (``end_all``).

Off unless :func:`enable` is called (``mnist-tui`` does; tests and scripts that build an
app do not, so they never start a TensorFlow process they did not ask for).

UI side: imports neither TensorFlow nor Keras.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path

from .processes import Live, start
from .protocol import ScoreJob, ServeJob, SpareJob, TrainJob

NO_SPARE = "MNIST_TUI_NO_SPARE"
"""Set to 1 to keep no spare (see :func:`enable`)."""
REFILL_DELAY = 5.0
"""Seconds after a spare was taken (or a training run ended) before the next spare starts."""

_lock = threading.Lock()
_spare: Live | None = None
_backend: str | None = None
_enabled = False
_holds = 0
_timer: threading.Timer | None = None


def _default_backend(environ: Mapping[str, str] = os.environ) -> str | None:
    """The backend a spare imports: the one a model file or a recorded run opens on (``None``: no spare).

    As ``backend.resolve_backend`` reads it with no ``--backend`` (that module is not
    imported here: it may import TensorFlow): ``KERAS_BACKEND``, else TensorFlow.
    """
    name = environ.get("KERAS_BACKEND", "").strip().lower() or "tensorflow"
    return name if name in ("tensorflow", "jax") else None


def job_backend(job: TrainJob | ScoreJob | ServeJob, environ: Mapping[str, str] = os.environ) -> str | None:
    """The backend ``job`` runs on when that is known without looking at what is installed (``None``: not known).

    ``--backend auto`` depends on the architecture and on what is installed: such a run
    starts a process of its own.
    """
    if isinstance(job, ServeJob) or job.config.backend is None:
        return _default_backend(environ)
    return job.config.backend if job.config.backend != "auto" else None


def enable(environ: Mapping[str, str] = os.environ) -> None:
    """Keep a spare from now on (``mnist-tui`` calls this as it starts): one starts at once unless a run trains.

    ``MNIST_TUI_NO_SPARE=1`` keeps none (a machine short of memory: a spare holds about 0.5 GB).
    """
    global _enabled
    if environ.get(NO_SPARE, "").strip() not in ("", "0"):
        return
    with _lock:
        _enabled = True
    _refill()


def disable() -> None:
    """Keep no spare any more (the app is quitting); the one kept is ended (quitting's ``end_all`` ends it too)."""
    global _enabled, _spare
    with _lock:
        _enabled = False
        _cancel_timer()
        spare, _spare = _spare, None
    if spare is not None:
        threading.Thread(target=spare.end, name="mnist-tui-end-spare", daemon=True).start()


def take(job: TrainJob | ScoreJob | ServeJob, writing: Iterable[Path] = (), *, hold: bool = False) -> Live | None:
    """Hand ``job`` to the spare, if one is kept and fits it; ``None``: start a process of its own.

    Args:
        job: What the process is to do.
        writing: The files it may be half-way through writing (see :class:`.processes.Live`).
        hold: A training run: no spare is started or kept until :func:`release`
            (the one there is taken, or ended when it does not fit).
    """
    global _spare, _holds
    with _lock:
        if hold:
            _holds += 1
            _cancel_timer()
        spare, _spare = _spare, None
    live = None
    if spare is not None:
        if spare.process.exitcode is None and job_backend(job) == _backend:
            try:
                spare.send(job)
            except (OSError, ValueError):  # it went away meanwhile: the job starts a process of its own
                pass
            else:
                spare.writing.update(writing)
                live = spare
        if live is None:
            threading.Thread(target=spare.end, name="mnist-tui-end-spare", daemon=True).start()
    return live


def loaded() -> None:
    """A model process has loaded its model (or failed to): the next spare starts after :data:`REFILL_DELAY`.

    Not as the spare is taken: under load its import may not be over yet, and a second
    import beside it would double the wait for the model just opened.
    """
    _refill(REFILL_DELAY)


def hold() -> None:
    """Start no spare until :func:`release`: a model file's test images are being predicted.

    Its process has just taken the spare; the next spare's import would share the cores
    with the 10,000 predictions the results browser is waiting for.
    """
    global _holds
    with _lock:
        _holds += 1
        _cancel_timer()


def release() -> None:
    """A training run, or a model file's predictions, that held the spares has ended: the next spare starts after
    :data:`REFILL_DELAY`."""
    global _holds
    with _lock:
        _holds = max(_holds - 1, 0)
    _refill(REFILL_DELAY)


def spare_pid() -> int | None:
    """The process id of the spare kept now, if any (benchmarks and tests look at it)."""
    with _lock:
        return None if _spare is None or _spare.process.exitcode is not None else _spare.process.pid


def _cancel_timer() -> None:
    global _timer
    if _timer is not None:
        _timer.cancel()
        _timer = None


def _refill(delay: float = 0.0) -> None:
    """Start a spare after ``delay`` seconds, unless one is kept, spares are off or a run trains."""
    global _timer
    with _lock:
        if not _enabled or _holds or _spare is not None:
            return
        _cancel_timer()
        if delay > 0:
            _timer = threading.Timer(delay, _refill)
            _timer.name = "mnist-tui-spare-timer"
            _timer.daemon = True
            _timer.start()
            return
    _start_spare()


def _start_spare() -> None:
    global _spare, _backend
    backend = _default_backend()
    if backend is None:
        return
    with _lock:
        if not _enabled or _holds or _spare is not None:
            return
        try:
            # under the lock: a take or a hold meanwhile sees the spare, or stops it from starting
            _spare = start(SpareJob(backend), None, ())
        except RuntimeError:  # the app is quitting: no process starts
            return
        _backend = backend
