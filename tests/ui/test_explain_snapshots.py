"""Snapshots of the results browser's explaining views (w, n, o) at 80x24 and 120x40.

Fed by the fake model server, which answers at once; each state waits until every panel shown
has its answer, so the pictures never catch a panel half-way. Regenerate with
``pytest tests/ui/test_explain_snapshots.py --snapshot-update`` and look at every changed SVG.
"""

from __future__ import annotations

import pytest

from mnist_tui.worker.protocol import Neighbours, Why
from tests.support.apps import explain_app, settle
from tests.support.fakes import FakeModelServer

SIZES = [(80, 24), (120, 40)]
GONE = "The model process was killed by SIGKILL."
NO_HIDDEN = "This model has no hidden layer: its output reads the pixels directly, so there is no learned space to compare images in."

STATES = {
    "why-correct": ({}, ["w"]),
    "why-mistake": ({}, [*["right"] * 5, "w"]),
    "neighbours": ({}, [*["right"] * 5, "n"]),
    "why-and-neighbours": ({}, [*["right"] * 5, "w", "n"]),
    "suspicious-order": ({}, ["o", "o", "home"]),
    "cannot-explain": ({Why: GONE, Neighbours: NO_HIDDEN}, ["w", "n"]),
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("state", list(STATES))
def test_explaining_views(snap_compare, state, size):
    errors, keys = STATES[state]

    async def press_and_settle(pilot):
        await pilot.press(*keys)
        await settle(pilot, pilot.app.screen)

    assert snap_compare(explain_app(FakeModelServer(errors=errors)), terminal_size=size, run_before=press_and_settle)
