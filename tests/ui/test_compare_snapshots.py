"""Snapshots of the comparison of recorded runs (two and three runs) and its flipped-images browser.

Fed by a store written through the store's API at a fixed time (see tests/ui/test_compare.py):
no Keras, no threads, no host names on screen. Regenerate with
``pytest tests/ui/test_compare_snapshots.py --snapshot-update`` and look at every changed
SVG before committing it.
"""

from __future__ import annotations

import pytest

from tests.support.compare import CompareApp, fill

SIZES = [(80, 24), (120, 40)]

STATES = {
    "two-runs": ([1, 2], []),
    "three-runs": ([1, 2, 3], []),
    "log-scale": ([2, 1, 3, 4], ["y", "down", "down"]),  # with a run that failed before its first epoch
    "flipped-browser": ([1, 2], ["down", "enter"]),
}


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    home = tmp_path_factory.mktemp("store")
    fill(home)
    return home


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("state", list(STATES))
def test_comparison(snap_compare, filled, state, size):
    run_ids, keys = STATES[state]

    async def act(pilot):
        await pilot.press(*keys)
        await pilot.pause()

    assert snap_compare(CompareApp(filled, run_ids), terminal_size=size, run_before=act)
