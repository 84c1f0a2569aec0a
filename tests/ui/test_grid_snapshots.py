"""Snapshots of the grid at 80x24 and 120x40: mistakes, tags, a relabel, a selection and the cursor shown."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from mnist_tui.app import MnistApp
from tests.support import fakes

SIZES = [(80, 24), (120, 40)]


@pytest.fixture(autouse=True)
def own_store(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_TUI_HOME", str(tmp_path / "home"))


def grid_app() -> MnistApp:
    app = MnistApp(predictions=fakes.fake_predictions())
    app.animation_level = "none"
    return app


async def tagged(pilot) -> None:
    """Tags and a relabel in the store, then the grid with a selection and the cursor on a tagged mistake."""
    await pilot.pause()
    screen = pilot.app.screen
    book = screen.tag_book()
    book.add([5, 13], "mislabelled", run_id=1)
    book.add([2], "ambiguous")
    book.add([3], "blurry")
    book.relabel([5], 8)
    screen._changed_marks()
    await pilot.press("G", "right", "right", "space", "right", "right", "right")
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_grid_with_tags_and_mistakes(snap_compare, size):
    assert snap_compare(grid_app(), terminal_size=size, run_before=tagged)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_grid_in_braille_over_a_query(snap_compare, size):
    async def queried(pilot) -> None:
        await tagged(pilot)
        await pilot.press("m", "slash", *"mistakes or tagged", "enter")
        await pilot.pause()

    assert snap_compare(grid_app(), terminal_size=size, run_before=queried)


def test_query_error_inline(snap_compare):
    async def typing(pilot) -> None:
        await pilot.pause()
        await pilot.press("slash", *"label 7 and conf < 1.5")
        for widget in pilot.app.screen.query(Input):
            widget.cursor_blink = False
        await pilot.pause()

    assert snap_compare(grid_app(), terminal_size=(120, 40), run_before=typing)


def test_tag_picker(snap_compare):
    async def picking(pilot) -> None:
        await tagged(pilot)
        await pilot.press("x")
        await pilot.pause()

    assert snap_compare(grid_app(), terminal_size=(80, 24), run_before=picking)
