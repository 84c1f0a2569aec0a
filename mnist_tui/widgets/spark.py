"""A sparkline drawn with the Line API: Textual's ``Sparkline`` look at a fraction of its cost.

The training screen redraws two sparklines about ten times a second while Keras
trains. Textual's ``Sparkline`` builds a Rich renderable on every refresh (fractions
for the buckets, a new style per bar), which made it the costliest part of a batch
update; this widget builds its lines once per change of data or size and only
hands them out afterwards (``python benchmarks/ui_cost.py`` measures the screen).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.color import Color as RichColor
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from .cached import CachedLines

BARS = "▁▂▃▄▅▆▇█"


def buckets(data: Sequence[float], width: int) -> list[Sequence[float]]:
    """Split ``data`` into ``width`` consecutive runs, dropping empty ones (as ``Sparkline`` does)."""
    n = len(data)
    runs = (data[(n * b) // width : (n * (b + 1)) // width] for b in range(width))
    return [run for run in runs if len(run)]


class SparkBars(CachedLines):
    """The maximum of each bucket of ``data`` as a bar, coloured from the min to the max colour."""

    COMPONENT_CLASSES = {"sparkline--max-color", "sparkline--min-color"}
    DEFAULT_CSS = """
    SparkBars { height: 1; }
    SparkBars > .sparkline--max-color { color: $primary; }
    SparkBars > .sparkline--min-color { color: $primary 30%; }
    """

    def __init__(self, data: Sequence[float] = (), **kwargs) -> None:
        super().__init__(**kwargs)
        self._data: list[float] = list(data)

    @property
    def data(self) -> list[float]:
        return self._data

    @data.setter
    def data(self, values: Sequence[float]) -> None:
        self._data = list(values)
        self.invalidate()

    def build(self, width: int, height: int) -> list[Strip]:
        base_style = self.rich_style
        _, background = self.background_colors
        low = background + self.get_component_styles("sparkline--min-color").color
        high = background + self.get_component_styles("sparkline--max-color").color
        (r1, g1, b1), (r2, g2, b2) = low.rgb, high.rgb
        styles: dict[tuple[int, int, int], Style] = {}

        def style(ratio: float) -> Style:
            rgb = (int(r1 + (r2 - r1) * ratio), int(g1 + (g2 - g1) * ratio), int(b1 + (b2 - b1) * ratio))
            if rgb not in styles:
                styles[rgb] = base_style + Style(color=RichColor.from_rgb(*rgb))
            return styles[rgb]

        data = self._data
        blank = [Strip.blank(width, base_style) for _ in range(height)]
        if width <= 0 or height <= 0:
            return blank
        if not data:
            return [*blank[:-1], Strip([Segment(BARS[0] * width, style(0.0))], width)]
        if len(data) == 1:
            return [Strip([Segment("█" * width, style(1.0))], width) for _ in range(height)]
        minimum, maximum = min(data), max(data)
        extent = maximum - minimum or 1
        parts = buckets(data, width)
        step, position, ratios = len(parts) / width, 0.0, []
        for _ in range(width):  # the same float steps as Sparkline, so the same bucket for each bar
            ratios.append((max(parts[int(position)]) - minimum) / extent)
            position += step
        levels = len(BARS) * height - 1
        lines = []
        for row in reversed(range(height)):
            low_part, high_part = row * len(BARS), (row + 1) * len(BARS)
            segments = []
            for ratio in ratios:
                bar = int(ratio * levels)
                if bar < low_part:
                    segments.append(Segment(" ", base_style))
                else:
                    char = "█" if bar >= high_part else BARS[bar % len(BARS)]
                    segments.append(Segment(char, style(ratio)))
            lines.append(Strip(Segment.simplify(segments), width))
        return lines
