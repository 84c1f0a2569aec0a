"""Pilot tests of the draw screen: mouse and keyboard drawing, live predictions (fake model, no Keras)."""

from __future__ import annotations

import time

import numpy as np

from mnist_tui.app import MnistApp
from mnist_tui.screens.draw import DrawScreen
from mnist_tui.screens.results import ResultsScreen
from mnist_tui.widgets.canvas import DrawCanvas
from mnist_tui.widgets.digit import DigitView
from mnist_tui.widgets.neighbours import NeighboursPanel
from mnist_tui.worker.protocol import Neighbours, Predict
from tests.support import fakes
from tests.support.pilot import horizontal, settled, stroke, vertical, wait_until


def draw_app(model=None) -> MnistApp:
    return MnistApp(predictions=fakes.fake_predictions(), model=model or fakes.TemplateModel())


async def test_drawing_with_the_mouse_changes_the_prediction():
    app = draw_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("d")
        screen = app.screen
        assert isinstance(screen, DrawScreen) and screen.guess is None
        await stroke(pilot, vertical(28, 4, 24))
        assert screen.guess == 1
        first = screen.probabilities.copy()
        await pilot.press("x")
        await stroke(pilot, horizontal(5, 16, 40) + vertical(40, 5, 23))  # a 7 in one stroke
        assert screen.guess == 7
        assert not np.allclose(first, screen.probabilities)
        seen = screen.query_one("#seen", DigitView).image
        assert seen is not None and seen.any()  # the preprocessed image is shown


async def test_right_button_erases_and_x_clears():
    app = draw_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("d")
        canvas = app.screen.query_one(DrawCanvas)
        await stroke(pilot, horizontal(14, 4, 50))
        assert canvas.canvas.pixels[14, 12] == 1.0
        await stroke(pilot, vertical(24, 10, 18), button=3)
        assert canvas.canvas.pixels[14, 12] == 0 and canvas.canvas.pixels[14, 4] == 1.0
        await pilot.press("x")
        await settled(pilot)
        assert canvas.canvas.is_empty and app.screen.guess is None


async def test_keyboard_drawing():
    app = draw_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("d")
        canvas = app.screen.query_one(DrawCanvas)
        assert canvas.cursor == (14, 14)
        await pilot.press("space")
        assert canvas.canvas.pixels[14, 14] == 1.0
        await pilot.press("p", *["down"] * 8, "p", *["up"] * 12)  # the pen draws down, then is lifted
        await settled(pilot)
        column = canvas.canvas.pixels[:, 14]
        assert (column[14:23] == 1.0).all() and column[2:12].max() < 1.0 and canvas.cursor == (14, 10)
        assert app.screen.guess is not None
        await pilot.press("backspace")  # erases under the cursor
        assert canvas.canvas.pixels[10, 14] == 0


async def test_short_terminal_draws_with_half_blocks():
    app = draw_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("d")
        canvas = app.screen.query_one(DrawCanvas)
        assert canvas.compact and canvas.size.height == 14
        await stroke(pilot, vertical(14, 2, 11))  # rows 2..11 of cells are pixel rows 4..23
        column = canvas.canvas.pixels[:, 14]
        assert column[4:24].min() == 1.0 and app.screen.guess == 1


async def test_a_burst_of_changes_costs_one_prediction():
    model = fakes.TemplateModel()
    app = draw_app(model)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("d")
        canvas = app.screen.query_one(DrawCanvas)
        for x in range(4, 24):  # twenty pointer events arriving faster than the model is asked
            canvas.canvas.stroke_to(x, 14)
            canvas.post_message(DrawCanvas.Changed())
        await settled(pilot)
        assert model.calls == 1 and app.screen.guess is not None


async def test_escape_returns_to_the_results_and_no_model_is_explained():
    app = draw_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("d", "escape")
        assert isinstance(app.screen, ResultsScreen)
    app = MnistApp(predictions=fakes.fake_predictions())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ResultsScreen)
        assert any("no model" in n.message for n in app._notifications)


async def test_the_draw_screen_predicts_and_answers_keys_while_a_neighbours_job_is_held():
    model = fakes.FakeModelServer()
    gate = model.hold(Neighbours)  # embedding the training set: seconds to a minute in a real process
    app = draw_app(model)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("n")
            await wait_until(pilot, lambda: Neighbours in model.waiting)
            await pilot.press("d")
            screen = app.screen
            await stroke(pilot, vertical(28, 4, 24))
            assert screen.guess == 1 and Neighbours in model.waiting
            canvas = screen.query_one(DrawCanvas)
            x, y = canvas.cursor
            await pilot.press("x", "space", "right", "space")
            assert canvas.cursor == (x + 1, y) and canvas.canvas.pixels[y, x + 1] == 1.0
            await settled(pilot)
            assert screen.guess is not None and Neighbours in model.waiting
            gate.set()
            await pilot.press("escape")
            await wait_until(pilot, lambda: not app.screen.query_one(NeighboursPanel).pending)
            assert app.screen.query_one(NeighboursPanel).answer is not None
    finally:
        gate.set()


async def test_a_slow_prediction_never_holds_up_a_key():
    model = fakes.FakeModelServer()
    gate = model.hold(Predict)  # a model process that is busy, or slow to answer
    app = draw_app(model)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("d")
            screen = app.screen
            canvas = screen.query_one(DrawCanvas)
            await pilot.press("space")
            await wait_until(pilot, lambda: Predict in model.waiting)
            started = time.monotonic()
            await pilot.press("p", *["down"] * 6, "p")  # keys go on being answered while the model is asked
            # a blocked event loop would answer them only when the hold gives up (HOLD_LIMIT, 10 s)
            assert time.monotonic() - started < 5
            assert canvas.cursor == (14, 20) and canvas.canvas.pixels[20, 14] == 1.0
            assert screen.guess is None and Predict in model.waiting
            gate.set()
            await settled(pilot)
            await wait_until(pilot, lambda: screen.guess is not None)
    finally:
        gate.set()
