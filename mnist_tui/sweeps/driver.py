"""The sweep driver: Optuna asks, a trainer trains, each epoch's validation accuracy may prune.

Plain Python beside the run store, no TensorFlow: the trainer comes from a factory (the Keras
trainer in-process for ``--headless`` and ``--join`` workers, a trainer process from the app,
scripted fakes in tests). Each trial is an ordinary recorded run (a :class:`~mnist_tui.runs.Recorder`
wraps the sink), tagged with its sweep and trial number. A pruned trial is *stopped*, not
cancelled: its partial run is scored, kept, and marked pruned with the reason.
"""

from __future__ import annotations

import math
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import optuna
from optuna.storages import RDBStorage
from optuna.trial import FrozenTrial, TrialState

from ..config import TrainConfig
from ..events import EpochEnd, Failed, Finished, Notice, RunControl, Sink, TrainerEvent
from ..runs import Recorder, RunStore
from ..runs.trials import TRIAL_COMPLETE, TRIAL_FAILED, TRIAL_PRUNED, TRIAL_RUNNING, set_trial
from .space import suggest, trial_config
from .study import HYPERBAND_REDUCTION, SweepSpec, counted, fail_dead_trials, trial_owner
from .table import TrialRow, row_of


class Trainer(Protocol):
    def run(self, sink: Sink, control: RunControl) -> None: ...


TrainerFactory = Callable[[TrainConfig], Trainer]


class TrialFailed(Exception):
    """A trial's run failed (its message says why); the sweep goes on with the next."""


class SweepStopped(Exception):
    """The person stopped the sweep during a trial."""


@dataclass
class Progress:
    """What the driver tells whoever shows the sweep (the headless table, the sweep screen)."""

    on_trial_start: Callable[[int, dict[str, Any]], None] = lambda number, params: None
    on_epoch: Callable[[int, EpochEnd], None] = lambda number, event: None
    on_trial_end: Callable[[TrialRow], None] = lambda row: None
    on_notice: Callable[[str], None] = lambda text: None
    events: list[str] = field(default_factory=list)


class PruningSink:
    """Forwards events; reports each epoch's validation accuracy to the trial and stops the run when it should be pruned."""

    def __init__(
        self, trial: optuna.Trial, control: RunControl, progress: Progress, *, report: bool = True, prune: bool = True
    ) -> None:
        self.trial = trial
        self.report = report
        self.control = control
        self.progress = progress
        self.prune = prune
        self.outcome: Finished | Failed | None = None
        self.pruned: str | None = None
        """Why the trial was pruned (None while it was not)."""
        self.curve: list[float] = []

    def __call__(self, event: TrainerEvent) -> None:
        if isinstance(event, EpochEnd):
            self.progress.on_epoch(self.trial.number, event)
            if event.val_accuracy is not None and self.pruned is None and not self.control.halted:
                self.curve.append(float(event.val_accuracy))
                if self.report:
                    self.trial.report(float(event.val_accuracy), event.epoch)  # the curves draw these too
                    if self.prune and self.trial.should_prune():
                        self.pruned = self._why(event)
                        self.control.stop.set()  # a stop: the partial run is scored and kept
        elif isinstance(event, (Finished, Failed)):
            self.outcome = event
        elif isinstance(event, Notice):
            self.progress.on_notice(event.message)

    def _why(self, event: EpochEnd) -> str:
        """The reason shown with a pruned trial, measured against what its pruner compared it with."""
        pruner = self.trial.study.pruner
        kind = type(pruner).__name__.removesuffix("Pruner").lower()
        head = f"pruned ({kind}) after epoch {event.epoch}: val accuracy {event.val_accuracy:.2%}"
        if isinstance(pruner, optuna.pruners.HyperbandPruner):
            return head + f" (not in the best 1/{HYPERBAND_REDUCTION} of its bracket's trials at this epoch)"
        # the median pruner compares with the completed trials only (pruned ones are left out)
        others = [
            t.intermediate_values[event.epoch]
            for t in self.trial.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if event.epoch in t.intermediate_values
        ]
        where = f" (median of {len(others)} trials {statistics.median(others):.2%})" if others else ""
        return head + where


