"""Every screen and dialog survives the terminal shrinking to 40x12 and growing back.

Below the smallest usable size each screen shows its "make the terminal larger" notice
in place of its content; when the terminal grows again, the screen must be the same one,
laid out exactly as before, while a run trains behind it or a dialog is open on top.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer

from mnist_tui.app import MnistApp
from mnist_tui.screens.confusion import ConfusionScreen
from mnist_tui.screens.dialogs import GotoDialog, HelpScreen, SaveDialog, TrainForm
from mnist_tui.screens.draw import DrawScreen
from mnist_tui.screens.results import ResultsScreen
from mnist_tui.screens.training import TrainingScreen
from tests.support import fakes

TINY = (40, 12)


def training_app() -> MnistApp:
    """A run in the middle of its third epoch (the scripted trainer stops there)."""
    return MnistApp(trainer_factory=lambda config: fakes.ScriptedTrainer(fakes.MID_TRAINING), threaded=False)


def failed_app() -> MnistApp:
    """A run that failed: its error shown, and train-again offered."""
    return MnistApp(trainer_factory=lambda config: fakes.ScriptedTrainer(fakes.FAILED), threaded=False)


def finished_app() -> MnistApp:
    """A run that finished with a model: the results screen over the training screen."""
    model = fakes.TemplateModel()
    return MnistApp(trainer_factory=lambda config: fakes.ScriptedTrainer(fakes.finished(model=model)), threaded=False)


def results_app() -> MnistApp:
    return MnistApp(predictions=fakes.fake_predictions(), model=fakes.TemplateModel())


@dataclass(frozen=True)
class Case:
    """How to reach a screen, what it is, and a widget of its content that must come back."""

    app: Callable[[], MnistApp]
    keys: tuple[str, ...]
    screen: type[Screen]
    content: str


CASES = {
    "training-mid-run": Case(training_app, (), TrainingScreen, "#epochs"),
    "failed-run": Case(failed_app, (), TrainingScreen, "#error"),
    "failed-run-train-form": Case(failed_app, ("t",), TrainForm, "#train-form"),
    "results": Case(results_app, (), ResultsScreen, "#digit"),
    "results-blocks": Case(results_app, ("m",), ResultsScreen, "#digit"),
    "results-after-a-run": Case(finished_app, (), ResultsScreen, "#digit"),
    "training-after-a-run": Case(finished_app, ("escape",), TrainingScreen, "#epochs"),
    "confusion": Case(results_app, ("c",), ConfusionScreen, "#confusion"),
    "help": Case(results_app, ("question_mark",), HelpScreen, "#help"),
    "goto": Case(results_app, ("g", "1", "2"), GotoDialog, "#dialog"),
    "save": Case(results_app, ("s",), SaveDialog, "#save-dialog"),
    "train-form": Case(results_app, ("t",), TrainForm, "#train-form"),
    "train-form-after-a-run": Case(finished_app, ("t",), TrainForm, "#train-form"),
    "draw": Case(results_app, ("d", "space", "right", "space"), DrawScreen, "#canvas"),
}


def layout(screen: Screen) -> list[tuple]:
    """Every visible widget of the screen and where it is, in DOM order; the last field: in the footer."""
    placed = []
    for widget in screen.walk_children(Widget):
        if widget.id == "too-small" or not (widget.display and widget.region.area):
            continue
        in_footer = any(isinstance(node, Footer) for node in widget.ancestors_with_self)
        placed.append((type(widget).__name__, widget.id, tuple(widget.region), in_footer))
    return placed


def without_footer(placed: list[tuple]) -> list[tuple]:
    return [entry for entry in placed if not entry[-1]]


def notice_shown(app: MnistApp) -> bool:
    notice = app.screen.query_one("#too-small")
    return app.screen.has_class("-too-small") and bool(notice.display) and notice.region.area > 0


async def reach(pilot, case: Case) -> Screen:
    await pilot.pause()
    for key in case.keys:
        await pilot.press(key)
        await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, case.screen), f"expected {case.screen.__name__}, got {type(screen).__name__}"
    return screen


async def settle(pilot) -> None:
    await pilot.pause()
    await pilot.pause()


@pytest.mark.parametrize(
    ("name", "size"),
    [(name, (80, 24)) for name in CASES]
    + [(name, (120, 40)) for name in ("training-mid-run", "results", "train-form")],
    ids=lambda value: f"{value[0]}x{value[1]}" if isinstance(value, tuple) else value,
)
async def test_survives_40x12_and_back(name: str, size: tuple[int, int], tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the save dialog proposes a file in the working directory
    case = CASES[name]
    app = case.app()
    app.animation_level = "none"
    async with app.run_test(size=size) as pilot:
        screen = await reach(pilot, case)
        await settle(pilot)
        content = screen.query_one(case.content)
        assert not notice_shown(app) and content.region.area > 0
        focused = screen.focused
        before = layout(screen)

        await pilot.resize_terminal(*TINY)
        await settle(pilot)
        assert app.screen is screen
        assert notice_shown(app)
        assert "40x12" in str(screen.query_one("#too-small").render())
        assert not content.region.area  # hidden, not gone

        await pilot.resize_terminal(*size)
        await settle(pilot)
        assert app.screen is screen and not notice_shown(app)
        assert content.region.area > 0
        assert screen.focused is focused, f"{focused} lost the focus"
        assert layout(screen) == before


async def test_a_resize_storm_while_a_dialog_is_open_over_a_run():
    """Many sizes in a row, some without a pause between them, with the train form over a finished run."""
    app = finished_app()
    app.animation_level = "none"
    async with app.run_test(size=(100, 30)) as pilot:
        form = await reach(pilot, CASES["train-form-after-a-run"])
        await settle(pilot)
        before = layout(form)
        for width, height, pause in [
            (40, 12, True),
            (79, 21, False),
            (1, 1, True),
            (80, 22, False),
            (40, 12, False),
            (100, 30, False),
        ]:
            await pilot.resize_terminal(width, height)
            if pause:
                await settle(pilot)
        await settle(pilot)
        assert app.screen is form and not notice_shown(app)
        assert without_footer(layout(form)) == without_footer(before)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ResultsScreen) and not notice_shown(app)
        assert app.screen.query_one("#digit").region.area > 0


class HeldTrainer(fakes.ScriptedTrainer):
    """Replays a script, then keeps its sink so that a test can go on emitting events."""

    def run(self, sink, control) -> None:
        self.sink = sink
        super().run(sink, control)


async def test_a_run_keeps_training_behind_the_notice():
    """Events that arrive while the terminal is too small are all there when it grows back."""
    trainer = HeldTrainer(fakes.MID_TRAINING)
    app = MnistApp(trainer_factory=lambda config: trainer, threaded=False)
    app.animation_level = "none"
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TrainingScreen) and screen.query_one("#epochs").row_count == 2
        await pilot.resize_terminal(*TINY)
        await settle(pilot)
        assert notice_shown(app)
        for event in [*fakes.batches(3, 1875), fakes.epoch(3), *fakes.batches(4, 500)]:
            trainer.sink(event)
        await settle(pilot)
        assert notice_shown(app)
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert app.screen is screen and not notice_shown(app)
        assert screen.query_one("#epochs").row_count == 3
        assert screen.query_one("#epochs").region.area > 0


async def test_keys_typed_under_the_notice_do_not_act_on_the_hidden_screen():
    app = MnistApp(predictions=fakes.fake_predictions(), model=fakes.TemplateModel())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ResultsScreen)
        view, current, mode = screen.view, screen.current, screen.mode
        await pilot.resize_terminal(60, 15)
        await pilot.pause()
        assert screen.has_class("-too-small")
        await pilot.press("right", "right", "e", "o", "m", "c", "d", "question_mark", "escape")
        await pilot.pause()
        assert app.screen is screen  # nothing opened, nothing closed
        assert (screen.view, screen.current, screen.mode) == (view, current, mode)
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        await pilot.press("right")  # back at its size, the keys work again
        assert screen.current == current + 1
        await pilot.resize_terminal(60, 15)
        await pilot.pause()
        await pilot.press("q")  # and q still quits from under the notice
    assert app.return_code == 0


TRAINING_PANELS = ("#status-panel", "#batch-chart", "#loss-panel", "#accuracy-panel", "#run-panel", "#epochs")


async def training_layout(events) -> tuple[dict[str, object], dict[str, str]]:
    """The training screen's panel regions at 80x24, and what its two line charts say."""
    app = MnistApp(trainer_factory=lambda config: fakes.ScriptedTrainer(events), threaded=False)
    app.animation_level = "none"
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TrainingScreen)
        regions = {name: screen.query_one(name).region for name in TRAINING_PANELS}
        texts = {}
        for name in ("#epoch-loss", "#run-loss"):
            chart = screen.query_one(name)
            texts[name] = "\n".join(
                "".join(segment.text for segment in chart.render_line(y)) for y in range(chart.size.height)
            )
        return regions, texts


async def test_the_training_screens_first_frame_has_the_running_layout_and_texts_that_fit(monkeypatch):
    """The first frame is drawn before the screen's first Resize: it must already have the 80x24 layout."""
    running, _ = await training_layout(fakes.MID_TRAINING)
    with monkeypatch.context() as patch:
        patch.setattr(TrainingScreen, "on_resize", lambda self: None)  # as before any Resize arrived
        first, texts = await training_layout([])
    assert first == running  # no jump when training starts
    assert all(region.height >= 8 for region in first.values() if region is not first["#status-panel"])
    assert "waiting for epoch 1" in texts["#epoch-loss"]
    assert "waiting for batches" in texts["#run-loss"]
