"""The runs screen: Pilot tests of what each key does, and snapshots at 80x24 and 120x40.

Fed by a store in tmp_path filled with scripted runs (no Keras), a fixed "now" and UTC,
so that every snapshot is the same on every machine.
"""

from __future__ import annotations

import time

import pytest
from textual.app import App
from textual.widgets import Input

from mnist_tui.app import MnistApp
from mnist_tui.runs import open_store
from mnist_tui.runs.model import Epoch
from mnist_tui.screens.dialogs import ConfirmDialog, RenameDialog
from mnist_tui.screens.runs import RunsScreen
from mnist_tui.widgets.runs_table import COLUMNS, RunsTable
from tests.support.store import NOW, fill_store, record, script

SIZES = [(80, 24), (120, 40)]


pytestmark = pytest.mark.usefixtures("utc")  # times on screen in UTC, whatever the machine's zone


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    home = tmp_path_factory.mktemp("store")
    fill_store(home)
    return home


@pytest.fixture
def home(filled, tmp_path):
    """A fresh copy of the filled store for each test that changes it."""
    import shutil

    copy = tmp_path / "store"
    shutil.copytree(filled, copy)
    return copy


class RunsApp(App):
    """The runs screen alone, with the app's stylesheet; records the runs it is asked to open."""

    CSS_PATH = MnistApp.CSS_PATH
    TITLE = "mnist-tui"

    def __init__(self, home, screen_below: bool = False) -> None:
        super().__init__()
        self.store = open_store(home, clock=lambda: NOW)
        self.opened: list[int] = []
        self.screen_below = screen_below
        self.animation_level = "none"

    def get_default_screen(self):
        if self.screen_below:
            from textual.screen import Screen

            return Screen()
        return RunsScreen(self.store, now=lambda: NOW)

    def on_mount(self) -> None:
        if self.screen_below:
            self.push_screen(RunsScreen(self.store, now=lambda: NOW))

    def on_runs_screen_open_run(self, message: RunsScreen.OpenRun) -> None:
        self.opened.append(message.run_id)


def shown(app: App) -> list[int]:
    return [run.id for run in app.screen.query_one(RunsTable).shown]


async def test_newest_first_then_sorted_by_any_column(home):
    app = RunsApp(home)
    async with app.run_test(size=(120, 40)) as pilot:
        assert shown(app) == [8, 7, 6, 5, 4, 3, 2, 1]
        await pilot.press("s")  # the next column: names, A to Z
        assert shown(app) == [2, 1, 3, 4, 5, 6, 7, 8]
        await pilot.press("S")
        assert shown(app) == [8, 7, 6, 5, 4, 3, 1, 2]
        # a click on the Test header: the best first, runs without a test accuracy last
        test_x = sum(c.width + 2 for c in COLUMNS[: [c.key for c in COLUMNS].index("test")]) + 2
        await pilot.click(RunsTable, offset=(test_x, 0))
        assert app.screen.query_one(RunsTable).sort_key == "test"
        assert shown(app) == [2, 7, 1, 3, 5, 8, 6, 4]  # no test accuracy (running, interrupted, failed): last
        await pilot.click(RunsTable, offset=(test_x, 0))  # again: the other way, unknowns still last
        assert shown(app) == [5, 3, 1, 7, 2, 8, 6, 4]
        for key in ("best", "epochs", "size", "time", "status", "when", "arch", "options"):
            app.screen.sort_by(key)
            assert sorted(shown(app)) == list(range(1, 9))


async def test_typing_filters(home):
    app = RunsApp(home)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("slash", *"cnn")
        assert shown(app) == [2]
        assert "1 of 8 runs" in app.screen.sub_title
        await pilot.press("ctrl+a", "ctrl+k", *"mlp finished")  # every word must match
        assert shown(app) == [7, 5, 1]  # 7 finished too, though its model is missing
        await pilot.press("q")  # typed into the filter, not a quit
        assert app.is_running and shown(app) == []
        await pilot.press("backspace", "escape")  # leave the filter, keeping it
        assert shown(app) == [7, 5, 1] and isinstance(app.focused, RunsTable)
        await pilot.press("escape")  # clear it
        assert shown(app) == [8, 7, 6, 5, 4, 3, 2, 1]
        await pilot.press("slash", *"lr=", "enter")
        assert shown(app) == [4, 3] and isinstance(app.focused, RunsTable)


async def test_enter_opens_a_run_with_predictions(home):
    app = RunsApp(home)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("enter")  # run 8 is still training
        await pilot.press("down", "enter")  # run 7: its model is missing, its predictions are not
        await pilot.press("down", "enter")  # run 6 was interrupted: nothing to open
        await pilot.press("down", "down", "down", "enter")  # run 3 stopped early
        await pilot.pause()
        assert app.opened == [7, 3]
        said = [n.message for n in app._notifications]
        assert any("still training" in m for m in said) and any("Run 6 has no test predictions" in m for m in said)


async def test_space_marks_runs_in_order(home):
    app = RunsApp(home)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("down", "down", "space")  # run 6, and the cursor moves on to 5
        await pilot.press("up", "up", "up", "space")  # run 8
        await pilot.press("down", "down", "down", "space")  # from run 7 down to run 4
        assert app.screen.marked == [6, 8, 4]
        await pilot.press("home", "space")  # run 8 again: unmarked
        assert app.screen.marked == [6, 4]
        assert "2 marked" in app.screen.sub_title


