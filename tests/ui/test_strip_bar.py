"""The training screen's progress bars draw exactly what Textual's bar draws, from one strip."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets._progress_bar import Bar

from mnist_tui.widgets.bar import StripBar


def cells(strip) -> list[tuple[str, object]]:
    """Each cell's character and style, however the strip splits its segments."""
    return [(char, segment.style) for segment in strip for char in segment.text]


async def test_the_strip_bar_draws_textuals_bar_cell_for_cell_at_every_fill():
    class Bars(App):
        def compose(self) -> ComposeResult:
            yield Bar(id="textual")
            yield StripBar(id="strip")

    app = Bars()
    async with app.run_test(size=(40, 4)) as pilot:
        textual, strip = app.query_one("#textual", Bar), app.query_one("#strip", StripBar)
        assert textual.size.width == strip.size.width == 32
        for step in range(0, 65):  # every half cell, empty to full (full switches to the complete style)
            textual.percentage = strip.percentage = step / 64
            await pilot.pause()
            expected, drawn = cells(textual.render_line(0)), cells(strip.render_line(0))
            assert drawn == expected, (step, "".join(c for c, _ in drawn), "".join(c for c, _ in expected))
