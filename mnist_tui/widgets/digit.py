"""A 28x28 digit drawn as ASCII art (two characters per pixel) or with half blocks."""

from __future__ import annotations

import numpy as np
from rich.segment import Segment
from textual.reactive import reactive
from textual.strip import Strip

from ..render import ascii_lines, halfblock_segments, ink_window
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
            rows = [[Segment(cell.text, base + cell.style) for cell in row] for row in halfblock_segments(image)]
        else:
            top, bottom = ink_window(image, height)
            rows = [[Segment(line, base)] for line in ascii_lines(image[top:bottom])]
        return [Strip(Segment.simplify(row)).adjust_cell_length(width, base) for row in rows[:height]]
