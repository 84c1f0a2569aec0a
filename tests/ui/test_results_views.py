"""The map (p) and the weights (L) opened from the results browser, and the map's selection as a view."""

from __future__ import annotations

import numpy as np
import pytest

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


def _list_column(image_list) -> list[float]:
    """The last column of the list's visible rows, as fractions."""
    height = image_list.scrollable_content_region.height
    rows = ["".join(s.text for s in image_list.render_line(y)) for y in range(height)]
    return [float(row.split()[-1].rstrip("%")) / 100 for row in rows if row.strip()]


async def test_the_suspicious_order_shows_the_score_it_is_sorted_by():
    from mnist_tui.widgets.image_list import ImageList

    predictions = fakes.fake_predictions()
    app = MnistApp(predictions=predictions, model=FakeModelServer(predictions.labels))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        image_list = screen.query_one(ImageList)
        assert "conf" in str(image_list.border_title)
        await pilot.press("o", "o", "home")
        await pilot.pause()
        assert screen.view.order == "suspicious"
        assert "p(true)" in str(image_list.border_title)
        assert "sorted by p(true" in str(image_list.border_subtitle)
        shown = _list_column(image_list)
        assert len(shown) > 5
        given = predictions.probabilities[screen.indices, predictions.labels[screen.indices]]
        assert shown == pytest.approx(given[: len(shown)].tolist(), abs=0.0006)
        assert shown == sorted(shown)
        await pilot.press("o")  # back to the dataset order: the prediction's confidence again
        await pilot.pause()
        assert "conf" in str(image_list.border_title) and not image_list.border_subtitle
        shown, top = _list_column(image_list), image_list.scroll_offset.y
        expected = predictions.confidence[screen.indices[top : top + len(shown)]]
        assert shown == pytest.approx(expected.tolist(), abs=0.0006)


async def test_one_numbering_convention_title_footer_and_go_to():
    predictions = fakes.fake_predictions()
    app = MnistApp(predictions=predictions, model=FakeModelServer(predictions.labels))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        panel = screen.query_one("#digit-panel")
        assert str(panel.border_title) == f"index 0 · {len(predictions):,} images"
        assert str(panel.border_subtitle) == f"all · 1 of {len(predictions):,}"
        await pilot.press("right", "right", "right")
        assert str(panel.border_title).startswith("index 3 ·") and "4 of" in str(panel.border_subtitle)
        await pilot.press("g")
        await pilot.pause()
        label = str(app.screen.query("Label").first().render())
        assert label == f"Index of a test image, 0 to {len(predictions) - 1}:"
        await pilot.press("1", "2", "enter")
        await pilot.pause()
        assert screen.current == 12 and str(panel.border_title).startswith("index 12 ·")


def _screen_lines(widget) -> list[str]:
    return ["".join(s.text for s in widget.render_line(y)).rstrip() for y in range(widget.size.height)]


@pytest.mark.parametrize("width", [120, 80, 100])
async def test_the_per_digit_line_breaks_between_entries(width):
    predictions = fakes.fake_predictions()  # some digits at 100.0%, some at 75.0%
    app = MnistApp(predictions=predictions, model=FakeModelServer(predictions.labels))
    async with app.run_test(size=(width, 40)) as pilot:
        await pilot.pause()
        summary = app.screen.query_one("#summary")
        lines = _screen_lines(summary)
        text = " ".join(lines)
        assert "per digit:" in text
        for digit, accuracy in enumerate(predictions.per_digit_accuracy()):
            entry = f"{digit} {accuracy:.1%}"
            assert any(entry in line for line in lines), (entry, lines)
        assert all(len(line) <= width for line in lines)


async def test_the_prediction_lines_keep_their_spaces_in_an_svg_export():
    from tests.ui.test_compare import assert_no_part_starts_with_a_space

    predictions = fakes.fake_predictions()
    app = MnistApp(predictions=predictions, model=FakeModelServer(predictions.labels))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press(*["right"] * 5)  # a mistake
        for name in ("#prediction-label", "#prediction-verdict"):
            text = app.screen.query_one(name).content
            assert_no_part_starts_with_a_space(text)
        assert app.screen.query_one("#prediction-label").content.plain.startswith("True ")


async def test_the_summary_keeps_its_spaces_in_an_svg_export():
    from tests.ui.test_compare import assert_no_part_starts_with_a_space

    predictions = fakes.fake_predictions()
    app = MnistApp(predictions=predictions, model=FakeModelServer(predictions.labels))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        summary = app.screen.query_one("#summary").content
        for line in summary.split("\n"):
            assert_no_part_starts_with_a_space(line)
        assert "87.50% · 25 mistakes of 200 · per digit:  0 100.0%  1 75.0%" in summary.plain
