"""SparkBars draws exactly what Textual's Sparkline draws, cell for cell and colour for colour."""

from __future__ import annotations

import math

import pytest
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widgets import Sparkline

from mnist_tui.widgets.spark import SparkBars, buckets

SERIES = {
    "empty": [],
    "one point": [0.3],
    "fewer points than columns": [0.5, 0.2, 0.9, 0.1, 0.4],
    "more points than columns": [math.sin(i / 7) + i / 50 for i in range(173)],
    "flat": [0.25] * 40,
    "falling loss": [1 / (1 + i) for i in range(60)],
}


class Pair(App):
    CSS = "Sparkline, SparkBars { width: 37; height: 2; }"

    def compose(self) -> ComposeResult:
        yield Sparkline([])
        yield SparkBars()


def cells(widget, width: int, height: int) -> list[list[tuple[str, object, object]]]:
    """Each cell's character, foreground colour (where it shows) and background colour."""
    rows = []
    for strip in widget.render_lines(Region(0, 0, width, height)):
        row = []
        for segment in strip:
            style = segment.style
            for char in segment.text:
                fg = style.color if style and char != " " else None
                row.append((char, fg, style.bgcolor if style else None))
        rows.append(row)
    return rows


@pytest.mark.parametrize("name", SERIES)
async def test_same_cells_as_textual_sparkline(name):
    app = Pair()
    async with app.run_test(size=(60, 8)) as pilot:
        reference, fast = app.query_one(Sparkline), app.query_one(SparkBars)
        reference.data = SERIES[name]
        fast.data = SERIES[name]
        await pilot.pause()
        expected = cells(reference, 37, 2)
        assert cells(fast, 37, 2) == expected
        assert any(char.strip() for row in expected for char, _, _ in row)  # something was drawn


def test_buckets_cover_the_data_in_order():
    data = list(range(10))
    assert buckets(data, 4) == [[0, 1], [2, 3, 4], [5, 6], [7, 8, 9]]
    assert buckets(data[:3], 5) == [[0], [1], [2]]  # empty runs are dropped
