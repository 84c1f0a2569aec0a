"""Snapshots of the map (PCA and islands from fake embeddings) and the weight grid, at 80x24 and 120x40.

Fed by :class:`tests.test_map.FakeMapModel`: no Keras, no process, no thread.
Regenerate with ``pytest tests/test_map_snapshots.py --snapshot-update`` and look at
every changed SVG before committing it.
"""

from __future__ import annotations

import pytest

from mnist_tui.screens.map import MapScreen
from mnist_tui.screens.weights import WeightsScreen

from . import fakes
from .test_map import FakeMapModel, results_app

SIZES = [(80, 24), (120, 40)]

MAP_STATES = {
    "pca-computing": ({"layout_done": False}, []),
    "islands": ({}, []),
    "islands-by-confidence": ({}, ["shift+right", "shift+down", "k", "k"]),
    "probabilities": ({"embeddings_error": "this model's layers cannot be read as a graph"}, []),
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("state", list(MAP_STATES))
def test_map_screen(snap_compare, state, size):
    options, press = MAP_STATES[state]

    async def open_map(pilot):
        predictions = fakes.fake_predictions()
        model = FakeMapModel(predictions.labels, **options)
        await pilot.app.push_screen(MapScreen(predictions, model, 3, threaded=False))
        await pilot.pause()

    assert snap_compare(results_app(), press=press, terminal_size=size, run_before=open_map)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("kind", ["dense", "conv", "dense-page-2"])
def test_weights_screen(snap_compare, kind, size):
    async def open_weights(pilot):
        model = FakeMapModel(fakes.fake_predictions().labels, weights=kind.removesuffix("-page-2"))
        await pilot.app.push_screen(WeightsScreen(model, threaded=False))
        await pilot.pause()

    press = ["pagedown"] if kind.endswith("page-2") else []
    assert snap_compare(results_app(), press=press, terminal_size=size, run_before=open_weights)
