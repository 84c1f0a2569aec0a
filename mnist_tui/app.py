"""The Textual application: wires a trainer to the training screen, then opens the results."""

from __future__ import annotations

import asyncio
import gc
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Protocol, runtime_checkable

from textual import on, work
from textual.app import SystemCommand
from textual.await_complete import AwaitComplete
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.worker import get_current_worker

from .config import TrainConfig
from .data import DataError
from .events import EpochEnd, Failed, Finished, ModelHandle, ModelServerError, one_line
from .keys import command
from .predictions import Predictions
from .recorded import OpenedRun, RecordingTrainer, open_recorded
from .runs import RunStore, StoreError
from .runs.resume import ResumePlan, recent_interrupted, resumable
from .scored import ToScore, keep, predict_all
from .screens.base import NewSweep, ShowLastResults, TrainAgain, bindings
from .screens.dialogs import TrainForm
from .screens.results import ResultsScreen
from .screens.runs import RunsScreen
from .screens.sweep import SweepScreen
from .screens.sweep_form import SweepForm
from .screens.training import Trainer, TrainingScreen
from .session import RunResults, Session
from .sweeps.launch import StartedSweep, SweepRequest, launch_sweep
from .widgets.textual_fixes import let_go_of_dead_styles
from .widgets.typeahead import KeysInOrder
from .worker import client, spare
from .worker.client import ProcessTrainer
from .worker.protocol import ScoreJob, TrainJob

__all__ = ["MnistApp", "OpenedResults", "RunResults", "keras_trainer", "saved_model_scorer"]

let_go_of_dead_styles()

TrainerFactory = Callable[[TrainConfig], Trainer]
SweepLauncher = Callable[[SweepRequest, Path], StartedSweep]
"""Starts ``mnist-tui sweep`` for a request on the run store in a folder (tests inject fakes)."""
SWEEP_START_S = 120.0
"""Seconds a sweep started from the app may take to create its study (Optuna's import, a busy machine)."""
# Signals that end the app the way q does (terminal restored, trainer stopped), with
# exit status 128 + the signal: SIGHUP when the terminal window closes or SSH drops.
EXIT_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
# Seconds the trainer and model processes get to exit on quit before they are killed:
# a kill loses nothing (a half-written save is removed), and the quit stays well under 0.5 s.
QUIT_GRACE = 0.15


def keras_trainer(config: TrainConfig) -> Trainer:
    """The real trainer: Keras in a process of its own (this process never imports TensorFlow)."""
    return ProcessTrainer(TrainJob(config))


def saved_model_scorer(path: Path) -> TrainerFactory:
    """Score the saved model at ``path`` in a process of its own, which then serves it."""

    def make(config: TrainConfig) -> Trainer:
        return ProcessTrainer(ScoreJob(path, config))

    return make


def run_paths(trainer: object) -> tuple[Path | None, Path | None]:
    """The saved model ``trainer`` scores and the folder its run is recorded in (each ``None`` when it has none)."""
    if isinstance(trainer, RecordingTrainer):
        return run_paths(trainer.trainer)[0], trainer.run_dir
    if isinstance(trainer, ProcessTrainer):
        return trainer.model_path, None
    return getattr(trainer, "model_path", None), None  # a wrapper that scores a model file (scored.KeepingScorer)


HIDDEN_SYSTEM_COMMANDS = frozenset({"Maximize", "Minimize"})
"""Textual's commands that make no sense on mnist-tui's screens (they maximize the focused table or list)."""