class SweepDriver:
    """Runs trials of one study until its budget, its timeout or a stop.

    Args:
        study: The Optuna study (any storage).
        spec: What to search, from the study's attributes.
        store: The run store every trial is recorded in.
        trainers: Makes a trainer for a trial's configuration.
        progress: Told about trials as they start, train and end.
        clock: Seconds, for the timeout (injectable for tests).
    """

    def __init__(
        self,
        study: optuna.Study,
        spec: SweepSpec,
        store: RunStore,
        trainers: TrainerFactory,
        progress: Progress | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.study = study
        self.spec = spec
        self.store = store
        self.trainers = trainers
        self.progress = progress or Progress()
        self.clock = clock
        self.stopping = threading.Event()
        """Set by :meth:`stop`: the running trial stops and no other starts."""
        self._control: RunControl | None = None
        self.trained_epochs = 0
        """Epochs this worker trained, pruned trials' included (the benchmark counts them)."""

    def stop(self) -> None:
        """Stop the sweep: the running trial stops (recorded, marked failed so a resume retries it)."""
        self.stopping.set()
        if self._control is not None:
            self._control.stop.set()

    def remaining(self) -> int | None:
        if self.spec.trials is None:
            return None
        return max(self.spec.trials - counted(self.study), 0)

    def run(self) -> int:
        """Run trials; returns how many this worker finished (complete or pruned)."""
        done = 0
        start = self.clock()
        while not self.stopping.is_set():
            for dead in fail_dead_trials(self.study):
                self._mark_failed(dead, "its worker is gone (killed or lost)")
            if (left := self.remaining()) is not None and left <= 0:
                break
            if self.spec.timeout is not None and self.clock() - start >= self.spec.timeout:
                break
            trial = self.study.ask()
            row = self._run_trial(trial)
            self.progress.on_trial_end(row)
            if row.state in ("complete", "pruned"):
                done += 1
        return done

    # ------------------------------------------------------------------ one trial

    def _run_trial(self, trial: optuna.Trial) -> TrialRow:
        for key, value in trial_owner().items():
            trial.set_user_attr(key, value)
        try:
            values = suggest(self.spec.space, trial)
            config = trial_config(self.spec.base, values)
        except Exception as exc:  # a combination the options table refuses
            return self._tell_failed(trial, f"options refused: {exc}")
        self.progress.on_trial_start(trial.number, values)
        seeds = [config.seed] if self.spec.repeat <= 1 else [(self.spec.seed or 0) + i for i in range(self.spec.repeat)]
        accuracies: list[float] = []
        for i, seed in enumerate(seeds):
            sink = PruningSink(trial, RunControl(), self.progress, report=i == 0, prune=self.spec.prune != "none")
            try:
                outcome = self._train(trial, config.with_changes(seed=seed), sink)
            except SweepStopped:
                return self._tell_failed(trial, "stopped with the sweep (a resume runs it again)")
            if isinstance(outcome, Failed):
                return self._tell_failed(trial, outcome.message)
            if sink.pruned is not None:
                trial.set_user_attr("note", sink.pruned)
                self.study.tell(trial, state=TrialState.PRUNED)
                return self._row(trial)
            accuracies.append(trial_score(config, sink.curve, outcome))
        value = statistics.fmean(accuracies)
        if len(accuracies) > 1:
            trial.set_user_attr("spread", statistics.stdev(accuracies))
            trial.set_user_attr("accuracies", accuracies)
        self.study.tell(trial, value)
        return self._row(trial)

    def _train(self, trial: optuna.Trial, config: TrainConfig, sink: PruningSink) -> Finished | Failed:
        """One run of ``config``, recorded and tagged; the trainer runs on a thread so Ctrl-C is heard here."""
        recorder = Recorder(self.store, sink, config)
        run_id = recorder.start()
        if run_id is not None:
            trial.set_user_attr("run_id", run_id)
            set_trial(self.store, run_id, self.spec.name, trial.number, TRIAL_RUNNING)
            try:  # the runs list names it after its sweep and trial
                self.store.rename(run_id, f"{self.spec.name} #{trial.number}")
            except Exception:
                pass  # a name too long for the store keeps the default
        self._control = sink.control
        if self.stopping.is_set():
            sink.control.stop.set()
        worker = threading.Thread(
            target=self.trainers(config).run, args=(recorder, sink.control), name=f"sweep-trial-{trial.number}"
        )
        worker.start()
        beat = Heartbeat(self.study, trial)
        try:
            while worker.is_alive():
                worker.join(0.1)
                beat.tick()
        except KeyboardInterrupt:
            sink.control.cancel.set()
            worker.join(10)
            recorder.close()
            if run_id is not None:
                set_trial(self.store, run_id, self.spec.name, trial.number, TRIAL_FAILED, "interrupted")
            self.study.tell(trial, state=TrialState.FAIL)
            raise
        finally:
            self._control = None
        recorder.close()
        self.trained_epochs += len(sink.curve) if sink.curve else 0
        outcome = sink.outcome
        if outcome is None or (self.stopping.is_set() and sink.pruned is None):
            if run_id is not None:
                set_trial(self.store, run_id, self.spec.name, trial.number, TRIAL_FAILED, "stopped with the sweep")
            raise SweepStopped
        if run_id is not None:
            if isinstance(outcome, Failed):
                state, note = TRIAL_FAILED, outcome.message
            elif sink.pruned is not None:
                state, note = TRIAL_PRUNED, sink.pruned
            else:
                state, note = TRIAL_COMPLETE, None
            set_trial(self.store, run_id, self.spec.name, trial.number, state, note)
        return outcome

    def _tell_failed(self, trial: optuna.Trial, note: str) -> TrialRow:
        trial.set_user_attr("note", note)
        self.study.tell(trial, state=TrialState.FAIL)
        return self._row(trial)

    def _row(self, trial: optuna.Trial) -> TrialRow:
        frozen = self.study._storage.get_trial(trial._trial_id)
        return row_of(frozen)

    def _mark_failed(self, trial: FrozenTrial, note: str) -> None:
        run_id = trial.user_attrs.get("run_id")
        if run_id is not None:
            try:
                set_trial(self.store, int(run_id), self.spec.name, trial.number, TRIAL_FAILED, note)
            except Exception:  # that worker's run store may be on another machine
                pass
        self.progress.on_notice(f"trial {trial.number} failed: {note}")


class Heartbeat:
    """Tells a database storage that this worker's trial is alive, every ``heartbeat_interval`` seconds.

    Optuna's own heartbeat thread belongs to ``study.optimize``; the driver asks and tells,
    so it beats itself, from the loop that waits for the trainer. A journal has no heartbeat.
    """

    def __init__(self, study: optuna.Study, trial: optuna.Trial, clock: Callable[[], float] = time.monotonic) -> None:
        storage = study._storage
        interval = storage.get_heartbeat_interval() if isinstance(storage, RDBStorage) else None
        self.storage = storage if isinstance(storage, RDBStorage) and interval else None
        self.trial_id = trial._trial_id
        self.clock = clock
        self.interval = float(interval or 0)
        self.last = -math.inf
        self.tick()

    def tick(self) -> None:
        if self.storage is None or self.clock() - self.last < self.interval:
            return
        self.last = self.clock()
        try:
            self.storage.record_heartbeat(self.trial_id)
        except Exception:  # a database that blips: the next beat tries again, within the grace period
            pass


def trial_score(config: TrainConfig, curve: list[float], outcome: Finished) -> float:
    """What a trial is ranked by: its held-out accuracy after its last epoch where it kept images
    out of training (``--holdout``), else its test accuracy (the only score there is then)."""
    if config.holdout is not None and config.validate and curve:
        return curve[-1]
    return outcome.test_accuracy


def mean_spread(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for one value)."""
    if not values:
        return math.nan, math.nan
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0
