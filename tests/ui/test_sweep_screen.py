"""The sweep screen fed by a scripted sweep: snapshots at 80x24 and 120x40, and what its keys do."""

from __future__ import annotations

import pytest
from textual.app import App
from textual.widgets import DataTable, Static

from mnist_tui.app import MnistApp
from mnist_tui.screens.sweep import SweepScreen
from mnist_tui.widgets.parallel import ParallelCoords
from tests.support.pilot import wait_until
from tests.support.sweeps import fake_view

SIZES = [(80, 24), (120, 40)]


class SweepApp(App):
    CSS_PATH = MnistApp.CSS_PATH
    TITLE = "mnist-tui"

    def __init__(self, view=None) -> None:
        super().__init__()
        self.view = view or fake_view()
        self.animation_level = "none"
        self.messages: list = []

    def get_default_screen(self):
        return SweepScreen(self.view)

    def on_sweep_screen_train_best(self, message) -> None:
        self.messages.append(message)

    def on_sweep_screen_compare_runs(self, message) -> None:
        self.messages.append(message)

    def on_sweep_screen_open_trial(self, message) -> None:
        self.messages.append(message)


STATES = {
    "trials": [],
    "brushed-sorted": [
        "right_square_bracket",
        "right_square_bracket",
        "right_square_bracket",
        "right_square_bracket",
        "b",
        "s",
    ],
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("state", list(STATES))
def test_sweep_screen(snap_compare, state, size):
    async def act(pilot):
        await pilot.press(*STATES[state])
        await pilot.pause()

    assert snap_compare(SweepApp(), terminal_size=size, run_before=act)


async def test_brushing_the_objective_keeps_the_best_trials() -> None:
    app = SweepApp()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        for _ in range(4):  # lr, hidden, dropout, batch, then the objective
            await pilot.press("right_square_bracket")
        await pilot.press("b")  # top half of the objective
        plot = screen.query_one(ParallelCoords)
        assert plot.selected == 4 and plot.brushes == {4: (0.5, 1.0)}
        kept = [row for row, k in zip(app.view.rows, plot.keep) if k]
        assert kept and len(kept) < len(app.view.rows)
        assert min(r.score for r in kept) >= max(r.score for r, k in zip(app.view.rows, plot.keep) if not k and r.score)
        info = str(screen.query_one("#sweep-info", Static).render())
        assert f"{len(kept)} of {len(app.view.rows)} pass the brush on accuracy" in info
        await pilot.press("B")
        assert plot.keep.all() and not plot.brushes


async def test_sort_enter_train_best_and_compare() -> None:
    app = SweepApp()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one("#trials", DataTable)
        for _ in range(7):  # trial, state, lr, hidden, dropout, batch, epochs -> accuracy
            await pilot.press("s")
        assert app.screen.sort_key == "value" and app.screen.descending
        best = max((r for r in app.view.rows if r.value is not None), key=lambda r: r.value)
        assert table.coordinate_to_cell_key((0, 0)).row_key.value == str(best.number)
        table.move_cursor(row=0)
        await pilot.press("enter", "f", "c")
        await pilot.pause()
        opened, train, compare = app.messages
        assert opened.run_id == best.run_id
        assert train.config.learning_rate == best.params["learning_rate"] and train.config.train_limit is None
        runner_up = sorted((r for r in app.view.rows if r.value is not None), key=lambda r: -r.value)[1]
        assert compare.run_ids == [best.run_id, runner_up.run_id]


async def test_a_live_sweep_is_read_again() -> None:
    views = [fake_view(10), fake_view(12)]

    class LiveApp(SweepApp):
        def get_default_screen(self):
            return SweepScreen(views[0], lambda: views[1], live=True)

    app = LiveApp(views[0])
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert screen.view is views[0]
        screen._poll()
        # Waiting for what the poll brings, not for its worker: on a slow machine the screen's
        # own timer (every POLL_S) polls too, and the exclusive worker cancels this one.
        await wait_until(pilot, lambda: screen.view is views[1])
        assert screen.query_one("#trials", DataTable).row_count == 12


def advanced(view, epochs: int = 1, *, complete: bool = False, new: bool = False):
    """``view`` a poll later: its running trial has ``epochs`` more epochs (then completes), maybe a new trial runs."""
    from dataclasses import replace

    last = view.rows[-1]
    curve = (*last.curve, *[min(last.curve[-1] + 0.01 * (i + 1), 0.999) for i in range(epochs)])
    row = replace(last, curve=curve)
    if complete:
        row = replace(row, state="complete", value=0.999, seconds=30.0)
    rows = (*view.rows[:-1], row)
    if new:
        rows += (replace(last, number=last.number + 1, curve=(), run_id=last.run_id + 1),)
    return replace(view, rows=rows)


async def test_a_live_update_changes_the_table_in_place_and_keeps_the_cursor_on_its_trial() -> None:
    from dataclasses import replace

    from mnist_tui.widgets.chart import LineChart

    view = fake_view(30)
    app = SweepApp(view)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        table = screen.query_one("#trials", DataTable)
        for _ in range(7):  # sorted by accuracy, the best first
            await pilot.press("s")
        table.move_cursor(row=3)
        chosen = screen._chosen()
        rows_before = {row.key.value: row for row in table.ordered_rows}
        best = screen.query_one("#best-chart", LineChart)
        curves = screen.query_one("#curves-chart", LineChart)
        versions = best.version, curves.version

        running = advanced(view)  # one more epoch of the running trial: one row changes
        screen.show(running)
        await pilot.pause()
        assert best.version == versions[0] and curves.version > versions[1]  # no new value: the best chart stays
        key = str(view.rows[-1].number)
        assert str(table.get_cell(key, "epochs")) == str(len(running.rows[-1].curve))
        # the same row objects: updated, not cleared and added again
        assert all(rows_before[r.key.value] is r for r in table.ordered_rows)

        done = advanced(running, complete=True, new=True)  # it completes best of all, a new trial starts
        screen.show(done)
        await pilot.pause()
        assert table.row_count == 31 and str(table.get_cell(str(len(done.rows) - 1), "state")) == "running"
        order = [row.key.value for row in table.ordered_rows]
        assert order[0] == key  # the new best is first: the rows are in order again
        assert order == [str(r.number) for r in screen._sorted(list(done.rows))]
        assert screen._chosen() == chosen and table.cursor_row == 4  # the cursor followed its trial down a row
        assert best.version > versions[0]
        versions = best.version, curves.version
        screen.show(replace(done, rows=tuple(done.rows)))  # an equal view read again: nothing drawn
        assert (best.version, curves.version) == versions
