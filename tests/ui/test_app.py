"""Pilot tests: keys do what they say, the training flow reaches the results, quitting stops the run."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from textual.widgets import Input, ProgressBar

from mnist_tui.app import MnistApp
from mnist_tui.events import Failed, Stage
from mnist_tui.predictions import ViewFilter
from mnist_tui.screens.confusion import ConfusionScreen
from mnist_tui.screens.dialogs import GotoDialog, HelpScreen
from mnist_tui.screens.results import ResultsScreen
from mnist_tui.screens.runs import RunsScreen
from mnist_tui.screens.training import TrainingScreen
from mnist_tui.widgets.digit import DigitView
from mnist_tui.widgets.image_list import ImageList
from tests.support import fakes
from tests.support.pilot import wait_until


def results_app() -> MnistApp:
    return MnistApp(predictions=fakes.fake_predictions())


async def test_navigation_keys():
    app = results_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, ResultsScreen) and screen.current == 0
        await pilot.press("right", "l", "j")
        assert screen.current == 3
        await pilot.press("left", "h")
        assert screen.current == 1
        await pilot.press("k")
        assert screen.current == 0
        await pilot.press("left")
        assert screen.current == 0  # stays at the first image
        await pilot.press("end")
        assert screen.current == 199
        await pilot.press("right")
        assert screen.current == 199
        await pilot.press("home", "pagedown")
        page = app.screen.query_one(ImageList).page_size
        assert page > 5 and screen.current == page
        await pilot.press("pageup")
        assert screen.current == 0
        assert screen.query_one(ImageList).cursor == 0


async def test_filters_and_order():
    app = results_app()
    p = app.initial_predictions
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        await pilot.press("e")
        assert screen.view == ViewFilter(mistakes_only=True)
        assert all(p.labels[i] != p.predicted[i] for i in screen.indices)
        assert len(screen.indices) == p.mistakes
        await pilot.press("e", "3")
        assert set(p.labels[screen.indices].tolist()) == {3}
        await pilot.press("a")
        assert len(screen.indices) == len(p)
        await pilot.press("o")
        confidences = p.confidence[screen.indices]
        assert np.all(np.diff(confidences) >= 0)
        await pilot.press("o")  # suspicious labels first: the given label's probability, lowest first
        given = p.probabilities[screen.indices, p.labels[screen.indices]]
        assert np.all(np.diff(given) >= 0)
        await pilot.press("o")
        assert screen.indices.tolist() == list(range(len(p)))


async def test_filter_keeps_current_image_when_possible():
    app = results_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        await pilot.press(*["right"] * 5)  # index 5 is a mistake in the fake predictions
        assert screen.current == 5
        await pilot.press("e")
        assert screen.current == 5


async def test_empty_view_says_so():
    app = results_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        # digit 3 is misread only at indices where i % 8 == 5; pick a digit with no mistakes
        p = app.initial_predictions
        clean = next(d for d in range(10) if not np.any((p.labels == d) & ~p.correct))
        await pilot.press(str(clean), "e")
        assert len(screen.indices) == 0 and screen.current is None
        assert screen.has_class("-empty")
        message = screen.query_one("#empty")
        assert message.styles.display == "block" and "No images in this view" in str(message.render())
        assert screen.query_one(DigitView).styles.display == "none"
        await pilot.press("right", "left", "end", "pagedown", "m", "c")
        assert isinstance(app.screen, ConfusionScreen)
        await pilot.press("escape", "a")
        assert app.screen is screen and screen.current is not None and not screen.has_class("-empty")


async def test_mode_toggle():
    app = results_app()
    async with app.run_test(size=(120, 40)) as pilot:
        digit = app.screen.query_one(DigitView)
        assert digit.mode == "ascii"
        await pilot.press("m")
        assert digit.mode == "blocks" and digit.has_class("-blocks")
        await pilot.press("m")
        assert digit.mode == "ascii"


async def test_goto_dialog_good_and_bad_input():
    app = results_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        await pilot.press("g")
        assert isinstance(app.screen, GotoDialog)
        await pilot.press("x", "enter")
        assert isinstance(app.screen, GotoDialog)
        assert "not a whole number" in str(app.screen.query_one("#goto-message").render())
        app.screen.query_one(Input).value = "5000"
        await pilot.press("enter")
        assert "out of range" in str(app.screen.query_one("#goto-message").render())
        app.screen.query_one(Input).value = "42"
        await pilot.press("enter")
        assert app.screen is screen and screen.current == 42
        await pilot.press("g", "escape")
        assert app.screen is screen and screen.current == 42


async def test_goto_outside_the_filter_shows_all():
    app = results_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        await pilot.press("e", "g")
        app.screen.query_one(Input).value = "0"  # not a mistake
        await pilot.press("enter")
        assert screen.view == ViewFilter() and screen.current == 0


async def test_confusion_matrix_drill_down():
    app = results_app()
    p = app.initial_predictions
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        await pilot.press("c")
        assert isinstance(app.screen, ConfusionScreen)
        # the cursor starts on (true, predicted) of the current image: (0, 0); go to (3, 6)
        await pilot.press(*["down"] * 3, *["right"] * 6, "enter")
        assert app.screen is screen
        assert screen.view == ViewFilter(digit=3, predicted=6)
        expected = np.flatnonzero((p.labels == 3) & (p.predicted == 6)).tolist()
        assert screen.indices.tolist() == expected and expected


async def test_help_and_escape():
    app = results_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, ResultsScreen)


async def test_list_scroll_range_follows_the_view():
    # the list updates its scroll range without a layout pass; the scrollbar must still follow
    app = results_app()
    async with app.run_test(size=(120, 40)) as pilot:
        image_list = app.screen.query_one(ImageList)
        await pilot.press("end")
        full = image_list.max_scroll_y
        assert full > 150 and image_list.scroll_offset.y == full
        assert image_list.show_vertical_scrollbar and image_list.vertical_scrollbar.window_virtual_size == 200
        await pilot.press("3")  # 20 images: they all fit, so no scrollbar and no scrolling
        await pilot.pause()
        assert image_list.max_scroll_y == 0 and image_list.scroll_offset.y == 0
        assert not image_list.show_vertical_scrollbar
        await pilot.press("a", "end")
        await pilot.pause()
        assert image_list.show_vertical_scrollbar and image_list.vertical_scrollbar.window_virtual_size == 200
        assert image_list.max_scroll_y == full and image_list.scroll_offset.y == full


async def test_click_a_row_selects_it():
    app = results_app()
    async with app.run_test(size=(120, 40)) as pilot:
        image_list = app.screen.query_one(ImageList)
        await pilot.click(ImageList, offset=(3, 4))
        assert app.screen.position == image_list.scroll_offset.y + 3  # offset 4 minus the border row


async def test_narrow_terminal_hides_the_list():
    app = results_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.screen.has_class("narrow")
        assert not app.screen.query_one(ImageList).display or app.screen.query_one(ImageList).size.width == 0


async def test_q_quits():
    app = results_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q")
    assert app.return_code == 0


# ----------------------------------------------------------------------------- training flow


async def test_finished_training_opens_results_and_escape_returns():
    app = MnistApp(trainer_factory=lambda c: fakes.ScriptedTrainer(fakes.finished()), threaded=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ResultsScreen)
        await pilot.press("escape")
        training = app.screen
        assert isinstance(training, TrainingScreen) and training.has_class("-finished")
        assert training.query_one("#epochs").row_count == 10
        await pilot.press("r")
        assert isinstance(app.screen, ResultsScreen)


async def test_failure_shows_error_panel_and_app_stays_usable():
    app = MnistApp(trainer_factory=lambda c: fakes.ScriptedTrainer(fakes.FAILED), threaded=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert screen.has_class("-error")
        assert "diverged" in str(screen.query_one("#error").render())
        await pilot.press("s")  # no effect once failed, and no crash
        assert not screen.control.stop.is_set()
        await pilot.press("q")
    assert app.return_code == 0


@pytest.mark.parametrize(
    "events",
    [
        [Stage("Loading TensorFlow"), Stage("Loading model"), *fakes.finished()[-2:]],  # a saved model: never a total
        [Stage("Loading TensorFlow"), Failed("No MNIST here.", "Pass --data DIR.")],
    ],
    ids=["saved-model", "failed-while-loading"],
)
async def test_no_bar_is_left_animating(events):
    # an indeterminate bar repaints for ever, even from under the results screen
    app = MnistApp(trainer_factory=lambda c: fakes.ScriptedTrainer(events), threaded=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        training = next(s for s in app.screen_stack if isinstance(s, TrainingScreen))
        bars = list(training.query(ProgressBar))
        assert len(bars) == 2 and all(bar.total is not None for bar in bars)


async def test_batch_chart_shows_every_reported_loss():
    from mnist_tui.events import BatchEnd
    from mnist_tui.widgets.metric import MetricSpark

    events = [
        *fakes.PREFIX,
        BatchEnd(1, 250, fakes.STEPS, 0.4, 0.9, 0.3, losses=(0.7, 0.6, 0.5, 0.4), accuracies=(0.6, 0.7, 0.8, 0.9)),
        BatchEnd(1, 300, fakes.STEPS, 0.35, 0.91, 0.4),
    ]
    app = MnistApp(trainer_factory=lambda c: fakes.ScriptedTrainer(events), threaded=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.screen.query_one("#batch-loss", MetricSpark).values == [0.7, 0.6, 0.5, 0.4, 0.35]
        assert app.screen.query_one("#batch-accuracy", MetricSpark).values == [0.6, 0.7, 0.8, 0.9, 0.91]


class BlockingTrainer:
    """Emits a stage, then waits like a long fit() until stopped or cancelled."""

    def __init__(self) -> None:
        self.control = None
        self.finished = threading.Event()

    def run(self, sink, control) -> None:
        self.control = control
        sink(Stage("Training"))
        while not control.halted:
            control.stop.wait(0.01)
        self.finished.set()


async def test_stop_key_requests_a_stop():
    trainer = BlockingTrainer()
    app = MnistApp(trainer_factory=lambda c: trainer)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.1)
        await pilot.press("s")
        assert trainer.finished.wait(2)
        assert trainer.control.stop.is_set() and not trainer.control.cancel.is_set()


async def test_quit_cancels_the_worker():
    trainer = BlockingTrainer()
    app = MnistApp(trainer_factory=lambda c: trainer)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.1)
        await pilot.press("q")
    assert trainer.finished.wait(2)
    assert trainer.control.cancel.is_set()


# ------------------------------------------------------------------ terminal too small


def too_small_shown(app: MnistApp) -> bool:
    notice = app.screen.query_one("#too-small")
    return app.screen.has_class("-too-small") and notice.display and notice.region.area > 0


async def test_too_small_terminal_shows_notice_and_recovers():
    app = results_app()
    async with app.run_test(size=(40, 12)) as pilot:
        screen = app.screen
        assert too_small_shown(app)
        assert not screen.query_one(DigitView).region.area  # the browser is hidden, not gone
        assert "40x12" in str(screen.query_one("#too-small").render())
        await pilot.press("right", "right")  # keys do not act on the screen the notice hides
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert not too_small_shown(app)
        assert screen.query_one(DigitView).region.area > 0
        assert screen.current == 0


async def test_too_small_notice_follows_the_size_while_training():
    app = MnistApp(trainer_factory=lambda config: fakes.ScriptedTrainer(fakes.MID_TRAINING), threaded=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, TrainingScreen) and not too_small_shown(app)
        await pilot.resize_terminal(79, 30)
        await pilot.pause()
        assert too_small_shown(app)
        assert "79x30" in str(app.screen.query_one("#too-small").render())
        await pilot.resize_terminal(80, 22)
        await pilot.pause()
        assert not too_small_shown(app)


async def test_too_small_covers_dialogs_and_the_screen_below_recovers():
    app = results_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.resize_terminal(50, 15)
        await pilot.pause()
        assert too_small_shown(app)
        await pilot.press("escape")  # swallowed: the help it would close is hidden
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen) and too_small_shown(app)
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert not too_small_shown(app)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ResultsScreen) and not too_small_shown(app)


class CrashingTrainer:
    """A trainer with a bug: raises instead of reporting ``Failed``."""

    def run(self, sink, control) -> None:
        sink(Stage("Training"))
        raise RuntimeError("something broke\nsecond line")


@pytest.mark.parametrize("threaded", [False, True])
async def test_an_exception_in_the_worker_shows_the_error_panel(threaded):
    app = MnistApp(trainer_factory=lambda c: CrashingTrainer(), threaded=threaded)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(50):
            await pilot.pause(0.02)
            if app.screen.has_class("-error"):
                break
        error = str(app.screen.query_one("#error").render())
        assert app.screen.has_class("-error")
        assert "The run crashed: RuntimeError: something broke" in error and "second line" not in error
        await pilot.press("q")
    assert app.return_code == 0


# ------------------------------------------------------------------ keys, help, session


def help_lines(app: MnistApp) -> list[str]:
    """The help's lines: the key column and the text, a section's name alone."""
    assert isinstance(app.screen, HelpScreen)
    lines: list[str] = []
    section = None
    for row in app.screen.rows:
        if row.group != section:
            section = row.group
            lines.append(section)
        lines.append(f"{row.keys} {row.text}".replace("  ", " "))
    return lines


async def test_the_help_lists_the_keys_the_screen_binds():
    app = results_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")
        lines = help_lines(app)
        assert lines[:2] == ["Browse", "→ l j next image"]
        assert "0 … 9 only images of that true digit" in lines
        assert "R recorded runs: open, compare, rename, delete" in lines  # the app's key, live here
        assert "d draw a digit for the model to read" in lines


async def test_the_help_leaves_out_what_the_screen_does_not_bind():
    from textual.binding import Binding

    class Narrow(ResultsScreen, inherit_bindings=False):
        BINDINGS = [Binding("right", "move(1)", "Next"), Binding("question_mark", "help", "Help")]

    app = results_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.push_screen(Narrow(app.initial_predictions))
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        lines = help_lines(app)
        assert "→ next image" in lines and "? this help" in lines
        assert not any(line.startswith(("e ", "d ", "q ", "← ")) for line in lines)
        assert "click a row select that image" in lines  # the mouse is always there


async def test_train_again_is_asked_of_the_app_with_a_message():
    from mnist_tui.screens.base import TrainAgain
    from mnist_tui.screens.dialogs import TrainForm

    seen = []
    app = results_app()
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, TrainForm)
    assert any(isinstance(message, TrainAgain) for message in seen)


async def test_the_run_store_is_opened_once_a_session(tmp_path, monkeypatch):
    from mnist_tui import runs
    from mnist_tui.screens.runs import RunsScreen

    monkeypatch.setenv("MNIST_TUI_HOME", str(tmp_path))
    opened = []
    real = runs.open_store

    def counting(*args, **kwargs):
        opened.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr("mnist_tui.session.open_store", counting)
    app = results_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("R")
        first = app.screen
        assert isinstance(first, RunsScreen) and first.store is app.session.store
        await pilot.press("escape", "R")
        assert isinstance(app.screen, RunsScreen) and app.screen is not first
        assert app.screen.store is first.store and len(opened) == 1
        assert app.screen.test_set is app.session.test_set  # handed on to the comparison


async def test_quitting_ends_the_processes_on_a_worker_thread(monkeypatch):
    from mnist_tui.worker import client

    ended = []
    monkeypatch.setattr(client, "live_processes", lambda: ["a process"])
    monkeypatch.setattr(client, "end_all", lambda deadline=None: ended.append(threading.current_thread()))
    app = results_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q")
    assert app.ending_processes is not None
    app.ending_processes.join(5)
    assert len(ended) == 1 and ended[0] is not threading.main_thread()


async def test_the_browser_and_the_draw_screen_share_the_prediction_panel():
    from mnist_tui.screens.draw import DrawScreen
    from mnist_tui.widgets.prediction import PredictionPanel

    app = MnistApp(predictions=fakes.fake_predictions(), model=fakes.TemplateModel())
    async with app.run_test(size=(120, 40)) as pilot:
        panel = app.screen.query_one(PredictionPanel)
        assert panel.fixed
        label = str(panel.query_one("#prediction-label").render())
        assert label.startswith(f"True {app.initial_predictions.labels[0]}")
        await pilot.press("d")
        assert isinstance(app.screen, DrawScreen)
        drawn = app.screen.query_one(PredictionPanel)
        assert not drawn.fixed and str(drawn.query_one("#prediction-label").render()) == "Draw a digit"


async def test_the_confusion_matrix_has_a_row_and_a_column_per_class():
    from textual.coordinate import Coordinate
    from textual.widgets import DataTable

    from mnist_tui.datasets import MNIST
    from mnist_tui.screens import confusion

    app = results_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("c")
        table = app.screen.query_one(DataTable)
        classes = len(MNIST.classes)
        assert len(table.columns) == classes + 4 and table.row_count == classes + 2
        table.cursor_coordinate = Coordinate(7, confusion.RECALL)
        await pilot.pause()
        assert f"{MNIST.noun(7, 2)} recognised" in str(app.screen.query_one("#cell-info").render())


# ------------------------------------------------------------------ a new run ends the last run's model process


class ClosableModel(fakes.FakeModelServer):
    """A served model whose ``close`` is recorded; closed, it answers every request with the reason, as RemoteModel does."""

    def __init__(self) -> None:
        super().__init__()
        self.closed: list[str | None] = []

    def close(self, reason: str | None = None) -> None:
        from mnist_tui.worker.protocol import Predict, Save, Why

        self.closed.append(reason)
        self.errors = dict.fromkeys((Predict, Save, Why), reason or "The model process has been closed.")


def two_runs(first_trainer) -> tuple[MnistApp, list]:
    """An app whose first run is ``first_trainer`` and whose second fails (``r`` then reopens the first's results)."""
    trainers = [first_trainer, fakes.ScriptedTrainer(fakes.FAILED)]
    made: list = []

    def factory(config):
        made.append(trainers[len(made)])
        return made[-1]

    return MnistApp(fakes.CONFIG, trainer_factory=factory, threaded=False), made


async def test_a_new_run_ends_the_last_runs_model_and_its_results_stay_browsable():
    from mnist_tui.widgets.why import WhyPanel

    model = ClosableModel()
    app, made = two_runs(fakes.ScriptedTrainer(fakes.finished(model=model)))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ResultsScreen) and model.closed == []
        app.start_training(fakes.CONFIG)
        # ended as the new run starts, not when it finishes: two TensorFlow processes never share the cores
        assert model.closed == ["The model was closed when a new run started."]
        await pilot.pause()
        await pilot.pause()
        assert len(made) == 2 and isinstance(app.screen, TrainingScreen) and app.screen.failure is not None
        await pilot.press("r")  # the last results are still there to browse
        assert isinstance(app.screen, ResultsScreen) and app.screen.model is model
        await pilot.press("w")  # and asking the model says what became of it
        for _ in range(100):
            await pilot.pause()
            if app.screen.query_one(WhyPanel).status:
                break
        assert app.screen.query_one(WhyPanel).status == "The model was closed when a new run started."
    assert model.closed[0] is not None


