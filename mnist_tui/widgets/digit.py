"""A 28x28 digit drawn as ASCII art (two characters per pixel) or with half blocks."""

from __future__ import annotations

import numpy as np
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.reactive import reactive
from textual.strip import Strip

from ..render import UPPER_HALF, ascii_lines, halfblock_levels, ink_window
from .cached import CachedLines

MODES = ("ascii", "blocks")


class DigitView(CachedLines):
    """Shows one image; trims blank rows rather than squashing when the widget is short.

    Its lines are built once per image, mode and size: every key in the results browser
    shows a new image, and going through ``Text`` cost several times more (most of all
    for the half blocks, a style per cell).
    """

    DEFAULT_CSS = """
    DigitView { width: 56; height: 28; }
    DigitView.-blocks { width: 28; height: 14; }
    """

    image: reactive[np.ndarray | None] = reactive(None, always_update=True)
    mode: reactive[str] = reactive("ascii")

    def __init__(self, image: np.ndarray | None = None, *, mode: str = "ascii", **kwargs) -> None:
        super().__init__(**kwargs)
        self.set_reactive(DigitView.image, image)
        self.set_reactive(DigitView.mode, mode)
        self.set_class(mode == "blocks", "-blocks")

    def watch_mode(self, mode: str) -> None:
        self.set_class(mode == "blocks", "-blocks")
        self.invalidate()

    def watch_image(self) -> None:
        self.invalidate()

    def build(self, width: int, height: int) -> list[Strip]:
        image, base = self.image, self.rich_style
        if image is None or width <= 0:
            return []
        if self.mode == "blocks":
            styles: dict[tuple[int, int], Style] = {}

            def style(cell: tuple[int, int]) -> Style:
                if cell not in styles:
                    upper, lower = cell
                    styles[cell] = base + Style(
                        color=Color.from_rgb(upper, upper, upper), bgcolor=Color.from_rgb(lower, lower, lower)
                    )
                return styles[cell]

            rows = [[Segment(UPPER_HALF, style(cell)) for cell in row] for row in halfblock_levels(image)]
        else:
            top, bottom = ink_window(image, height)
            rows = [[Segment(line, base)] for line in ascii_lines(image[top:bottom])]
        return [Strip(Segment.simplify(row)).adjust_cell_length(width, base) for row in rows[:height]]
