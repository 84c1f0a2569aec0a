"""Resume and train further in the app: the runs screen's r and f, the startup notice, one continuous history.

Scripted trainers and a store in tmp_path (no Keras); snapshots at 80x24 and 120x40.
"""

from __future__ import annotations

import shutil
import time

import pytest
from textual.widgets import DataTable, Input

from mnist_tui.app import MnistApp
from mnist_tui.config import TrainConfig
from mnist_tui.events import EpochEnd, LossCurve, Started
from mnist_tui.runs import checkpoints, open_store
from mnist_tui.screens.epochs_dialog import EpochsDialog
from mnist_tui.screens.runs import RunsScreen
from mnist_tui.screens.training import PARENT_COLOUR, TrainingScreen
from mnist_tui.widgets.chart import LineChart
from mnist_tui.widgets.runs_table import RunsTable
from tests.support import fakes
from tests.support.store import fill_store
from tests.ui.test_runs_screen import RunsApp
from tests.unit.test_checkpoints import checkpoint

SIZES = [(80, 24), (120, 40)]
INTERRUPTED, FINISHED = 6, 5  # in the filled store


pytestmark = pytest.mark.usefixtures("utc")  # times on screen in UTC, whatever the machine's zone


@pytest.fixture(scope="module")
def checkpointed(tmp_path_factory):
    """The filled store, with a checkpoint for the interrupted run (epoch 2 of 10) and the 5-epoch finished one."""
    home = tmp_path_factory.mktemp("store")
    fill_store(home)
    store = open_store(home)
    checkpoints.write(store.run_dir(INTERRUPTED), checkpoint(2, 10))
    checkpoints.write(store.run_dir(FINISHED), checkpoint(5, 5))
    return home


@pytest.fixture
def home(checkpointed, tmp_path):
    copy = tmp_path / "store"
    shutil.copytree(checkpointed, copy)
    return copy


class GoOnApp(RunsApp):
    def __init__(self, home) -> None:
        super().__init__(home)
        self.plans: list = []

    def on_runs_screen_go_on(self, message: RunsScreen.GoOn) -> None:
        self.plans.append(message.plan)


def cursor_to(app, run_id: int) -> None:
    table = app.screen.query_one(RunsTable)
    table.move_cursor(row=[run.id for run in table.shown].index(run_id), animate=False)


async def test_r_resumes_an_interrupted_run_and_refuses_others(home):
    app = GoOnApp(home)
    async with app.run_test(size=(120, 40)) as pilot:
        cursor_to(app, INTERRUPTED)
        await pilot.pause()
        assert "resume from epoch 2 of 10: r" in str(app.screen.query_one("#run-details").render())
        await pilot.press("r")
        assert [(p.resume_id, p.checkpoint.epoch, p.further) for p in app.plans] == [(INTERRUPTED, 2, False)]
        cursor_to(app, FINISHED)
        await pilot.press("r")
        await pilot.pause()
        assert len(app.plans) == 1
        assert any("to train it more, use --continue" in n.message for n in app._notifications)


async def test_f_asks_the_epochs_then_trains_further(home):
    app = GoOnApp(home)
    async with app.run_test(size=(120, 40)) as pilot:
        cursor_to(app, FINISHED)
        await pilot.press("f")
        assert isinstance(app.screen, EpochsDialog)
        field = app.screen.query_one(Input)
        field.value = ""
        await pilot.press("0", "enter")
        assert isinstance(app.screen, EpochsDialog)  # 0 is refused, the dialog stays
        await pilot.press("backspace", "3", "enter")
        await pilot.pause()
        [plan] = app.plans
        assert (plan.parent_id, plan.resume_id, plan.further, plan.config.epochs) == (FINISHED, None, True, 3)


async def test_the_app_says_once_that_a_run_was_interrupted(home, monkeypatch):
    monkeypatch.setenv("MNIST_TUI_HOME", str(home))
    store = open_store(home)
    with store._write() as db:  # interrupted an hour ago (the filled store's clock is fixed in the past)
        db.execute("UPDATE runs SET ended_at = ? WHERE id = ?", (time.time() - 3600, INTERRUPTED))
    app = MnistApp(
        trainer_factory=lambda config: fakes.ScriptedTrainer(fakes.LOADING), threaded=False, say_interrupted=True
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.pause()
        said = [n.message for n in app._notifications]
        assert said == [
            f"Run {INTERRUPTED} (mlp-{INTERRUPTED}) was interrupted at epoch 2 of 10. "
            "R opens the runs screen; r there resumes it."
        ]


def resumed_events(further: bool = False) -> list:
    config = TrainConfig(epochs=3 if further else 5)
    earlier = tuple(fakes.epoch(n, 5 if further else config.epochs) for n in (1, 2))
    curve = LossCurve(tuple(0.5 / (1 + i / 10) for i in range(40)))
    started = Started(
        config,
        config.epochs,
        fakes.STEPS,
        101_770,
        fakes.SUMMARY,
        60_000,
        10_000,
        earlier=earlier,
        earlier_curve=curve,
        resumed=not further,
    )
    first = 1 if further else 3
    events: list = [*fakes.PREFIX[:3], started]
    for n in range(first, first + 2):
        events += fakes.batches(n, 1800)
        e = fakes.epoch(n + (2 if further else 0), config.epochs)
        events.append(EpochEnd(n, config.epochs, e.loss, e.accuracy, e.val_loss, e.val_accuracy, e.seconds, e.elapsed))
    return events


def training_app(events) -> MnistApp:
    app = MnistApp(trainer_factory=lambda config: fakes.ScriptedTrainer(events), threaded=False)
    app.animation_level = "none"
    return app


async def test_a_resumed_run_shows_one_continuous_history():
    app = training_app(resumed_events())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TrainingScreen)
        assert [e.epoch for e in screen.epochs] == [1, 2, 3, 4]
        assert screen.query_one("#epochs", DataTable).row_count == 4
        loss = screen.query_one("#epoch-loss", LineChart)
        assert "parent" not in loss.series_names
        assert min(screen.run_x) < 1 and max(screen.run_x) > 3.9  # the batch curve from the first epoch on
        assert "resumed after epoch 2" in screen.sub_title


async def test_a_run_trained_further_draws_its_parent_grey_first():
    app = training_app(resumed_events(further=True))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert [e.epoch for e in screen.epochs] == [1, 2]
        loss = screen.query_one("#epoch-loss", LineChart)
        assert "parent" in loss.series_names and loss._colours["parent"] == PARENT_COLOUR
        assert list(loss._series["loss"].x) == [3, 4]  # after the parent's two epochs
        assert min(screen.run_x) > 2


STATES = {"resumed": False, "further": True}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("state", list(STATES))
def test_training_screen_going_on(snap_compare, state, size):
    assert snap_compare(training_app(resumed_events(STATES[state])), terminal_size=size)


RUNS_STATES = ["resumable", "further-dialog"]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("state", RUNS_STATES)
def test_runs_screen_going_on(snap_compare, checkpointed, state, size):
    async def act(pilot):
        await pilot.pause()
        cursor_to(pilot.app, INTERRUPTED if state == "resumable" else FINISHED)
        await pilot.pause()
        if state == "further-dialog":
            await pilot.press("f")
            await pilot.pause()
        for screen in pilot.app.screen_stack:
            for widget in screen.query(Input):
                widget.cursor_blink = False

    assert snap_compare(GoOnApp(checkpointed), terminal_size=size, run_before=act)
