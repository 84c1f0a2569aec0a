"""Snapshots of the map (PCA and islands from fake embeddings) and the weight grid, at 80x24 and 120x40.

Fed by :class:`tests.support.fakes.FakeModelServer`: no Keras, no process; each picture waits for
what the map's (or the grid's) worker thread has posted.
Regenerate with ``pytest tests/ui/test_map_snapshots.py --snapshot-update`` and look at
every changed SVG before committing it.
"""

from __future__ import annotations

import pytest

from tests.support import fakes
from tests.support.apps import map_screen, open_weights, results_app
from tests.support.pilot import wait_until

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
        screen = map_screen(**options)
        await pilot.app.push_screen(screen)
        if options.get("layout_done", True):
            await pilot.app.workers.wait_for_complete()
        else:  # the layout works on: wait for its pushed progress
            await wait_until(pilot, lambda: "40%" in screen.progress)
        await pilot.pause()

    assert snap_compare(results_app(), press=press, terminal_size=size, run_before=open_map)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("kind", ["dense", "conv", "dense-page-2"])
def test_weights_screen(snap_compare, kind, size):
    async def open_grid(pilot):
        await open_weights(
            pilot, fakes.FakeModelServer(fakes.fake_predictions().labels, weights=kind.removesuffix("-page-2"))
        )

    press = ["pagedown"] if kind.endswith("page-2") else []
    assert snap_compare(results_app(), press=press, terminal_size=size, run_before=open_grid)
