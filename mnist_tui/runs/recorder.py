"""The recorder: a sink that writes the events it sees to the run store, then passes them on.

The trainer does not know it exists. Whatever happens to the store, the events keep
flowing: the first fault stops the recording and is said once, as a
:class:`~mnist_tui.events.Notice`, to the sink behind.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import numpy as np

from ..config import TrainConfig
from ..events import BatchEnd, EpochEnd, Failed, Finished, LossCurve, Notice, Sink, Started, Stopped, TrainerEvent
from .model import FAILED, FINISHED, INTERRUPTED, STOPPED, Epoch
from .store import RunStore, StoreError, library_versions, open_store, reason

MAX_POINTS = 400
"""The batch-loss curve keeps at most this many points (pairs merge when it fills up)."""


class Downsampler:
    """Averages a stream of values into at most ``limit`` points, whatever its length.

    Each point is the mean of ``every`` consecutive values; when the points fill up,
    neighbours merge in pairs and ``every`` doubles. Memory stays ``O(limit)``.
    """

    def __init__(self, limit: int = MAX_POINTS) -> None:
        if limit < 2 or limit % 2:
            raise ValueError("limit must be an even number of at least 2")
        self.limit = limit
        self.every = 1
        self.points: list[float] = []
        self._sum = 0.0
        self._count = 0

    def add(self, value: float) -> None:
        self._sum += value
        self._count += 1
        if self._count == self.every:
            self.points.append(self._sum / self._count)
            self._sum, self._count = 0.0, 0
            if len(self.points) == self.limit:
                self.points = [(a + b) / 2 for a, b in zip(self.points[::2], self.points[1::2])]
                self.every *= 2

    def state(self) -> LossCurve:
        """Everything needed to continue this curve exactly (:meth:`restored`)."""
        return LossCurve(tuple(self.points), self.every, self._sum, self._count)

    @classmethod
    def restored(cls, curve: LossCurve, limit: int = MAX_POINTS) -> Downsampler:
        """A downsampler that goes on where the one whose :meth:`state` gave ``curve`` was."""
        sampler = cls(limit)
        sampler.points = [float(p) for p in curve.points][: limit - 1]
        sampler.every = max(1, int(curve.every))
        sampler._sum, sampler._count = float(curve.partial_sum), int(curve.partial_count)
        return sampler

    def values(self) -> np.ndarray:
        """The points so far, the partly filled last one included (never more than ``limit``)."""
        tail = [self._sum / self._count] if self._count else []
        return np.asarray(self.points + tail, np.float32)


def data_fingerprint(images: np.ndarray, labels: np.ndarray) -> str:
    """A short hash of the test images and labels, to check probabilities against the data they score."""
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(images, np.uint8).tobytes())
    digest.update(np.ascontiguousarray(labels, np.uint8).tobytes())
    return digest.hexdigest()[:16]


class Recorder:
    """Records one run in the store and forwards every event to ``sink``.

    The row is created by :meth:`start`, or at the first event if nobody called it, so a
    run that fails while loading data is recorded too. ``Started`` adds the model's
    details, each ``EpochEnd`` its metrics and the batch-loss curve so far (one
    transaction), ``Finished`` the test results, the probabilities (``predictions.npz``)
    and the model (``model.keras``, through ``event.model.save``), ``Failed`` the message.
    A run that ends otherwise (cancelled, the app quit) is closed as interrupted by
    :meth:`close`. Each event is recorded before it is forwarded, so whoever receives it
    can read it back from the store.

    Calls may come from any one thread at a time; a lock keeps them in order. Saving the
    model may take a fraction of a second, so in the app the recorder runs off the UI thread.

    Args:
        store: Where to record; ``None`` records nothing and forwards a notice saying why.
        sink: The sink behind (the training screen, the headless printer).
        config: The run's configuration (``Started`` may refine it).
        problem: Why ``store`` is ``None``, for the notice.
    """

    def __init__(
        self,
        store: RunStore | None,
        sink: Sink,
        config: TrainConfig,
        *,
        problem: str | None = None,
        resume_id: int | None = None,
        parent_id: int | None = None,
    ) -> None:
        self.store = store
        self.sink = sink
        self.config = config
        self.resume_id = resume_id
        """The recorded run this one resumes: its row goes on (status running again) instead of a new one."""
        self.parent_id = parent_id
        """The finished run this one trains further (recorded as the new run's parent)."""
        self.run_id: int | None = None
        self.losses = Downsampler()
        self.stopped: Stopped | None = None
        """Where the person stopped the run: the epoch that ends next may be cut short."""
        self._lock = threading.Lock()
        self._ended = False
        self._notices: list[str] = list(store.notices) if store is not None else []
        if store is None:
            self._notices.append(f"This run is not being recorded: {problem or 'no run store'}.")

    @classmethod
    def open(
        cls,
        sink: Sink,
        config: TrainConfig,
        home: Path | None = None,
        *,
        resume_id: int | None = None,
        parent_id: int | None = None,
    ) -> Recorder:
        """A recorder on the default store (or ``home``); if it cannot be opened, one that says so and records nothing."""
        try:
            return cls(open_store(home), sink, config, resume_id=resume_id, parent_id=parent_id)
        except StoreError as exc:
            return cls(None, sink, config, problem=str(exc), resume_id=resume_id, parent_id=parent_id)

    @property
    def recording(self) -> bool:
        return self.store is not None

    def start(self) -> int | None:
        """Create the run's row now (status running); returns its id, or ``None`` when not recording."""
        with self._lock:
            self._guard(self._ensure_row)
            pending = self._take_notices()
        for notice in pending:
            self.sink(notice)
        return self.run_id

    def __call__(self, event: TrainerEvent) -> None:
        with self._lock:
            self._guard(self._record, event)
            pending = self._take_notices()
        for notice in pending:
            self.sink(notice)
        self.sink(event)

    def close(self, status: str = INTERRUPTED, message: str | None = None) -> None:
        """The run is over without a ``Finished`` or ``Failed`` (cancelled, quit): mark it ``status``.

        Does nothing once the run has ended; never raises.
        """
        with self._lock:
            if self.run_id is not None and not self._ended:
                self._guard(self._end, status, message)
            self._ended = True

    # ------------------------------------------------------------------ recording

    def _guard(self, action, *args) -> None:
        """Run a recording step; the first fault stops recording and becomes a notice."""
        if self.store is None:
            return
        try:
            action(*args)
        except Exception as exc:  # sqlite3, OSError, a corrupt page: never the trainer's problem
            self.store = None
            what = f"run {self.run_id}" if self.run_id is not None else "this run"
            text = str(exc) if isinstance(exc, StoreError) else f"run store: {reason(exc)}"
            self._notices.append(f"Stopped recording {what}: {text}.")

    def _ensure_row(self) -> None:
        if self.run_id is None and self.store is not None:
            if self.resume_id is not None:
                self.store.reopen(self.resume_id)
                self.run_id = self.resume_id
            else:
                self.run_id = self.store.create_run(self.config, versions=library_versions(), parent_id=self.parent_id)

    def _record(self, event: TrainerEvent) -> None:
        self._ensure_row()
        store, run_id = self.store, self.run_id
        assert store is not None and run_id is not None
        if self._ended:
            return
        if isinstance(event, Started):
            self.config = event.config
            self.losses = Downsampler()
            if event.resumed:
                # the checkpoint's history is the run's: epochs trained after it were lost with their process
                if event.earlier_curve is not None:
                    self.losses = Downsampler.restored(event.earlier_curve)
                store.rewind(
                    run_id,
                    [
                        Epoch(e.epoch, e.loss, e.accuracy, e.val_loss, e.val_accuracy, e.seconds, e.elapsed)
                        for e in event.earlier
                    ],
                    self.losses.values(),
                    self.losses.every,
                )
            store.update_started(
                run_id,
                event.config,
                params=event.params,
                steps_per_epoch=event.steps_per_epoch,
                train_size=event.train_size,
                test_size=event.test_size,
                summary=event.summary,
            )
        elif isinstance(event, BatchEnd):
            for loss in event.losses or (event.loss,):
                self.losses.add(float(loss))
        elif isinstance(event, Stopped):
            self.stopped = event
            for loss in event.losses:  # the batches since the last batch event
                self.losses.add(float(loss))
        elif isinstance(event, EpochEnd):
            stopped = self.stopped
            partial = stopped is not None and stopped.epoch == event.epoch and stopped.partial
            epoch = Epoch(
                event.epoch,
                event.loss,
                event.accuracy,
                event.val_loss,
                event.val_accuracy,
                event.seconds,
                event.elapsed,
                steps=stopped.step if partial and stopped is not None else None,
            )
            store.record_epoch(run_id, epoch, self.losses.values(), self.losses.every)
        elif isinstance(event, Finished):
            self._finish(store, run_id, event)
        elif isinstance(event, Failed):
            self._end(FAILED, event.message)

    def _end(self, status: str, message: str | None) -> None:
        self._ended = True
        if self.store is not None and self.run_id is not None:
            self.store.end(self.run_id, status, message)

    def _finish(self, store: RunStore, run_id: int, event: Finished) -> None:
        self._ended = True
        predictions = event.predictions
        missing = []
        try:
            store.save_probabilities(run_id, predictions.probabilities, predictions.labels)
        except OSError as exc:
            missing.append(("its test predictions", reason(exc)))
        if event.model is not None:
            try:
                event.model.save(store.model_path(run_id))
            except Exception as exc:  # the model process may be gone, the disk full, ...
                missing.append(("its model", reason(exc)))
        store.finish(
            run_id,
            STOPPED if event.stopped_early else FINISHED,
            test_loss=event.test_loss,
            test_accuracy=event.test_accuracy,
            mistakes=predictions.mistakes,
            seconds=event.seconds,
            data_fingerprint=data_fingerprint(predictions.images, predictions.labels),
            batch_losses=self.losses.values(),
            batch_every=self.losses.every,
        )
        if missing:
            what = " and ".join(name for name, _ in missing)
            self._notices.append(f"Run {run_id} is recorded without {what}: {missing[0][1]}.")

    def _take_notices(self) -> list[Notice]:
        pending, self._notices = self._notices, []
        return [Notice(text) for text in pending]