async def test_delete_asks_first(home):
    app = RunsApp(home)
    async with app.run_test(size=(120, 40)) as pilot:
        folder = app.store.run_dir(7)
        assert folder.is_dir()
        await pilot.press("down", "delete")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("enter")  # the focused button is Cancel
        assert isinstance(app.screen, RunsScreen) and 7 in shown(app)
        await pilot.press("delete", "n")
        assert 7 in shown(app)
        await pilot.press("space", "up", "delete", "y")  # marked, then deleted
        await pilot.pause()
        assert 7 not in shown(app) and not folder.exists()
        assert [r.id for r in app.store.list_runs()] == [8, 6, 5, 4, 3, 2, 1]
        assert app.screen.marked == []  # a deleted run is no longer marked
        await pilot.press("up", "delete")  # run 8 is still training: refused without asking
        assert isinstance(app.screen, RunsScreen) and 8 in shown(app)


async def test_n_renames(home):
    app = RunsApp(home)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("down", "n")
        assert isinstance(app.screen, RenameDialog)
        await pilot.press("ctrl+a", "ctrl+k", "enter")  # an empty name is refused
        assert isinstance(app.screen, RenameDialog)
        await pilot.press(*"wide net", "enter")
        await pilot.pause()
        assert app.store.get_run(7).name == "wide net"
        assert app.screen.query_one(RunsTable).current.name == "wide net"  # the cursor stays on the run
        await pilot.press("n", "escape")
        assert app.store.get_run(7).name == "wide net"


async def test_reload_shows_the_live_run(home):
    app = RunsApp(home)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("down", "down")
        app.store.record_epoch(8, Epoch(3, 0.1, 0.97, 0.09, 0.975, 2.0, 6.3), [], 1)
        app.screen.reload()
        await pilot.pause()
        table = app.screen.query_one(RunsTable)
        assert table.shown[0].epochs_done == 3 and table.current.id == 6


async def test_escape_goes_back_and_q_quits(home):
    app = RunsApp(home, screen_below=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, RunsScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, RunsScreen)
    app = RunsApp(home)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("q")
        assert not app.is_running


async def test_question_mark_lists_the_keys(home):
    from mnist_tui.screens.dialogs import HelpScreen

    app = RunsApp(home)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen) and app.screen.over is app.screen_stack[-2]
        rows = {row.keys: row.text for row in app.screen.rows}
        # the table takes enter first, but the screen's own open is still listed
        assert rows["enter / click"] == "open the run's results" and rows["/"].startswith("filter")
        await pilot.press("escape")
        assert isinstance(app.screen, RunsScreen)


async def test_an_empty_store_says_so(tmp_path):
    app = RunsApp(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter", "space", "n", "delete")
        assert isinstance(app.screen, RunsScreen) and app.screen.has_class("-empty")


async def test_opening_the_screen_with_200_runs_is_fast(tmp_path):
    from mnist_tui.config import TrainConfig
    from mnist_tui.runs import Recorder
    from tests.support.store import script

    store = open_store(tmp_path)
    for n in range(200):
        recorder = Recorder(store, lambda event: None, TrainConfig(seed=n))
        for event in script(TrainConfig(seed=n), batches=False):
            recorder(event)
    app = RunsApp(tmp_path, screen_below=True)
    async with app.run_test(size=(120, 40)) as pilot:
        start = time.perf_counter()
        app.push_screen(RunsScreen(open_store(tmp_path), now=lambda: NOW))
        await pilot.pause()
        elapsed = time.perf_counter() - start
        assert len(shown(app)) == 200
    print(f"runs screen with 200 runs open in {elapsed * 1000:.0f} ms")
    # about 0.3-0.8 s on a busy 2-core machine; the bound catches work per run that grows
    # out of hand (reading every run's files, a query per run), not the odd slow paint
    assert elapsed < 5.0


# ---------------------------------------------------------------------- snapshots

STATES = {
    "all": [],
    "filtered": ["slash", *"mlp", "enter"],
    "marked-sorted": ["space", "down", "down", "space", "s", "S"],
    "confirm-delete": ["down", "down", "down", "delete"],
    "rename": ["down", "n"],
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("state", list(STATES))
def test_runs_screen(snap_compare, filled, state, size):
    async def act(pilot):
        await pilot.press(*STATES[state])
        await pilot.pause()
        for screen in pilot.app.screen_stack:
            for widget in screen.query(Input):
                widget.cursor_blink = False

    assert snap_compare(RunsApp(filled), terminal_size=size, run_before=act)


async def test_runs_that_never_trained_stay_out_of_the_list_until_a_filter_asks(home):
    record(home, script(outcome="failed", epochs=0))  # run 9: failed before its first epoch
    app = RunsApp(home)
    async with app.run_test(size=(120, 40)) as pilot:
        assert shown(app) == [8, 7, 6, 5, 4, 3, 2, 1]
        assert "8 of 9 runs (1 that never trained" in app.screen.sub_title
        await pilot.press("slash", *"failed")
        assert 9 in shown(app)


async def test_one_run_is_counted_as_one_run(tmp_path):
    record(tmp_path, script())
    app = RunsApp(tmp_path)
    async with app.run_test(size=(120, 40)):
        assert app.screen.sub_title == "Runs · 1 run"
