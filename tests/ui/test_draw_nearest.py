"""n on the draw screen: the training images most like the drawing, from the model's process."""

from __future__ import annotations

import numpy as np

from mnist_tui.app import MnistApp
from mnist_tui.events import NearestImages
from mnist_tui.screens.draw import DrawScreen, NearestDialog
from mnist_tui.widgets.neighbours import NeighboursPanel
from mnist_tui.worker.protocol import Neighbours
from tests.support import fakes
from tests.support.pilot import stroke, vertical, wait_until


async def test_n_finds_the_training_images_nearest_to_the_drawing():
    model = fakes.FakeModelServer()
    app = MnistApp(predictions=fakes.fake_predictions(), model=model)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("d", "n")  # nothing drawn: said, nothing asked
        await pilot.pause()
        assert isinstance(app.screen, DrawScreen)
        await stroke(pilot, vertical(28, 4, 24))
        drawn = app.screen
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, NearestDialog)
        panel = app.screen.query_one(NeighboursPanel)
        await wait_until(pilot, lambda: not panel.pending)
        assert isinstance(panel.answer, NearestImages) and len(panel.answer.images) == 6
        asked = [r for r in model.requests if isinstance(r, Neighbours)]
        assert len(asked) == 1 and asked[0].image.shape == (28, 28) and asked[0].image.any()
        assert np.array_equal(asked[0].image, app.screen.image)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is drawn
