"""The grid, queries, tags and relabels in the browser, driven by keys (fake predictions, a store of the test's own)."""

from __future__ import annotations

import numpy as np
import pytest
from textual.widgets import Input, Label

from mnist_tui.app import MnistApp
from mnist_tui.screens.grid import GridScreen
from mnist_tui.screens.marking import QueryDialog, RelabelDialog, TagPicker
from mnist_tui.screens.results import ResultsScreen
from mnist_tui.widgets.grid import ThumbnailGrid
from tests.support import fakes


@pytest.fixture(autouse=True)
def own_store(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_TUI_HOME", str(tmp_path / "home"))


def app() -> MnistApp:
    made = MnistApp(predictions=fakes.fake_predictions())
    made.animation_level = "none"
    return made


async def browser(pilot) -> ResultsScreen:
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, ResultsScreen)
    return screen


@pytest.mark.parametrize("size, least", [((80, 24), 8), ((120, 40), 24)])
async def test_the_grid_fits_enough_thumbnails(size, least):
    async with app().run_test(size=size) as pilot:
        await browser(pilot)
        await pilot.press("G")
        await pilot.pause()
        assert isinstance(pilot.app.screen, GridScreen)
        assert pilot.app.screen.query_one(ThumbnailGrid).page_size >= least


async def test_the_grid_shows_the_browsers_view_and_enter_opens_the_image():
    async with app().run_test(size=(120, 40)) as pilot:
        results = await browser(pilot)
        await pilot.press("e", "o", "o", "G")  # mistakes, suspicious labels first
        await pilot.pause()
        grid = pilot.app.screen.query_one(ThumbnailGrid)
        assert np.array_equal(grid.indices, results.indices) and len(grid.indices) == 25
        await pilot.press("pagedown")
        assert pilot.app.screen.position == 24  # past the end: the last image
        await pilot.press("pageup", "right", "down", "left")
        assert pilot.app.screen.position == grid.columns
        chosen = int(results.indices[grid.columns])
        await pilot.press("enter")
        await pilot.pause()
        assert pilot.app.screen is results and results.current == chosen
        await pilot.press("G", "end", "escape")
        await pilot.pause()
        assert pilot.app.screen is results and results.current == chosen  # escape keeps the browser's image


async def test_select_several_and_tag_them_at_once_then_untag():
    async with app().run_test(size=(120, 40)) as pilot:
        results = await browser(pilot)
        await pilot.press("G", "space", "right", "right", "space", "x")
        await pilot.pause()
        assert isinstance(pilot.app.screen, TagPicker)
        await pilot.press("m")
        await pilot.pause()
        assert isinstance(pilot.app.screen, GridScreen)
        assert results.tag_book().read().tags == {0: ("mislabelled",), 2: ("mislabelled",)}
        assert pilot.app.screen.query_one(ThumbnailGrid).marks.tags[2] == ("mislabelled",)
        await pilot.press("x", "m")  # all of them have it: off again
        await pilot.pause()
        assert results.tag_book().read().tags == {}


async def test_a_typed_tag_and_a_bad_one():
    async with app().run_test(size=(120, 40)) as pilot:
        results = await browser(pilot)
        await pilot.press("x", "t", *"two words", "enter")
        await pilot.pause()
        assert "cannot be a tag" in str(pilot.app.screen.query_one("#tag-message", Label).content)
        field = pilot.app.screen.query_one(Input)
        field.value = ""
        await pilot.press(*"Blurry", "enter")
        await pilot.pause()
        assert results.tag_book().read().tags == {0: ("blurry",)}
        assert "blurry" in str(results.query_one("#digit-panel").border_title)


async def test_relabel_offers_the_models_label_first():
    async with app().run_test(size=(120, 40)) as pilot:
        results = await browser(pilot)
        await pilot.press(*["right"] * 5, "b")  # index 5: a 5 the fakes read as 8
        await pilot.pause()
        assert isinstance(pilot.app.screen, RelabelDialog)
        await pilot.press("enter")
        await pilot.pause()
        assert results.tag_book().read().relabels == {5: 8}
        await pilot.press("b", "3")
        await pilot.pause()
        assert results.tag_book().read().relabels == {5: 3}
        await pilot.press("b", "backspace")
        await pilot.pause()
        assert results.tag_book().read().relabels == {}


async def test_a_query_shows_its_errors_as_you_type_and_narrows_the_view():
    async with app().run_test(size=(120, 40)) as pilot:
        results = await browser(pilot)
        await pilot.press("slash")
        await pilot.pause()
        dialog = pilot.app.screen
        assert isinstance(dialog, QueryDialog)
        await pilot.press(*"label 7 and pred")
        await pilot.pause()
        message = str(dialog.query_one("#query-message", Label).content)
        assert message == "column 17: expected a whole number after pred, got the end"
        assert str(dialog.query_one("#query-caret", Label).content) == "─" * 17 + "^"
        await pilot.press("enter")  # refused: still there
        assert pilot.app.screen is dialog
        await pilot.press(*" 0")
        await pilot.pause()
        assert str(dialog.query_one("#query-message", Label).content) == "5 images"
        await pilot.press("enter")
        await pilot.pause()
        assert results.indices.tolist() == [37, 77, 117, 157, 197]
        assert "where label 7 and pred 0" in str(results.query_one("#digit-panel").border_subtitle)
        await pilot.press("slash", "ctrl+u", "enter")  # empty: no query
        await pilot.pause()
        assert len(results.indices) == 200


async def test_a_named_query_is_saved_and_reopened_and_can_read_tags():
    async with app().run_test(size=(120, 40)) as pilot:
        results = await browser(pilot)
        await pilot.press("x", "a")
        await pilot.pause()
        await pilot.press("slash", *"odd: tag ambiguous or label 9 and mistakes", "enter")
        await pilot.pause()
        assert results.tag_book().queries() == {"odd": "tag ambiguous or label 9 and mistakes"}
        assert results.indices.tolist() == [0, 29, 69, 109, 149, 189]
        await pilot.press("slash", "ctrl+u", "enter", "slash", *"odd", "enter")
        await pilot.pause()
        assert results.indices.tolist() == [0, 29, 69, 109, 149, 189]
        await pilot.press("x", "a")  # untag index 0: the query reads the tags again
        await pilot.pause()
        assert results.indices.tolist() == [29, 69, 109, 149, 189]


async def test_the_grid_opens_on_an_image_deep_in_the_view():
    async with app().run_test(size=(120, 40)) as pilot:
        results = await browser(pilot)
        await pilot.press("end", "G")
        await pilot.pause()
        grid = pilot.app.screen.query_one(ThumbnailGrid)
        assert grid.cursor == 199 and grid.first_shown() <= 199 < grid.first_shown() + grid.page_size
        assert results.current == 199
        line = grid.render_line(7)  # the first row's captions: the images around the last one are drawn
        assert "199" in line.text or "196" in line.text


async def test_n_opens_the_nearest_images_of_the_selections_first_image():
    made = MnistApp(predictions=fakes.fake_predictions(), model=fakes.FakeModelServer())
    made.animation_level = "none"
    async with made.run_test(size=(120, 40)) as pilot:
        results = await browser(pilot)
        await pilot.press("G", "right", "right", "right", "space", "left", "n")
        await pilot.pause()
        assert pilot.app.screen is results and results.current == 3
        from mnist_tui.widgets.neighbours import NeighboursPanel

        assert results.query_one(NeighboursPanel).display
