"""The Textual application: wires a trainer to the training screen, then opens the results."""

from __future__ import annotations

import asyncio
import gc
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from textual import on
from textual.app import App, SystemCommand
from textual.await_complete import AwaitComplete
from textual.binding import Binding
from textual.screen import Screen

from .config import TrainConfig
from .events import EpochEnd, Failed, Finished, ModelHandle, one_line
from .predictions import Predictions
from .screens.results import ResultsScreen
from .screens.training import Trainer, TrainingScreen
from .worker import client
from .worker.client import ProcessTrainer
from .worker.protocol import ScoreJob, TrainJob

TrainerFactory = Callable[[TrainConfig], Trainer]
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


@dataclass(frozen=True)
class RunResults:
    """What the results browser of a finished run needs, kept so it can be reopened."""

    predictions: Predictions
    model: ModelHandle | None
    title: str
    run_dir: Path | None = None


class MnistApp(App):
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
    """

    END_PROCESSES_ON_EXIT = True
    """End every trainer and model process when the app exits (scripts that reuse a model across apps do not)."""
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute, so that subclasses elsewhere find it
    TITLE = "mnist-tui"
    BINDINGS = [
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        Binding("R", "runs", "Runs", show=False),
    ]

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
    ) -> None:
        super().__init__()
        self.freeze_heap = freeze_heap
        self.handle_signals = handle_signals
        self.config = config or TrainConfig()
        self.trainer_factory = trainer_factory
        self.initial_predictions = predictions
        self.initial_model = model
        self.initial_title = title
        self.threaded = threaded
        self.trainer: Trainer | None = None
        self.last_results: RunResults | None = None
        self.exiting = False
        self.exit_signal: int | None = None
        self._test_set = None  # MNIST, once a recorded run needed its test images

    def get_default_screen(self) -> Screen:
        # The first screen is the default screen, so no key press is lost to an empty one.
        if self.initial_predictions is not None:
            self.call_after_refresh(self._freeze_heap)
            self.last_results = RunResults(self.initial_predictions, self.initial_model, self.initial_title)
            return ResultsScreen(self.initial_predictions, title=self.initial_title, model=self.initial_model)
        return self._training_screen(self.config)

    def on_mount(self) -> None:
        if self.handle_signals:
            loop = asyncio.get_running_loop()
            for signum in EXIT_SIGNALS:
                loop.add_signal_handler(signum, self.exit_on_signal, signum)

    def _freeze_heap(self) -> None:
        if self.freeze_heap:
            gc.freeze()

    # ------------------------------------------------------------------ runs

    def _training_screen(self, config: TrainConfig) -> TrainingScreen:
        self.config = config
        self.trainer = self.trainer_factory(config)
        return TrainingScreen(self.trainer, threaded=self.threaded)

    def start_training(self, config: TrainConfig) -> None:
        """Start a new run on a fresh training screen, letting go of every screen of the last run."""
        self.cancel_runs()
        # after the dialog that asked for the run has left the stack
        self.call_after_refresh(self._replace_screens, config)

    def train_again(self) -> None:
        """Ask for the options of a new run (the last run's are filled in), then start it."""
        from .screens.forms import TrainForm

        def start(config: TrainConfig | None) -> None:
            if config is not None:
                self.start_training(config)

        self.push_screen(TrainForm(self.config), start)

    def _replace_screens(self, config: TrainConfig) -> None:
        if self.exiting:
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
        self.push_screen(self._training_screen(config))

    @on(TrainingScreen.Done)
    def _training_done(self, message: TrainingScreen.Done) -> None:
        result = message.result
        model_path = getattr(self.trainer, "model_path", None)
        how = "stopped early" if result.stopped_early else "trained"
        name = model_path.name if model_path is not None else f"{self.config.arch} {how}"
        title = f"{name} · test accuracy {result.test_accuracy:.2%}"
        run_dir = getattr(self.trainer, "run_dir", None)
        previous, self.last_results = self.last_results, RunResults(result.predictions, result.model, title, run_dir)
        if previous is not None and previous.model is not result.model:
            close_model(previous.model)  # the new run replaces it: its process ends
        self.show_last_results()

    def show_last_results(self) -> None:
        """Open the results browser on the latest run that finished."""
        if self.last_results is None:
            return
        results = self.last_results
        self.push_screen(
            ResultsScreen(results.predictions, title=results.title, model=results.model, run_dir=results.run_dir)
        )
        self.call_after_refresh(self._freeze_heap)

    def cancel_runs(self) -> None:
        """Ask every running trainer to stop at once."""
        for screen in self.screen_stack:
            if isinstance(screen, TrainingScreen):
                screen.cancel()

    # ------------------------------------------------------------------ recorded runs

    def action_runs(self) -> None:
        """The runs screen: every recorded run, the one training now included."""
        from .runs import StoreError, open_store
        from .screens.runs import RunsScreen

        if isinstance(self.screen, RunsScreen):
            return
        try:
            store = open_store()
        except StoreError as exc:
            self.notify(str(exc), title="Run store", severity="error", timeout=8)
            return
        self.push_screen(RunsScreen(store))

    def on_training_screen_event(self, message: TrainingScreen.Event) -> None:
        # the recorder wrote the event before passing it on: the runs screen can show it
        if isinstance(message.event, (EpochEnd, Finished, Failed)):
            from .screens.runs import RunsScreen

            for screen in self.screen_stack:
                if isinstance(screen, RunsScreen):
                    screen.reload()

    def on_runs_screen_open_run(self, message) -> None:
        """Open a recorded run's results (loading MNIST's test images off the UI thread)."""
        from .screens.runs import RunsScreen

        store = next(screen.store for screen in reversed(self.screen_stack) if isinstance(screen, RunsScreen))
        run_id = message.run_id
        self.notify(f"Opening run {run_id}…", timeout=2)
        threading.Thread(target=self._load_run, args=(store, run_id), name="mnist-tui-open-run", daemon=True).start()

    def _load_run(self, store, run_id: int) -> None:
        from .data import DataError
        from .recorded import open_recorded
        from .runs import StoreError

        try:
            opened = open_recorded(store, run_id, self._test_set)
        except (StoreError, DataError, ValueError) as exc:
            self.call_from_thread(self.notify, f"Cannot open run {run_id}: {exc}", severity="error", timeout=8)
            return
        except Exception as exc:  # never lost: said on screen, the details in the log
            traceback.print_exc()
            self.call_from_thread(
                self.notify, f"Cannot open run {run_id}: {one_line(exc)}", severity="error", timeout=8
            )
            return
        self._test_set = opened.data
        self.call_from_thread(self._show_opened, opened)

    def _show_opened(self, opened) -> None:
        if self.exiting:
            close_model(opened.model)
            return
        if opened.warning:
            self.notify(opened.warning, severity="warning", timeout=8)
        self.push_screen(
            OpenedResults(opened.predictions, title=opened.title, model=opened.model, run_dir=opened.run_dir)
        )

    # ------------------------------------------------------------------ leaving

    def push_screen(self, screen, callback=None, wait_for_dismiss: bool = False, *, mode=None):  # type: ignore[override]
        """Push a screen, unless the app is on its way out (a key typed right after q)."""
        if self.exiting:
            return AwaitComplete.nothing()
        return super().push_screen(screen, callback, wait_for_dismiss, mode=mode)

    def exit(self, result=None, return_code: int = 0, message=None) -> None:  # type: ignore[override]
        """Exit; from now on nothing new is pushed or mounted."""
        self.exiting = True
        self.cancel_runs()
        if self.END_PROCESSES_ON_EXIT and client.live_processes():
            # end the trainer and model processes while Textual winds down, not after
            threading.Thread(target=client.end_all, args=(time.monotonic() + QUIT_GRACE,), daemon=True).start()
        super().exit(result, return_code, message)

    async def action_quit(self) -> None:
        self.exit()

    def exit_on_signal(self, signum: int) -> None:
        """SIGTERM, SIGHUP or SIGINT from outside: leave as q does, with status 128 + the signal."""
        self.exit_signal = signum
        self.exit(return_code=128 + signum)

    # ------------------------------------------------------------------ command palette

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's own commands (theme, keys, ...), then every action the current screen offers."""
        yield from super().get_system_commands(screen)
        seen: set[str] = set()
        for node, binding, enabled, tooltip in screen.active_bindings.values():
            if not enabled or not binding.description or binding.action in seen or node is self:
                continue
            seen.add(binding.action)
            shown = binding.key_display or self.get_key_display(binding)
            yield SystemCommand(
                binding.description,
                f"{tooltip or binding.description} (key: {shown})",
                partial(self._run_binding, node, binding.action),
            )

    def _run_binding(self, node, action: str) -> None:
        self.call_later(self.run_action, action, node)


class OpenedResults(ResultsScreen):
    """The results of a recorded run opened from the runs screen: its model process ends with it."""

    def on_unmount(self) -> None:
        close_model(self.model)


def close_model(model: ModelHandle | None) -> None:
    """End the process serving ``model``, when it is served by one."""
    close = getattr(model, "close", None)
    if close is not None:
        close()
