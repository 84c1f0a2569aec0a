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
from tests.support.pilot import wait_until

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
        assert {"Mistakes only", "Confusion matrix", "Draw a digit", "Train again", "Save the model", "Quit"} <= set(
            titles
        )
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
        await wait_until(pilot, lambda: isinstance(app.screen, ResultsScreen))
        first = app.screen
        app.start_training(TrainConfig(epochs=2))
        # waited for, not slept for: on a loaded machine (two test workers, 2 cores) 0.3 s was too little
        await wait_until(pilot, lambda: isinstance(app.screen, TrainingScreen) and app.screen.failure is not None)
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, ResultsScreen))
        assert app.screen.predictions is first.predictions


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


async def stages_after(events: list) -> tuple[list[str], str, str]:
    """The training screen's stages, their line and its status after ``events``."""
    app = MnistApp(trainer_factory=lambda c: fakes.ScriptedTrainer(events), threaded=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.1)
        screen = app.screen
        return list(screen.stages), str(screen.query_one("#stages").render()), str(screen.status)


async def test_a_spare_still_importing_says_so_first_and_the_plan_follows():
    tf, data = Stage("Loading TensorFlow"), Stage("Loading data", "/d")
    # the spare's stage as the run takes it: TensorFlow first, the data still to come (not ticked)
    stages, line, status = await stages_after([tf])
    assert stages[:2] == ["Loading TensorFlow", "Loading data"]
    assert line.startswith("● TensorFlow  ○ Data") and status == "Loading TensorFlow…"
    # then the run's own stages, its instant TensorFlow one after the data not a step back
    stages, line, status = await stages_after([tf, data, tf])
    assert stages[:3] == ["Loading TensorFlow", "Loading data", "Building model"]
    assert line.startswith("✓ TensorFlow  ● Data  ○ Model") and status == "Loading data (/d)…"
    stages, line, _ = await stages_after([tf, *fakes.PREFIX])
    assert stages == ["Loading TensorFlow", "Loading data", "Building model", "Training", "Evaluating"]
    assert line.startswith("✓ TensorFlow  ✓ Data  ✓ Model  ● Training")


# ---------------------------------------------------------------------- stopping early (issue 26, item 2)


async def test_a_stop_shows_the_batches_up_to_it_and_the_bars_stay_where_it_stopped():
    from textual.widgets import DataTable, ProgressBar

    from mnist_tui.events import Finished
    from mnist_tui.widgets.metric import MetricSpark

    config = TrainConfig(epochs=1)
    stop = fakes.stopped_at(1, 150)  # the last batch event said batch 100: 50 batches came after it
    predictions = fakes.fake_predictions()
    events = [
        *fakes.PREFIX[:3],
        fakes.started(config),
        Stage("Training"),
        *fakes.batches(1, 100),
        stop,
        fakes.epoch(1, 1),  # Keras ends the epoch the stop cut short, with validation
        Stage("Evaluating"),
        Finished({}, 0.1, predictions.accuracy, predictions, stopped_early=True, seconds=3.0),
    ]
    app = MnistApp(trainer_factory=lambda c: fakes.ScriptedTrainer(events), threaded=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.2)
        training = next(s for s in app.screen_stack if isinstance(s, TrainingScreen))
        spark = training.query_one("#batch-loss", MetricSpark)
        assert len(spark.values) == 1 + 50 and spark.values[-1] == stop.loss  # the legend's latest value
        assert training.query_one("#batch-accuracy", MetricSpark).values[-1] == stop.accuracy
        assert training.run_losses[-1] == stop.loss
        epoch_bar, run_bar = (
            training.query_one("#epoch-progress", ProgressBar),
            training.query_one("#run-progress", ProgressBar),
        )
        assert (epoch_bar.progress, epoch_bar.total) == (150, fakes.STEPS)
        assert (run_bar.progress, run_bar.total) == (150, fakes.STEPS)  # not 100%
        assert "Stopped at batch 150 of 1,875" in str(training.query_one("#status").render())
        assert "part" in str(training.query_one("#epochs", DataTable).get_row_at(0)[0])


# ---------------------------------------------------------------------- a killed trainer (issue 26, item 4)


def test_a_sigkill_is_described_as_what_is_known():
    import signal

    from mnist_tui.worker.processes import died

    failed = died(-signal.SIGKILL)
    assert failed.message == (
        "The training process was killed by SIGKILL: from outside, or by the system when memory ran out."
    )
    assert "most likely" not in failed.hint and "(r)" not in failed.hint and "Earlier" not in failed.hint
    assert died(3).message == "The training process exited with status 3." and "(r)" not in died(3).hint


