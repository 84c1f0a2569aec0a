"""The map (p) and the weights (L) opened from the results browser, and the map's selection as a view."""

from __future__ import annotations

import numpy as np

from mnist_tui.app import MnistApp
from mnist_tui.predictions import ViewFilter
from mnist_tui.screens.map import MapScreen
from mnist_tui.screens.results import ResultsScreen
from mnist_tui.screens.weights import WeightsScreen
from mnist_tui.widgets.scatter import ScatterPlot
from tests.support import fakes
from tests.support.fakes import FakeModelServer
from tests.support.pilot import wait_until


async def test_the_map_selection_becomes_the_browsers_view_and_l_opens_the_weights():
    predictions = fakes.fake_predictions()
    model = FakeModelServer(predictions.labels)
    app = MnistApp(predictions=predictions, model=model)
    async with app.run_test(size=(120, 40)) as pilot:
        results = app.screen
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, MapScreen) and app.screen.method == "islands")
        await pilot.press("shift+left", "shift+left", "shift+down")
        expected = app.screen.query_one(ScatterPlot).selected()
        assert 0 < len(expected) < len(predictions)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is results)
        assert results.indices.tolist() == sorted(int(i) for i in expected)
        assert f"{len(expected):,} from the map" in results.view.describe()
        await pilot.press("e")  # filters apply inside the selection
        assert set(results.indices.tolist()) <= set(int(i) for i in expected)
        await pilot.press("a")
        assert results.view == ViewFilter() and len(results.indices) == len(predictions)
        await pilot.press("L")
        await wait_until(pilot, lambda: isinstance(app.screen, WeightsScreen))
        assert "weights" in model.ops
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ResultsScreen))
        assert np.array_equal(app.screen.predictions.labels, predictions.labels)
