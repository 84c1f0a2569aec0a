"""Snapshot tests of every screen in its important states, at 80x24 and 120x40.

Fed by fakes (scripted trainer events, fixed predictions): no Keras, no threads,
no clocks. Regenerate with ``pytest tests/ui/test_snapshots.py --snapshot-update``
and look at every changed SVG before committing it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from mnist_tui.app import MnistApp
from tests.support import fakes

SIZES = [(80, 24), (120, 40)]


def training_app(events) -> MnistApp:
    app = MnistApp(trainer_factory=lambda config: fakes.ScriptedTrainer(events), threaded=False)
    app.animation_level = "none"
    return app


def results_app() -> MnistApp:
    app = MnistApp(predictions=fakes.fake_predictions())
    app.animation_level = "none"
    return app


TRAINING_STATES = {
    "loading": (fakes.LOADING, []),
    "mid-training": (fakes.MID_TRAINING, []),
    "finished": (fakes.finished(), ["escape"]),  # back from the results to the training screen
    "stopped": (fakes.finished(stopped=True, epochs_done=3), ["escape"]),
    "failed": (fakes.FAILED, []),
    "cnn": ([*fakes.PREFIX[:3], fakes.started_cnn(), *fakes.PREFIX[4:], *fakes.batches(1, 600)], []),
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("state", list(TRAINING_STATES))
def test_training_screen(snap_compare, state, size):
    events, press = TRAINING_STATES[state]
    assert snap_compare(training_app(events), press=press, terminal_size=size)


RESULTS_STATES = {
    "first-image": [],
    "a-mistake": ["right"] * 5,
    "mistakes-only": ["e"],
    "one-digit": ["3", "right"],
    "least-confident": ["o"],
    "half-block": ["right", "right", "m"],
    "confusion-cursor": ["c", "right", "right", "down"],
    "confusion-drill": ["c", *["down"] * 3, *["right"] * 6, "enter"],
    "empty-view": ["2", "e"],  # even digits are never misread in the fakes
    "help": ["question_mark"],
    "goto-bad-input": ["g", "x", "y", "enter"],
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("state", list(RESULTS_STATES))
def test_results_screen(snap_compare, state, size):
    async def no_blink(pilot):
        for widget in pilot.app.screen.query(Input):
            widget.cursor_blink = False

    assert snap_compare(results_app(), press=RESULTS_STATES[state], terminal_size=size, run_before=no_blink)


def test_terminal_too_small(snap_compare):
    assert snap_compare(results_app(), terminal_size=(40, 12))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("drawn", [False, True], ids=["empty", "a-seven"])
def test_draw_screen(snap_compare, size, drawn):
    from tests.support.pilot import horizontal, stroke, vertical

    async def draw(pilot):
        await pilot.press("d")
        if drawn:
            compact = size[1] < 34
            top, right, bottom, left = (2, 20, 11, 8) if compact else (5, 40, 23, 16)
            await stroke(pilot, horizontal(top, left, right) + vertical(right, top, bottom))

    app = MnistApp(predictions=fakes.fake_predictions(), model=fakes.TemplateModel())
    app.animation_level = "none"
    assert snap_compare(app, terminal_size=size, run_before=draw)


FORM_STATES = {
    "train-form": ["t"],
    "train-form-errors": ["t", "backspace", "backspace", "0", "tab", "tab", "tab", "end", "backspace", "5"],
    "save-dialog": ["s"],
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("state", list(FORM_STATES))
def test_forms(snap_compare, state, size, monkeypatch):
    # the save dialog shows its path absolute: a fixed folder, so the snapshot does not change per run
    folder = Path("/tmp/mnist-tui-snapshot")
    folder.mkdir(exist_ok=True)
    monkeypatch.chdir(folder)

    async def no_blink(pilot):
        await pilot.pause()
        for widget in pilot.app.screen.query(Input):
            widget.cursor_blink = False

    app = MnistApp(predictions=fakes.fake_predictions(), model=fakes.TemplateModel())
    app.animation_level = "none"
    assert snap_compare(app, press=FORM_STATES[state], terminal_size=size, run_before=no_blink)