async def test_a_first_run_killed_offers_only_keys_that_work_and_the_others_say_why():
    import signal

    from mnist_tui.worker.processes import died

    notices: list[str] = []
    app = MnistApp(
        trainer_factory=lambda c: fakes.ScriptedTrainer([*fakes.PREFIX, died(-signal.SIGKILL)]), threaded=False
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.2)
        screen = app.screen
        assert isinstance(screen, TrainingScreen) and screen.failure is not None
        error = str(screen.query_one("#error").render())
        assert "from outside, or by the system when memory ran out" in error
        assert "Earlier results" not in error and "(r)" not in error and "r opens" not in error
        footer = [str(key.description) for key in screen.query(FooterKey)]
        assert "Results" not in footer and "Stop early" not in footer and "Train" in footer
        app.notify = lambda message, **kwargs: notices.append(str(message))  # type: ignore[method-assign]
        await pilot.press("r", "s")
        await pilot.pause(0.1)
        assert app.screen is screen  # nothing opened
        assert notices == [
            "No results to open: this run failed, and no run finished before it.",
            "The run failed: there is nothing to stop.",
        ]


async def test_while_training_the_keys_of_a_finished_run_say_why_they_wait():
    notices: list[str] = []
    app = MnistApp(trainer_factory=lambda c: fakes.ScriptedTrainer(fakes.MID_TRAINING), threaded=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.2)
        screen = app.screen
        app.notify = lambda message, **kwargs: notices.append(str(message))  # type: ignore[method-assign]
        await pilot.press("r", "t")
        assert app.screen is screen and len(notices) == 2
        assert all("s stops it early" in notice for notice in notices)


# ---------------------------------------------------------------------- the training screen's help and palette (item 15)


async def test_question_mark_opens_the_help_on_the_training_screen():
    from mnist_tui.screens.dialogs import HelpScreen

    app = MnistApp(trainer_factory=lambda c: fakes.ScriptedTrainer(fakes.MID_TRAINING), threaded=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.2)
        training = app.screen
        await pilot.press("question_mark")
        await pilot.pause(0.1)
        assert isinstance(app.screen, HelpScreen)
        text = " ".join(f"{row.keys} {row.text}" for row in training.help_rows())
        assert "stop early" in text and "log scale" in text
        await pilot.press("escape")
        assert app.screen is training


async def test_the_training_screens_palette_offers_its_own_actions_once_each():
    app = MnistApp(trainer_factory=lambda c: fakes.ScriptedTrainer(fakes.MID_TRAINING), threaded=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.2)
        screen = app.screen
        screen.query_one("#epochs").focus()  # a focused table brings its own keys and "Maximize"
        await pilot.pause(0.1)
        titles = [command.title for command in app.get_system_commands(screen)]
        assert len(titles) == len(set(titles)), titles
        assert titles.count("Quit") == 1
        for widget_only in ("Cursor left", "Page Left", "Page Right", "Cursor up", "Maximize", "Minimize"):
            assert widget_only not in titles
        assert {
            "Stop training early",
            "Log scale on the loss charts",
            "Recorded runs",
            "Help: keys of this screen",
        } <= set(titles)
        assert "Results: browse the test images" not in titles  # not while it trains


@pytest.mark.parametrize(("query", "title"), [("confusion", "Confusion matrix"), ("weights", "Learned weights")])
async def test_the_palette_finds_the_results_views_by_the_words_a_person_types(query, title):
    app = MnistApp(predictions=fakes.fake_predictions(), model=fakes.TemplateModel())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.1)
        await pilot.press("ctrl+p")
        await pilot.pause(0.1)
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        palette.query_one(Input).value = query
        await pilot.pause(0.5)
        from textual.command import CommandList

        found = [str(option.prompt) for option in palette.query_one(CommandList)._options]
        assert any(title in text for text in found), found


# ---------------------------------------------------------------------- the whole-run chart keeps up (item 10)


async def test_the_whole_run_chart_is_never_more_than_a_quarter_second_behind_the_status():
    from mnist_tui.events import BatchEnd
    from mnist_tui.widgets.chart import LineChart

    # batch events 0.3 s of training apart, as a throttled trainer sends them
    events = [*fakes.PREFIX, *(BatchEnd(1, 100 * i, fakes.STEPS, 0.5 / i, 0.9, 0.3 * i) for i in range(1, 9))]
    app = MnistApp(trainer_factory=lambda c: fakes.ScriptedTrainer(events), threaded=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.2)
        series = app.screen.query_one("#run-loss", LineChart)._series["batch loss"]
        assert series.x[-1] == pytest.approx(800 / fakes.STEPS)  # the batch the status line shows
        assert "batch 800/1,875" in str(app.screen.query_one("#status").render())


# ---------------------------------------------------------------------- the CNN's model panel (item 11)


async def test_the_cnn_model_panel_shows_every_layer_and_the_parameter_count_at_120x40():
    events = [*fakes.PREFIX[:3], fakes.started_cnn(), *fakes.PREFIX[4:], *fakes.batches(1, 600)]
    app = MnistApp(trainer_factory=lambda c: fakes.ScriptedTrainer(events), threaded=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.2)
        panel = app.screen.query_one("#model")
        assert "454,922 parameters" in str(panel.border_title)
        layers = fakes.CNN_SUMMARY.splitlines()
        assert len(layers) == 9
        assert panel.scrollable_content_region.height >= len(layers) and panel.scroll_y == 0
        shown = [app.screen.get_widget_at(panel.content_region.x, panel.content_region.y + row)[0] for row in range(9)]
        assert all(widget.id == "model-text" for widget in shown)  # every layer's row is on screen
