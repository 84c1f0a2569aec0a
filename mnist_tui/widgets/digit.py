"""A digit drawn as ASCII art (two characters per pixel) or with half blocks."""

from __future__ import annotations

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.reactive import reactive
from textual.strip import Strip

from ..datasets import MNIST
from ..render import ascii_fit, halfblock_fit
from .cached import CachedLines

MODES = ("ascii", "blocks")

SHRUNK_NOTE = "shrunk to fit: enlarge the terminal for full size"
"""Said under a digit drawn with several pixel rows per line, when there is a spare line."""


class DigitView(CachedLines):
    """Shows one whole image in the lines it is given, never a cut one.

    When the widget is shorter than the image, blank rows are trimmed first; when the
    ink alone is taller, several pixel rows share a line (see :func:`~mnist_tui.render.fit_rows`)
    and the smaller drawing is centred, with a note when a line is spare.

    Its lines are built once per image, mode and size: every key in the results browser
    shows a new image, and going through ``Text`` cost several times more (most of all
    for the half blocks, a style per cell).
    """

    # Full size for MNIST's images: two columns per pixel, or with half blocks a cell per two pixels.
    DEFAULT_CSS = f"""
    DigitView {{ width: {2 * MNIST.width}; height: {MNIST.height}; }}
    DigitView.-blocks {{ width: {MNIST.width}; height: {-(-MNIST.height // 2)}; }}
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
        if image is None or width <= 0 or height <= 0:
            return []
        if self.mode == "blocks":
            cells, step = halfblock_fit(image, height)
            rows = [[Segment(cell.text, base + cell.style) for cell in row] for row in cells]
        else:
            lines, step = ascii_fit(image, height)
            rows = [[Segment(line, base)] for line in lines]
        strips = [Strip(Segment.simplify(row)) for row in rows]
        if step > 1:
            strips = self._centre(strips, width, height, base)
        return [strip.adjust_cell_length(width, base) for strip in strips[:height]]

    @staticmethod
    def _centre(strips: list[Strip], width: int, height: int, base: Style) -> list[Strip]:
        """A shrunk drawing in the middle of the space the full-size one would take."""
        drawn = max((strip.cell_length for strip in strips), default=0)
        left = Segment(" " * max((width - drawn) // 2, 0), base)
        spare = height - len(strips)
        top = [Strip.blank(width, base)] * (spare // 2)
        centred = [*top, *(Strip([left, *strip]) for strip in strips)]
        if spare >= 2:
            note = SHRUNK_NOTE if len(SHRUNK_NOTE) <= width else "shrunk to fit"
            pad = max((width - len(note)) // 2, 0)
            dim = base + Style(dim=True)
            centred += [Strip.blank(width, base)] * (height - len(centred) - 1)
            centred.append(Strip([Segment(" " * pad, base), Segment(note[:width], dim)]))
        return centred
