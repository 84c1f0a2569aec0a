"""The Textual application: wires a trainer to the training screen, then opens the results."""

from __future__ import annotations

import gc
from collections.abc import Callable
from pathlib import Path

from textual import on
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from .config import TrainConfig
from .events import ModelHandle
from .predictions import Predictions
from .screens.results import ResultsScreen
from .screens.training import Trainer, TrainingScreen

TrainerFactory = Callable[[TrainConfig], Trainer]


def keras_trainer(config: TrainConfig) -> Trainer:
    """The real trainer; imported here so that TensorFlow loads only inside the worker."""
    from .training import KerasTrainer

    return KerasTrainer(config)


def saved_model_scorer(path: Path) -> TrainerFactory:
    def make(config: TrainConfig) -> Trainer:
        from .training import SavedModelScorer

        return SavedModelScorer(path, config)

    return make


class MnistApp(App):
    """Train a digit classifier while watching it learn, then explore its predictions.

    Args:
        config: What to train.
        trainer_factory: Builds the trainer for a configuration (tests inject fakes).
        predictions: Open the results browser on these directly, without training.
        model: The model behind ``predictions``, to draw against (tests inject fakes).
        threaded: Run the trainer in a worker thread (``False``: on the event loop,
            for scripted trainers in tests).
        freeze_heap: Hide the objects alive when results open (TensorFlow, the model,
            the test set) from the garbage collector until the next run. A full
            collection walks all of them otherwise, which added about 180 ms to one key
            in 17 once TensorFlow was loaded (``benchmarks/run.py``). ``mnist-tui`` sets it;
            the objects are released to the collector again by a new run or on exit.
    """

    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute, so that subclasses elsewhere find it
    TITLE = "mnist-tui"
    # every action has a key in the footer or the help screen; the palette would only
    # take footer space that 80 columns cannot spare
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
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
    ) -> None:
        super().__init__()
        self.freeze_heap = freeze_heap
        self.config = config or TrainConfig()
        self.trainer_factory = trainer_factory
        self.initial_predictions = predictions
        self.initial_model = model
        self.threaded = threaded
        self.trainer: Trainer | None = None

    def get_default_screen(self) -> Screen:
        # The first screen is the default screen, so no key press is lost to an empty one.
        if self.initial_predictions is not None:
            self.call_after_refresh(self._freeze_heap)
            return ResultsScreen(self.initial_predictions, model=self.initial_model)
        return self._training_screen(self.config)

    def _freeze_heap(self) -> None:
        if self.freeze_heap:
            gc.freeze()

    def _training_screen(self, config: TrainConfig) -> TrainingScreen:
        self.config = config
        self.trainer = self.trainer_factory(config)
        return TrainingScreen(self.trainer, threaded=self.threaded)

    def start_training(self, config: TrainConfig) -> None:
        """Start a new run on a fresh training screen, letting go of every screen of the last run."""
        self.cancel_runs()
        # after the dialog that asked for the run has left the stack
        self.call_after_refresh(self._replace_screens, config)

    def _replace_screens(self, config: TrainConfig) -> None:
        if self.freeze_heap:
            gc.unfreeze()  # the last run's model may be collected now
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
        self.push_screen(ResultsScreen(result.predictions, title=title, model=result.model))
        self.call_after_refresh(self._freeze_heap)

    def cancel_runs(self) -> None:
        """Ask every running trainer to stop at once."""
        for screen in self.screen_stack:
            if isinstance(screen, TrainingScreen):
                screen.cancel()

    async def action_quit(self) -> None:
        self.cancel_runs()
        self.exit()