async def test_a_recorded_runs_model_is_closed_with_where_to_open_it_again(tmp_path, monkeypatch):
    from mnist_tui.recorded import RecordingTrainer

    monkeypatch.setenv("MNIST_TUI_HOME", str(tmp_path))
    model = ClosableModel()
    app, made = two_runs(RecordingTrainer(fakes.ScriptedTrainer(fakes.finished(model=model)), fakes.CONFIG))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ResultsScreen)
        run_id = app.session.last_results.run_id
        assert run_id is not None
        app.start_training(fakes.CONFIG)
        await pilot.pause()
    assert model.closed[0] == (
        f"The model was closed when a new run started. Open run {run_id} from the runs screen (R) to use it again."
    )


class GatedTrainer:
    """A run that reaches its last epoch, then finishes only when ``gate`` is set."""

    def __init__(self) -> None:
        self.gate = threading.Event()

    def run(self, sink, control) -> None:
        events = fakes.finished()
        for event in events[:-1]:
            sink(event)
        self.gate.wait(10)
        sink(events[-1])


async def test_a_run_finishing_under_the_runs_screen_announces_itself_and_stays_put():
    trainer = GatedTrainer()
    app = MnistApp(trainer_factory=lambda c: trainer)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.1)
        await pilot.press("R")
        await wait_until(pilot, lambda: isinstance(app.screen, RunsScreen))
        trainer.gate.set()
        await wait_until(pilot, lambda: app.session.last_results is not None)
        await pilot.pause(0.1)
        assert isinstance(app.screen, RunsScreen)  # not moved to the results
        assert any(
            "Run finished" in (n.title or "") and "r on the training screen" in n.message for n in app._notifications
        )
        await pilot.press("escape")
        assert isinstance(app.screen, TrainingScreen)
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, ResultsScreen))
