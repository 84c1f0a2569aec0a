"""Textual's ``ProgressBar`` with a bar drawn straight into a strip.

The training screen moves both of its bars with every batch event. Textual's ``Bar``
renders a Rich renderable each time (a ``Text`` of four spans turned into segments by a
Rich console): 0.5-1.1 ms a bar in ``benchmarks/ui_cost.py --profile``. :class:`StripBar`
draws the same cells in the same styles from a few ``Segment``\\ s and keeps the strip
until the bar moves: 0.2-0.45 ms.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.app import ComposeResult
from textual.renderables.bar import Bar as BarRenderable
from textual.strip import Strip
from textual.widgets import ProgressBar
from textual.widgets._progress_bar import Bar, PercentageStatus


def bar_segments(width: int, end: float, highlight: Style, background: Style) -> list[tuple[str, Style]]:
    """The cells of a bar filled from 0 to ``end`` (in cells, rounded to halves), as Textual's bar draws them.

    ``highlight`` and ``background`` are the styles of the filled and the empty part
    (their text colours; a background bar whose colour is the terminal's default draws blanks).
    """
    full, half_left, half_right = BarRenderable.BAR, BarRenderable.HALF_BAR_LEFT, BarRenderable.HALF_BAR_RIGHT
    end = min(end, width)
    if end <= 0:
        return [(full * width, background)]
    end = round(end * 2) / 2
    half_end = end - int(end) > 0
    draw_background = background.color is None or not background.color.is_default
    back_full = full if draw_background else " "
    back_half_left = half_left if draw_background else " "
    pieces = [(full * int(end), highlight)]
    if half_end:
        pieces.append((half_right, highlight))
    else:
        if end - width != 0:
            pieces.append((back_half_left, background))
    pieces.append((back_full * (int(width) - int(end) - 1), background))
    return [(text, style) for text, style in pieces if text]


class StripBar(Bar):
    """Textual's ``Bar`` (determinate, no gradient) drawn as one strip; otherwise Textual draws it."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._strip: Strip | None = None
        self._strip_key: tuple[object, ...] | None = None

    def render_line(self, y: int) -> Strip:
        percentage = self.percentage
        if percentage is None or self.gradient is not None:
            return super().render_line(y)
        width = self.size.width
        bar_style = self.get_component_rich_style("bar--bar" if percentage < 1 else "bar--complete")
        base = self.visual_style.rich_style
        key = (width, percentage, bar_style, base)
        if key != self._strip_key or self._strip is None:
            highlight = base + Style.from_color(bar_style.color)
            background = base + Style.from_color(bar_style.bgcolor)
            pieces = bar_segments(width, width * percentage, highlight, background)
            self._strip = Strip([Segment(text, style) for text, style in pieces], width)
            self._strip_key = key
        return self._strip if y == 0 else Strip.blank(width, base)


class LiveProgressBar(ProgressBar):
    """A ``ProgressBar`` (bar and percentage, no ETA) whose bar is a :class:`StripBar`."""

    def compose(self) -> ComposeResult:
        if self.show_bar:
            yield (
                StripBar(id="bar", clock=self._clock).data_bind(ProgressBar.percentage).data_bind(ProgressBar.gradient)
            )
        if self.show_percentage:
            yield PercentageStatus(id="percentage").data_bind(ProgressBar.percentage)