class MnistApp(KeysInOrder):
    """Train a digit classifier while watching it learn, then explore its predictions.

    Args:
        config: What to train.
        trainer_factory: Builds the trainer for a configuration (tests inject fakes).
        predictions: Open the results browser on these directly, without training.
        model: The model behind ``predictions``, to draw against (tests inject fakes).
        threaded: Run the trainer in a worker thread (``False``: on the event loop,
            for scripted trainers in tests).
        freeze_heap: Hide the objects alive when results open (the model's predictions,
            the test set) from the garbage collector until the next run. A full
            collection walks all of them otherwise (``benchmarks/run.py``). ``mnist-tui``
            sets it; the objects are released to the collector again by a new run or on exit.
        handle_signals: End like ``q`` on SIGTERM, SIGHUP and SIGINT (the real app; tests
            leave the test runner's signals alone).
        title: The results browser's title for ``predictions``.
        to_score: Open the results browser on these test images at once, without
            predictions, and ask ``model`` for them (a model file opened for the first
            time): they fill in when they come, and are kept for the next open.
        open_model: Starts the model of the first results (``predictions`` or
            ``to_score``) and returns it, called once the first frame is painted: the
            first image does not share the cores with the start of a TensorFlow process.
        sweep_launcher: Starts a sweep asked for in the sweep form (``mnist-tui sweep`` in a process
            of its own; tests inject fakes).

    Attributes:
        session: What the screens share: the options, the last results, the run store,
            the test set. Screens get the pieces they need when they are made and ask
            for the rest with messages (:class:`~.screens.base.TrainAgain`, ...).
    """

    class RunOpened(Message):
        """A recorded run is ready to browse (from the worker that opened it)."""

        def __init__(self, opened: OpenedRun) -> None:
            super().__init__()
            self.opened = opened

    class RunNotOpened(Message):
        """A recorded run could not be opened: ``reason`` says why."""

        def __init__(self, run_id: int, reason: str) -> None:
            super().__init__()
            self.run_id = run_id
            self.reason = reason

    class Predicted(Message):
        """``done`` of a model file's test images are predicted (from the worker that asks its model)."""

        def __init__(self, done: int) -> None:
            super().__init__()
            self.done = done

    class Scored(Message):
        """A model file's test predictions are in."""

        def __init__(self, predictions: Predictions) -> None:
            super().__init__()
            self.predictions = predictions

    class NotScored(Message):
        """A model file's test predictions will not come: ``reason`` says why."""

        def __init__(self, reason: str) -> None:
            super().__init__()
            self.reason = reason

    END_PROCESSES_ON_EXIT = True
    """End every trainer and model process when the app exits (scripts that reuse a model across apps do not)."""
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute, so that subclasses elsewhere find it
    TITLE = "mnist-tui"
    BINDINGS = bindings("app")

    def __init__(
        self,
        config: TrainConfig | None = None,
        *,
        trainer_factory: TrainerFactory = keras_trainer,
        predictions: Predictions | None = None,
        model: ModelHandle | None = None,
        threaded: bool = True,
        freeze_heap: bool = False,
        handle_signals: bool = False,
        title: str = "Results",
        plan: ResumePlan | None = None,
        say_interrupted: bool = False,
        to_score: ToScore | None = None,
        open_model: Callable[[], ModelHandle] | None = None,
        sweep_launcher: SweepLauncher = launch_sweep,
    ) -> None:
        super().__init__()
        self.sweep_launcher = sweep_launcher
        self.initial_plan = plan
        """The first run resumes a recorded one, or trains one further (``--resume``, ``--continue``)."""
        self.say_interrupted_at_start = say_interrupted
        self.freeze_heap = freeze_heap
        self.handle_signals = handle_signals
        self.session = Session(config or TrainConfig())
        self.trainer_factory = trainer_factory
        self.initial_predictions = predictions
        self.initial_model = model
        self.initial_title = title
        self.to_score = to_score
        self.open_model = open_model
        self.first_results: ResultsScreen | None = None
        """The results browser the app opened on (``predictions`` or ``to_score``)."""
        self.predicting: ResultsScreen | None = None
        """The results browser of ``to_score`` while its predictions are coming."""
        self.threaded = threaded
        self.trainer: Trainer | None = None
        self.exiting = False
        self.exit_signal: int | None = None
        self.ending_processes: threading.Thread | None = None
        """The trainer and model processes being ended on quit, once ``q`` was pressed."""

    @property
    def config(self) -> TrainConfig:
        """The options of the run training now, or of the last one."""
        return self.session.config

    @config.setter
    def config(self, config: TrainConfig) -> None:
        self.session.config = config

    def get_default_screen(self) -> Screen:
        # The first screen is the default screen, so no key press is lost to an empty one.
        if self.to_score is not None:
            job = self.to_score
            title = f"{job.path.name} · predicting…"
            self.predicting = ResultsScreen.predicting(job.images, job.labels, title=title, model=self.initial_model)
            self.first_results = self.predicting
            return self.predicting
        if self.initial_predictions is not None:
            self.call_after_refresh(self._freeze_heap)
            results = RunResults(self.initial_predictions, self.initial_model, self.initial_title)
            self.session.last_results = results
            self.first_results = self._results_screen(results)
            return self.first_results
        if self.initial_plan is not None:
            return self._training_screen(self.initial_plan.config, self.initial_plan)
        return self._training_screen(self.config)

    def on_mount(self) -> None:
        if self.open_model is not None:
            self.call_after_refresh(self._start_model)
        elif self.to_score is not None and self.initial_model is not None:
            self._score_file(self.to_score, self.initial_model)
        if self.say_interrupted_at_start and self.initial_plan is None:
            self.call_after_refresh(self.say_interrupted)
        if self.handle_signals:
            loop = asyncio.get_running_loop()
            for signum in EXIT_SIGNALS:
                loop.add_signal_handler(signum, self.exit_on_signal, signum)

    def _freeze_heap(self) -> None:
        if self.freeze_heap:
            gc.freeze()

    # ------------------------------------------------------------------ a model file's predictions

    def _start_model(self) -> None:
        """The first frame is painted: start the first results' model, and ask it for the predictions still to come."""
        open_model, self.open_model = self.open_model, None
        if open_model is None or self.exiting:
            return
        try:
            model = open_model()
        except Exception as exc:  # a process that cannot start: said where the predictions would be, or at least once
            traceback.print_exc()
            reason = f"The model process could not start: {one_line(exc)}"
            if self.predicting is None:
                self.notify(reason, severity="error", timeout=8)
            self._no_predictions(reason)
            return
        self.initial_model = model
        if self.first_results is not None:
            self.first_results.set_model(model)
        last = self.session.last_results
        if last is not None and last.model is None and last.predictions is self.initial_predictions:
            self.session.last_results = RunResults(last.predictions, model, last.title)
        if self.to_score is not None and self.predicting is not None:
            self._score_file(self.to_score, model)

    @work(thread=True, exclusive=True, group="score-file")
    def _score_file(self, job: ToScore, model: ModelHandle) -> None:
        """Ask the model process for the test predictions (once it has loaded the model), then keep them."""
        cancel = get_current_worker().cancelled_event
        spare.hold()  # the next spare's import waits until the predictions are in
        try:
            probabilities = predict_all(
                model, job.images, progress=lambda done: self.post_message(self.Predicted(done)), cancel=cancel
            )
            predictions = Predictions(job.images, job.labels, probabilities)
            predictions.per_digit_accuracy()  # the summary's figures, computed here rather than on the UI thread
        except ModelServerError as exc:
            self.post_message(self.NotScored(str(exc)))
            return
        except Exception as exc:  # never lost: said on screen, the details in the log
            traceback.print_exc()
            self.post_message(self.NotScored(one_line(exc)))
            return
        finally:
            spare.release()
        if job.checksum is not None:
            keep(job.checksum, predictions, job.cache_dir)  # the next open of the same file shows them at once
        self.post_message(self.Scored(predictions))

    @on(Predicted)
    def _predicted(self, message: Predicted) -> None:
        if self.predicting is not None:
            self.predicting.show_progress(message.done)

    @on(Scored)
    def _scored(self, message: Scored) -> None:
        screen, self.predicting = self.predicting, None
        if screen is None or self.to_score is None:
            return
        predictions = message.predictions
        title = f"{self.to_score.path.name} · test accuracy {predictions.accuracy:.2%}"
        self.session.last_results = RunResults(predictions, self.initial_model, title)
        screen.fill_in(predictions, title)
        self.call_after_refresh(self._freeze_heap)

    @on(NotScored)
    def _not_scored(self, message: NotScored) -> None:
        self._no_predictions(message.reason)

    def _no_predictions(self, reason: str) -> None:
        screen, self.predicting = self.predicting, None
        if screen is not None and self.to_score is not None:
            screen.sub_title = f"{self.to_score.path.name} · no predictions"
            screen.not_predicted(reason)

    def _stop_predicting(self, reason: str) -> None:
        """A new run starts before a model file's predictions came: its model process ends, and its browser says why."""
        self.open_model = None  # not started yet: it never will be
        if self.predicting is None:
            return
        self.workers.cancel_group(self, "score-file")
        close_model(self.initial_model, reason)
        self._no_predictions(reason)

    # ------------------------------------------------------------------ runs

    def _training_screen(self, config: TrainConfig, plan: ResumePlan | None = None) -> TrainingScreen:
        self.config = config
        self.trainer = self.trainer_factory(config)
        if plan is not None and hasattr(self.trainer, "plan"):
            self.trainer.plan = plan  # a recording trainer resumes the run, or records its parent
        return TrainingScreen(
            self.trainer, threaded=self.threaded, earlier_results=self.session.last_results is not None
        )

    @staticmethod
    def _results_screen(results: RunResults) -> ResultsScreen:
        return ResultsScreen(
            results.predictions,
            title=results.title,
            model=results.model,
            run_dir=results.run_dir,
            run_id=results.run_id,
        )

    def start_training(self, config: TrainConfig, plan: ResumePlan | None = None) -> None:
        """Start a new run on a fresh training screen, letting go of every screen of the last run.

        ``plan``: resume a recorded run, or train a finished one further (its ``config`` is the plan's).
        """
        self.cancel_runs()
        self._stop_predicting("The model was closed when a new run started, before its predictions came.")
        self._close_last_model()
        # after the dialog that asked for the run has left the stack
        self.call_after_refresh(self._replace_screens, config, plan)

    @on(RunsScreen.GoOn)
    def _go_on(self, message: RunsScreen.GoOn) -> None:
        self.start_training(message.plan.config, message.plan)

    def say_interrupted(self) -> None:
        """Say once, at start, that a run was interrupted in the last day and can resume (with the keys)."""
        try:
            store = self.session.open_store()
            run = recent_interrupted(store.list_runs(), time.time())
        except StoreError:
            return
        if run is not None:
            where = resumable(run)
            at = f" at epoch {where[0]} of {where[1]}" if where else ""
            self.notify(
                f"Run {run.id} ({run.name}) was interrupted{at}. R opens the runs screen; r there resumes it.",
                title="Interrupted run",
                timeout=12,
            )

    def _close_last_model(self) -> None:
        """End the last run's model process as a new run starts: two TensorFlow processes would share the cores.

        Its results stay browsable (``r``) without a model: drawing, why-maps and saving
        then say why. A recorded run's model opens again from the runs screen.
        """
        last = self.session.last_results
        if last is None or last.model is None:
            return
        reason = "The model was closed when a new run started."
        if last.run_id is not None:
            reason += f" Open run {last.run_id} from the runs screen (R) to use it again."
        close_model(last.model, reason)

    @on(TrainAgain)
    def train_again(self) -> None:
        """Ask for the options of a new run (the last run's are filled in), then start it."""

        def start(config: TrainConfig | None) -> None:
            if config is not None:
                self.start_training(config)

        self.push_screen(TrainForm(self.config), start)

    @on(NewSweep)
    def new_sweep(self) -> None:
        """Ask for a sweep (the current run's options fix what it does not search), then start it and show it live."""
        store = self._store()
        if store is not None:
            self._ask_for_sweep(store)

    @work(thread=True, exclusive=True, group="sweep-form")
    def _ask_for_sweep(self, store: RunStore) -> None:
        from .runs.trials import list_sweeps
        from .sweeps import launch, study  # noqa: F401 -- Optuna loads here, not on the form's first key

        try:
            taken = {sweep.name for sweep in list_sweeps(store)}
        except Exception as exc:  # the store: said on screen
            self._from_thread(self.notify, one_line(exc), title="Run store", severity="error", timeout=8)
            return
        form = SweepForm(self.config, launch.default_name(), taken)
        self._from_thread(self.push_screen, form, partial(self._start_sweep, store))

    def _start_sweep(self, store: RunStore, request: SweepRequest | None) -> None:
        if request is not None:
            self.notify(f"Starting sweep {request.name}…", title="Sweep", timeout=4)
            self._run_sweep(store, request)

    @work(thread=True, group="sweeps")
    def _run_sweep(self, store: RunStore, request: SweepRequest) -> None:
        """Start ``mnist-tui sweep`` in a process, open its screen once its study exists, then say how it ended."""
        try:
            error = self._follow_sweep(store, request)
        except Exception as exc:  # never lost: said on screen, the details in the log
            traceback.print_exc()
            error = one_line(exc)
        if not get_current_worker().is_cancelled:
            self._from_thread(self._sweep_ended, request.name, error)

    def _follow_sweep(self, store: RunStore, request: SweepRequest) -> str | None:
        """Launch the sweep, open its screen, wait for its end; returns why it failed (None: it finished)."""
        from .runs.trials import sweep_storage
        from .sweeps.view import load_view

        worker = get_current_worker()
        try:
            started = self.sweep_launcher(request, store.home)
        except Exception as exc:  # no Python to run, the app quitting, a full disk
            return f"cannot start: {one_line(exc)}"
        deadline = time.monotonic() + SWEEP_START_S
        while (storage := sweep_storage(store, request.name)) is None:  # registered once its study exists
            if worker.is_cancelled:
                return None
            if not started.running():
                return started.why_ended()
            if time.monotonic() > deadline:
                return f"not started after {SWEEP_START_S:.0f} s; see {started.log}"
            time.sleep(0.1)
        view = load_view(request.name, storage)
        self._from_thread(self.push_screen, SweepScreen(view, partial(load_view, request.name, storage), live=True))
        while started.running() and not worker.is_cancelled:
            time.sleep(0.25)
        return None if started.process.exitcode in (0, None) else started.why_ended()

    def _from_thread(self, callback: Callable[..., object], *args, **kwargs) -> None:
        """Run ``callback`` on the UI thread, unless the app has closed meanwhile."""
        if self.exiting:
            return
        try:
            self.call_from_thread(callback, *args, **kwargs)
        except RuntimeError:  # the app's loop is gone
            pass

    def _sweep_ended(self, name: str, error: str | None) -> None:
        """Say how a sweep started here ended: its last words when it failed."""
        if self.exiting:
            return
        if error is None:
            self.notify(f"Sweep {name} has finished. W opens it again.", title="Sweep", timeout=8)
        else:
            self.notify(f"Sweep {name}: {error}", title="Sweep stopped", severity="error", timeout=12)

    def _replace_screens(self, config: TrainConfig, plan: ResumePlan | None = None, waited: int = 0) -> None:
        if self.exiting:
            return
        if waited < 100 and not all(widget.is_mounted for widget in self.screen.walk_children(Widget, with_self=True)):
            # A run asked for again before the last one's screen has mounted (keys typed
            # ahead): Textual cannot pop a screen whose widgets are still mounting.
            self.call_after_refresh(self._replace_screens, config, plan, waited + 1)
            return
        if self.freeze_heap:
            gc.unfreeze()  # the last run's results may be collected now
        while len(self.screen_stack) > 1:
            self.pop_screen()
        # The first screen cannot be replaced (Textual keeps a default screen); it lets go
        # of its run instead, so only the new run's trainer and model stay in memory.
        base = self.screen_stack[0]
        if isinstance(base, TrainingScreen):
            base.retire()
        self.push_screen(self._training_screen(config, plan))

    @on(TrainingScreen.Done)
    def _training_done(self, message: TrainingScreen.Done) -> None:
        result = message.result
        model_path, run_dir = run_paths(self.trainer)
        how = "stopped early" if result.stopped_early else "trained"
        name = model_path.name if model_path is not None else f"{self.config.arch} {how}"
        title = f"{name} · test accuracy {result.test_accuracy:.2%}"
        run_id = self.trainer.run_id if isinstance(self.trainer, RecordingTrainer) else None
        previous = self.session.last_results
        self.session.last_results = RunResults(result.predictions, result.model, title, run_dir, run_id)
        if previous is not None and previous.model is not result.model:
            close_model(previous.model)  # closed when this run started, unless it came another way
        if isinstance(self.screen, TrainingScreen):
            self.show_last_results()
        else:  # the person is looking at something else (the runs screen, a dialog): never move them
            self.notify(
                f"{title}. Its results open with r on the training screen.",
                title="Run finished",
                timeout=10,
            )

    @on(ShowLastResults)
    def show_last_results(self) -> None:
        """Open the results browser on the latest run that finished."""
        if self.session.last_results is None:
            return
        self.push_screen(self._results_screen(self.session.last_results))
        self.call_after_refresh(self._freeze_heap)

    def cancel_runs(self) -> None:
        """Ask every running trainer to stop at once."""
        for screen in self.screen_stack:
            if isinstance(screen, TrainingScreen):
                screen.cancel()

    # ------------------------------------------------------------------ recorded runs

    def action_runs(self) -> None:
        """The runs screen: every recorded run, the one training now included."""
        if isinstance(self.screen, RunsScreen):
            return
        store = self._store()
        if store is not None:
            self.push_screen(RunsScreen(store, test_set=self.session.test_set))

    def action_sweeps(self) -> None:
        """The newest sweep's screen, live while its workers run (read from its study, off the UI thread)."""
        if isinstance(self.screen, SweepScreen):
            return
        store = self._store()
        if store is not None:
            self._open_sweep(store)

    @work(thread=True, exclusive=True, group="open-sweep")
    def _open_sweep(self, store: RunStore) -> None:
        from .runs.trials import list_sweeps
        from .sweeps.view import load_view

        try:
            sweeps = list_sweeps(store)
            if not sweeps:
                self.call_from_thread(
                    self.notify, "No sweeps yet: mnist-tui sweep --trials 20 starts one.", title="Sweeps", timeout=6
                )
                return
            newest = sweeps[0]
            view = load_view(newest.name, newest.storage)
        except Exception as exc:  # the store or the study's storage: said on screen
            self.call_from_thread(self.notify, one_line(exc), title="Sweeps", severity="error", timeout=8)
            return
        screen = SweepScreen(view, partial(load_view, newest.name, newest.storage), live=True)
        self.call_from_thread(self.push_screen, screen)

    @on(SweepScreen.OpenTrial)
    def _open_trial(self, message: SweepScreen.OpenTrial) -> None:
        store = self._store()
        if store is not None:
            self.notify(f"Opening run {message.run_id}…", timeout=2)
            self._load_run(store, message.run_id)

    @on(SweepScreen.TrainBest)
    def _train_best(self, message: SweepScreen.TrainBest) -> None:
        self.start_training(message.config)

    @on(SweepScreen.CompareRuns)
    def _compare_trials(self, message: SweepScreen.CompareRuns) -> None:
        from .screens.compare import CompareScreen

        store = self._store()
        if store is not None:
            self.push_screen(CompareScreen(store, message.run_ids, test_set=self.session.test_set))

    def _store(self) -> RunStore | None:
        """The session's run store; ``None`` when it cannot be opened (said on screen)."""
        try:
            return self.session.open_store()
        except StoreError as exc:
            self.notify(str(exc), title="Run store", severity="error", timeout=8)
            return None

    def on_training_screen_event(self, message: TrainingScreen.Event) -> None:
        # the recorder wrote the event before passing it on: the runs screen can show it
        if isinstance(message.event, (EpochEnd, Finished, Failed)):
            for screen in self.screen_stack:
                if isinstance(screen, RunsScreen):
                    screen.reload()

    @on(RunsScreen.OpenRun)
    def _open_run(self, message: RunsScreen.OpenRun) -> None:
        """Open a recorded run's results (MNIST's test images and the run's model load off the UI thread)."""
        store = self._store()
        if store is not None:
            self.notify(f"Opening run {message.run_id}…", timeout=2)
            self._load_run(store, message.run_id)

    @work(thread=True, exclusive=True, group="open-run")
    def _load_run(self, store: RunStore, run_id: int) -> None:
        """Read the run and the test set, start its model's process; a newer open takes over from this one."""
        try:
            opened = open_recorded(store, run_id, self.session.test_set.data)
        except (StoreError, DataError, ValueError) as exc:
            self.post_message(self.RunNotOpened(run_id, str(exc)))
            return
        except Exception as exc:  # never lost: said on screen, the details in the log
            traceback.print_exc()
            self.post_message(self.RunNotOpened(run_id, one_line(exc)))
            return
        self.session.test_set.keep(opened.data)
        if get_current_worker().is_cancelled:
            close_model(opened.model)
        else:
            self.post_message(self.RunOpened(opened))

    @on(RunNotOpened)
    def _run_not_opened(self, message: RunNotOpened) -> None:
        self.notify(f"Cannot open run {message.run_id}: {message.reason}", severity="error", timeout=8)

    @on(RunOpened)
    def _show_opened(self, message: RunOpened) -> None:
        opened = message.opened
        if self.exiting:
            close_model(opened.model)
            return
        if opened.warning:
            self.notify(opened.warning, severity="warning", timeout=8)
        self.push_screen(
            OpenedResults(
                opened.predictions,
                title=opened.title,
                model=opened.model,
                run_dir=opened.run_dir,
            )
        )

    # ------------------------------------------------------------------ leaving

    def push_screen(self, screen, callback=None, wait_for_dismiss=False, *, mode=None):
        """Push a screen, unless the app is on its way out (a key typed right after q)."""
        if self.exiting:
            return AwaitComplete.nothing()
        return super().push_screen(screen, callback, wait_for_dismiss, mode=mode)

    def exit(self, result=None, return_code: int = 0, message=None) -> None:
        """Exit; from now on nothing new is pushed or mounted."""
        self.exiting = True
        spare.disable()  # no spare starts from now on; the one kept ends with the other processes
        self.cancel_runs()
        if self.END_PROCESSES_ON_EXIT and client.live_processes() and self.ending_processes is None:
            # End the trainer and model processes while Textual winds down, not after, on a
            # plain daemon thread that nothing waits for. Not a Textual worker: Textual
            # cancels every worker as the app closes, before its thread would start. Not the
            # event loop's executor either: the loop joins it on close, and a process slow to
            # die (a kill is reaped with the relay thread's lock) then held the quit for
            # 1.3 s (tests/process/test_e2e.py). launch.run_app ends whatever is left after
            # the app has returned.
            self.ending_processes = threading.Thread(
                target=client.end_all, args=(time.monotonic() + QUIT_GRACE,), name="mnist-tui-end-all", daemon=True
            )
            self.ending_processes.start()
        super().exit(result, return_code, message)

    async def action_quit(self) -> None:
        self.exit()

    def exit_on_signal(self, signum: int) -> None:
        """SIGTERM, SIGHUP or SIGINT from outside: leave as q does, with status 128 + the signal."""
        self.exit_signal = signum
        self.exit(return_code=128 + signum)

    # ------------------------------------------------------------------ command palette

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every action the current screen offers now, by the name a person would search for, then Textual's own.

        Only the screen's own keys are commands: a focused widget's (a table's "Cursor
        left", "Page Left") are not what a person looks for here. Textual's "Maximize"
        (of the focused table) is left out, and a name comes once (the screen's "Quit"
        stands for Textual's).
        """
        names: set[str] = set()
        seen: set[str] = set()
        for node, binding, enabled, tooltip in screen.active_bindings.values():
            if not enabled or not binding.description or binding.action in seen or node is not screen:
                continue
            seen.add(binding.action)
            title, text = command(getattr(screen, "KEYS", ""), binding.action) or (
                binding.description,
                tooltip or binding.description,
            )
            shown = binding.key_display or self.get_key_display(binding)
            names.add(title.lower())
            yield SystemCommand(title, f"{text} (key: {shown})", partial(self._run_binding, node, binding.action))
        for system in super().get_system_commands(screen):
            if system.title in HIDDEN_SYSTEM_COMMANDS or system.title.lower() in names:
                continue
            names.add(system.title.lower())
            yield system

    def _run_binding(self, node, action: str) -> None:
        self.call_later(self.run_action, action, node)


class OpenedResults(ResultsScreen):
    """The results of a recorded run opened from the runs screen: its model process ends with it."""

    def on_unmount(self) -> None:
        close_model(self.model)


@runtime_checkable
class Closable(Protocol):
    """A model served by a process of its own, which ``close`` ends (``reason``: what later requests say)."""

    def close(self, reason: str | None = None) -> None: ...


def close_model(model: ModelHandle | None, reason: str | None = None) -> None:
    """End the process serving ``model``, when it is served by one; ``reason`` is what it says when asked later."""
    if isinstance(model, Closable):
        if reason is None:
            model.close()
        else:
            model.close(reason)
