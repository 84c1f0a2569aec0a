"""Comparing recorded runs: the pure helpers on hand-made arrays, and Pilot tests of the keys.

Fed by a store in tmp_path holding runs written straight through the store's API
(their own curves and made-up probabilities; no Keras) and MNIST-shaped fake images.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from textual.widgets import DataTable, Static

from mnist_tui.config import TrainConfig
from mnist_tui.runs import compare, open_store
from mnist_tui.runs import format as fmt
from mnist_tui.screens.compare import CompareScreen
from mnist_tui.screens.dialogs import HelpScreen
from mnist_tui.screens.flipped import FlippedResults
from mnist_tui.screens.runs import RunsScreen
from mnist_tui.widgets.chart import LineChart
from tests.support.compare import LABELS, WRONG_1, WRONG_2, CompareApp, add_run, curve, fake_test_set, fill
from tests.support.store import NOW


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_TUI_HOME", str(tmp_path))
    fill(tmp_path)
    return tmp_path


# ---------------------------------------------------------------------- pure helpers


def test_flipped_counts_equal_a_hand_count():
    labels = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    a = np.eye(10)[[0, 1, 2, 3, 4, 5, 6, 7, 9, 9]]  # wrong on 8
    b = np.eye(10)[[0, 7, 2, 3, 1, 5, 6, 7, 8, 0]]  # wrong on 1, 4, 9
    a_only, b_only = compare.flipped(labels, a, b)
    assert a_only.tolist() == [1, 4, 9] and b_only.tolist() == [8]


def test_flipped_sets_pair_the_first_run_with_each_other(home):
    store = open_store(home)
    scored = {run_id: compare.load_scored(store, run_id) for run_id in (1, 2, 3)}
    scored[4] = "run 4 has no test predictions"
    sets, notes = compare.flipped_sets([1, 2, 3, 4], scored)
    # by hand: run 1 is wrong on i = 5 mod 8, run 2 on i = 3 mod 7, run 3 on i = 0 mod 9;
    # 1 and 2 share 45, 101, 157; 1 and 3 share 45, 117, 189
    assert [(s.right, s.wrong, len(s)) for s in sets] == [
        (1, 2, 29 - 3),
        (2, 1, 25 - 3),
        (1, 3, 23 - 3),
        (3, 1, 25 - 3),
    ]
    assert compare.counts_line(sets[:2]) == "run 1 right, run 2 wrong: 26 · run 2 right, run 1 wrong: 22"
    expected = np.flatnonzero(WRONG_2 & ~WRONG_1)
    np.testing.assert_array_equal(sets[0].indices, expected)
    assert notes == ["run 4 has no test predictions"]
    other_labels = compare.Scored(np.roll(scored[2].labels, 1), scored[2].probabilities)
    assert compare.flipped_sets([1, 2], {1: scored[1], 2: other_labels}) == (
        [],
        ["runs 1 and 2 were scored on different test images"],
    )


def test_options_that_differ_and_the_best_epochs(home):
    store = open_store(home)
    one, two, three = (store.get_run(n) for n in (1, 2, 3))
    assert compare.differing_options([one, two]) == ["learning_rate"]
    keys = compare.differing_options([one, two, three])
    assert keys == ["arch", "epochs", "batch_size", "learning_rate"]  # all three have 128 hidden units
    assert compare.apart(three, keys) == "cnn epochs=5 batch=64 lr=0.001"
    assert compare.format_option(compare.option_value(three, "hidden_units")) == "128"  # the CNN's dense layer
    assert compare.lowest_val_loss(two).epoch == 4  # it overfits after that
    assert compare.lowest_val_loss(store.get_run(4)) is None
    assert math.isnan(compare.metric(one, "val_loss")[0]) is False


def test_cnn_runs_that_differ_only_in_hidden_units_are_told_apart(tmp_path):
    # the CNN's dense layer after the convolutions is hidden_units wide: a real difference
    narrow, usual = TrainConfig(arch="cnn", hidden_units=64), TrainConfig(arch="cnn")
    assert narrow.describe()["hidden_units"] == 64 and usual.describe()["hidden_units"] == 128
    store = open_store(tmp_path, clock=lambda: NOW)
    one, two = (store.get_run(add_run(store, c, curve(3, 1.0, 0.02), wrong=WRONG_1)) for c in (narrow, usual))
    assert one.options == {"hidden": 64} and fmt.options(one) == "hidden=64" and two.options == {}
    assert compare.differing_options([one, two]) == ["hidden_units"]
    assert compare.apart(one, ["hidden_units"]) == "hidden=64"
    assert compare.format_option(compare.option_value(two, "hidden_units")) == "128"


# ---------------------------------------------------------------------- keys


async def test_c_needs_two_to_eight_marked_runs(home):
    app = CompareApp(home)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("c")
        # run 4 failed before its first epoch: out of the list; run 3 is first
        await pilot.press("space", "c")  # run 3 alone
        await pilot.pause()
        said = [n.message for n in app._notifications]
        assert len(said) == 2 and all("Mark 2 to 8 runs with space" in m for m in said)
        assert isinstance(app.screen, RunsScreen)
        await pilot.press("down", "space", "c")  # runs 3 and 1 (space moves down a row)
        await pilot.pause()
        assert isinstance(app.screen, CompareScreen) and app.screen.run_ids == [3, 1]
        await pilot.press("escape")
        assert isinstance(app.screen, RunsScreen) and app.screen.marked == [3, 1]


async def test_comparison_shows_curves_table_and_flipped_counts(home):
    app = CompareApp(home, [1, 2, 3])
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        for metric in ("val_accuracy", "val_loss", "loss"):
            assert screen.query_one(f"#chart-{metric}", LineChart).series_names == ["#1", "#2", "#3"]
        legend = str(screen.query_one("#compare-legend", Static).render())
        assert "#2 mlp-2 · mlp epochs=10 batch=32 lr=0.01" in legend
        assert_no_part_starts_with_a_space(screen._legend())
        table = screen.query_one("#compare-table", DataTable)
        assert [str(c.label) for c in table.columns.values()] == [
            "run",
            "arch",
            "epochs",
            "batch",
            "lr",
            "best val acc",
            "min val loss",
            "test acc",
            "time",
        ]
        assert str(table.get_row_at(1)[6]) == f"{curve(10, 1.2, 0.015, 0.012)[3][2]:.4f} @4"
        flipped = screen.query_one("#flipped", DataTable)
        assert [str(flipped.get_row_at(n)[1]) for n in range(4)] == ["26", "22", "20", "22"]
        chart = screen.query_one("#chart-val_loss", LineChart)
        await pilot.press("y")
        assert chart.log_y and screen.query_one("#chart-loss", LineChart).log_y
        assert not screen.query_one("#chart-val_accuracy", LineChart).log_y
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)


async def test_enter_browses_exactly_the_flipped_images(home):
    app = CompareApp(home, [1, 2])
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("down", "enter")  # run 2 right, run 1 wrong
        await pilot.pause()
        browser = app.screen
        assert isinstance(browser, FlippedResults)
        expected = np.flatnonzero(WRONG_1 & ~WRONG_2)
        np.testing.assert_array_equal(browser.indices, expected)
        assert browser.current == expected[0] and browser.predictions.correct[expected].all()
        other = str(browser.query_one("#other-run", Static).render())
        assert other.startswith(f"run 1 says {(LABELS[expected[0]] + 3) % 10}") and "✗ wrong" in other
        await pilot.press("e")  # mistakes of run 2 among them: none
        assert len(browser.indices) == 0
        await pilot.press("e", "7")  # one digit: still only flipped images
        np.testing.assert_array_equal(browser.indices, expected[LABELS[expected] == 7])
        await pilot.press("a", "home", "right")
        assert browser.current == expected[1]
        assert str(browser.query_one("#other-run", Static).render()).startswith(
            f"run 1 says {(LABELS[expected[1]] + 3) % 10}"
        )
        await pilot.press("escape")
        assert isinstance(app.screen, CompareScreen)


async def test_runs_without_epochs_or_predictions_say_so(home):
    app = CompareApp(home, [4, 1])
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert "(failed, no epochs recorded)" in str(screen.query_one("#compare-legend", Static).render())
        assert screen.query_one("#chart-val_loss", LineChart).series_names == ["#1"]
        notes = str(screen.query_one("#flipped-notes", Static).render())
        assert "run 4 has no test predictions (it failed)" in notes
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, CompareScreen)
        assert any("no flipped images" in n.message for n in app._notifications)


async def test_images_load_off_the_ui_thread_when_the_app_has_none(home, monkeypatch):
    import threading

    from mnist_tui import data

    threads = []

    def load(path=None, **kwargs):
        threads.append(threading.current_thread())
        return fake_test_set()

    monkeypatch.setattr(data, "load_mnist", load)
    app = CompareApp(home, [1, 2], images=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, FlippedResults) and threads and threads[0] is not threading.main_thread()
        assert app.images.data is not None  # the session's: the next browse needs no loading
        await pilot.press("escape", "down", "enter")
        assert isinstance(app.screen, FlippedResults) and len(threads) == 1


async def test_browsing_flipped_images_counts_them_one_way_and_says_loading_in_place(home, monkeypatch):
    import threading

    from mnist_tui import data

    release = threading.Event()

    def load(path=None, **kwargs):
        release.wait(5)
        return fake_test_set()

    monkeypatch.setattr(data, "load_mnist", load)
    app = CompareApp(home, [1, 2], images=False)
    async with app.run_test(size=(120, 40)) as pilot:
        compare_screen = app.screen
        await pilot.press("down", "enter")  # run 2 right, run 1 wrong
        await pilot.pause()
        notes = compare_screen.query_one("#flipped-notes", Static)
        assert "Loading MNIST's test images" in str(notes.render())  # said while it reads
        release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        browser = app.screen
        assert isinstance(browser, FlippedResults)
        count = len(np.flatnonzero(WRONG_1 & ~WRONG_2))
        panel = browser.query_one("#digit-panel")
        assert browser.sub_title.endswith(f"· {count:,} images")
        assert str(panel.border_subtitle) == f"all · 1 of {count:,}"
        assert str(panel.border_title) == f"index {browser.current} · {count:,} images"
        for _ in range(3):  # no loading notice turns up once the images are on screen
            await pilot.pause(0.05)
            assert not any("Loading" in n.message for n in app._notifications)
        await pilot.press("escape")
        assert "Loading" not in str(notes.render())  # the notes are back


def assert_no_part_starts_with_a_space(text) -> None:
    """Every differently styled part of ``text`` starts with a character, not a space.

    An SVG export (the README's screenshots) writes each part as its own text element, and
    viewers drop an element's leading spaces: "#2 mlp-2  hidden=128" showed as "mlp-2hidden=128".
    """
    from rich.console import Console

    parts: list[list] = []
    for segment in Console(width=400).render(text):
        if segment.text == "\n":
            parts.append([None, ""])
            continue
        if parts and parts[-1][0] == segment.style:
            parts[-1][1] += segment.text
        else:
            parts.append([segment.style, segment.text])
    starts = [text for n, (_, text) in enumerate(parts) if n and parts[n - 1][1] and text[:1] == " "]
    assert not starts, [text for _, text in parts]


async def test_the_flipped_table_and_the_legend_read_as_written(home):
    app = CompareApp(home, [1, 2])
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#flipped", DataTable)
        labels = [table.get_cell_at((row, 0)) for row in range(table.row_count)]
        assert [label.plain for label in labels] == ["run 1 right, run 2 wrong", "run 2 right, run 1 wrong"]
        for label in labels:
            assert_no_part_starts_with_a_space(label)
        runs = app.screen.query_one("#compare-table", DataTable)
        assert_no_part_starts_with_a_space(runs.get_cell_at((0, 0)))
        legend = app.screen._legend()
        assert legend.plain.splitlines()[1].startswith("━━ #2 mlp-2 · ")
        assert_no_part_starts_with_a_space(legend)
