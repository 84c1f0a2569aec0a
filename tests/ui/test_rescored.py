"""Accuracy on your corrected labels beside the original: a column on the runs screen, an arrow in the comparison."""

from __future__ import annotations

import pytest

from mnist_tui.runs import open_store
from mnist_tui.runs.tags import TagBook
from mnist_tui.screens.compare import CompareScreen
from mnist_tui.widgets.runs_table import RunsTable
from tests.support import fakes
from tests.ui.test_runs_screen import RunsApp, filled, home  # noqa: F401 - fixtures

pytestmark = pytest.mark.usefixtures("utc")  # times on screen in UTC, whatever the machine's zone


async def test_the_runs_table_and_the_comparison_show_the_rescored_accuracy(home):  # noqa: F811
    predictions = fakes.fake_predictions()
    wrong = [int(i) for i in (predictions.predicted != predictions.labels).nonzero()[0][:2]]
    TagBook(open_store(home)).relabel(wrong, int(predictions.predicted[wrong[0]]))
    app = RunsApp(home)
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(RunsTable)
        assert "fixed" in [c.key for c in table.columns_in_use()]
        # every column fits beside the scrollbar: the options column gave up room for "Fixed"
        assert table.virtual_size.width <= table.size.width - 2
        assert "Size" in "".join(str(column.label) for column in table.columns.values())
        row = table.get_row("1")
        keys = [c.key for c in table.columns_in_use()]
        test, fixed = str(row[keys.index("test")]), str(row[keys.index("fixed")])
        # run 1 recorded the fake predictions (87.50%): one relabel agrees with the model
        assert fixed == f"{(predictions.correct.sum() + 1) / len(predictions):.2%}"
        assert test != fixed
        await pilot.press("end", "space", "up", "space", "c")  # runs 1 and 2
        await pilot.pause()
        assert isinstance(app.screen, CompareScreen)
        assert app.screen.fixed
        cells = [str(cell) for cell in app.screen.query_one("#compare-table").get_row_at(0)]
        assert any("→" in cell for cell in cells)
