"""What a first-time user ran into: keys after q, the command palette, clear failures, the footer after a failure."""

from __future__ import annotations

import pytest
from textual.app import App
from textual.command import CommandPalette
from textual.widgets import Input
from textual.widgets._footer import FooterKey

from mnist_tui.app import MnistApp
from mnist_tui.config import TrainConfig
from mnist_tui.events import Failed, Stage
from mnist_tui.predictions import ViewFilter
from mnist_tui.screens.results import ResultsScreen
from mnist_tui.screens.training import TrainingScreen
from mnist_tui.training import KerasTrainer, out_of_memory
from tests.support import fakes

# every key of the results screen that opens a screen or a dialog
SCREEN_KEYS = ["s", "t", "d", "c", "g", "question_mark"]


@pytest.mark.parametrize("key", SCREEN_KEYS)
async def test_a_key_typed_right_after_q_opens_nothing(key, monkeypatch):
    pushed: list[str] = []
    push = App.push_screen

    def recording_push(self, screen, *args, **kwargs):
        pushed.append(type(screen).__name__)
        return push(self, screen, *args, **kwargs)

    monkeypatch.setattr(App, "push_screen", recording_push)
    app = MnistApp(predictions=fakes.fake_predictions(), model=fakes.TemplateModel())
    async with app.run_test(size=(120, 40)):
        screen = app.screen
        (binding,) = [b for k, b in screen._bindings if k == key]
        await screen.run_action("app.quit")
        await screen.run_action(binding.action)  # the key, handled after q began the exit
    assert app.return_code == 0
    assert pushed == [], f"{pushed} pushed while the app was exiting"


async def test_the_command_palette_runs_the_screens_actions_and_stays_out_of_the_footer():
    app = MnistApp(predictions=fakes.fake_predictions(), model=fakes.TemplateModel())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.1)
        footer = " ".join(str(key.description) for key in app.screen.query(FooterKey))
        assert "Mistakes" in footer and "palette" not in footer.lower()
        screen = app.screen
        titles = [command.title for command in app.get_system_commands(screen)]
        assert {"Mistakes", "Matrix", "Draw", "Train", "Save", "Help", "Quit"} <= set(titles)
        assert "Theme" in " ".join(titles)  # Textual's own commands are there too
        await pilot.press("ctrl+p")
        await pilot.pause(0.1)
        assert isinstance(app.screen, CommandPalette)
        app.screen.query_one(Input).value = "Mistakes"
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert app.screen is screen and screen.view == ViewFilter(mistakes_only=True)


async def test_after_a_failure_the_footer_offers_train_again_not_stop():
    app = MnistApp(trainer_factory=lambda c: fakes.ScriptedTrainer(fakes.FAILED), threaded=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.2)
        screen = app.screen
        assert isinstance(screen, TrainingScreen) and screen.failure is not None
        footer = [str(key.description) for key in screen.query(FooterKey)]
        assert "Stop early" not in footer and "Train" in footer
        await pilot.press("t")
        await pilot.pause(0.1)
        assert type(app.screen).__name__ == "TrainForm"


async def test_a_failed_run_leaves_the_last_results_open():
    runs = iter([fakes.finished(), fakes.FAILED])
    app = MnistApp(trainer_factory=lambda c: fakes.ScriptedTrainer(next(runs)), threaded=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.2)
        first = app.screen
        assert isinstance(first, ResultsScreen)
        app.start_training(TrainConfig(epochs=2))
        await pilot.pause(0.3)
        assert isinstance(app.screen, TrainingScreen) and app.screen.failure is not None
        await pilot.press("r")
        await pilot.pause(0.1)
        assert isinstance(app.screen, ResultsScreen) and app.screen.predictions is first.predictions


def test_out_of_memory_says_what_and_how_much():
    error = type("ResourceExhaustedError", (Exception,), {})(
        "{{function_node __wrapped__Mul}} OOM when allocating tensor with shape[784,3000000] and type float "
        "on /job:localhost/replica:0/task:0/device:CPU:0 by allocator cpu [Op:Mul]"
    )
    failed = out_of_memory(error, "building", TrainConfig(hidden_units=3_000_000))
    assert failed is not None
    assert failed.message == "Out of memory while building the model (9.4 GB needed for one tensor)."
    assert "fewer hidden units (it was 3,000,000)" in failed.hint
    assert out_of_memory(MemoryError(), "training", TrainConfig()).message == "Out of memory while training the model."
    assert out_of_memory(ValueError("bad shape"), "training", TrainConfig()) is None


def test_missing_data_is_said_before_tensorflow_loads(tmp_path):
    events: list = []
    KerasTrainer(TrainConfig(data=tmp_path)).run(events.append)
    assert events[0] == Stage("Loading data", str(tmp_path))
    assert isinstance(events[-1], Failed) and "empty" in events[-1].message
    assert Stage("Loading TensorFlow") not in events


async def test_a_jax_run_names_its_backend_in_the_plan():
    events = [Stage("Loading data"), Stage("Loading JAX"), *fakes.PREFIX[2:]]
    app = MnistApp(trainer_factory=lambda c: fakes.ScriptedTrainer(events), threaded=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.1)
        screen = app.screen
        assert screen.stages[:3] == ["Loading data", "Loading JAX", "Building model"]
        assert "JAX" in str(screen.query_one("#stages").render()) and "TensorFlow" not in str(
            screen.query_one("#stages").render()
        )
