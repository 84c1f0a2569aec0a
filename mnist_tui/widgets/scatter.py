"""The map's plot: every point as a braille dot, coloured by class, with a selection box.

Drawn with the Line API from strips built once per change (points, colours, selection,
size); moving the selection rebuilds the strips from the braille grid already laid out,
which costs a few milliseconds at 120x40 (``benchmarks/map.py``).
"""

from __future__ import annotations

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.message import Message
from textual.strip import Strip

from ..analysis import BrailleScatter, braille_scatter
from .cached import CachedLines

DIGIT_COLOURS = (
    "#4ea8ff",
    "#ffa94d",
    "#69db7c",
    "#ff6b6b",
    "#b197fc",
    "#d4a373",
    "#f783ac",
    "#ced4da",
    "#d8f36a",
    "#3bc9db",
)
"""One colour per digit, each distinct on a dark background."""
CONFIDENCE_COLOURS = ("#ff6b6b", "#ffa94d", "#ffe066", "#69db7c")
"""Below 0.5, 0.5-0.9, 0.9-0.99, from 0.99 (``analysis.confidence_classes``)."""
MISTAKE_BACKGROUND = "#6b1f1f"
SELECTION_BACKGROUND = "#263859"
BOTH_BACKGROUND = "#7a2f55"
CURRENT = "◉"

Box = tuple[int, int, int, int]
"""``(top, left, bottom, right)`` cells, edges included."""


class ScatterPlot(CachedLines):
    """Points ``(x, y)`` as a braille scatter; ``priority`` points (mistakes) get a red background.

    The selection box is in cells; arrows move it and shift+arrows resize it (through
    the screen's bindings), a mouse drag draws a new one.
    """

    can_focus = True
    DEFAULT_CSS = """
    ScatterPlot { width: 1fr; height: 1fr; }
    """

    class SelectionChanged(Message):
        """The selection box moved, was resized, or the points under it changed."""

        def __init__(self, plot: ScatterPlot, indices: np.ndarray) -> None:
            super().__init__()
            self.plot = plot
            self.indices = indices

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.xs = np.zeros(0, np.float32)
        self.ys = np.zeros(0, np.float32)
        self.point_classes = np.zeros(0, np.int64)
        self.priority = np.zeros(0, bool)
        self.palette: tuple[str, ...] = DIGIT_COLOURS
        self.current: int | None = None
        self.box: Box | None = None
        self._scatter: BrailleScatter | None = None
        self._scatter_size: tuple[int, int] | None = None
        self._drag_from: tuple[int, int] | None = None
        self.touched = False
        """The person moved the box: a new layout keeps it where it is (else it follows the current image)."""

    # ------------------------------------------------------------------ data

    def set_points(self, layout: np.ndarray, priority: np.ndarray, current: int | None) -> None:
        """New coordinates ``(n, 2)``; the selection box keeps its cells."""
        layout = np.asarray(layout, np.float32).reshape(-1, 2)
        self.xs, self.ys = layout[:, 0], layout[:, 1]
        self.priority = np.asarray(priority, bool)
        self.current = current
        if not self.touched:
            self.box = None
        if len(self.point_classes) != len(self.xs):
            self.point_classes = np.zeros(len(self.xs), np.int64)
        self._changed()

    def colour_by(self, classes: np.ndarray, palette: tuple[str, ...]) -> None:
        """Colour by these classes (indices into ``palette``)."""
        self.point_classes = np.asarray(classes, np.int64)
        self.palette = palette
        self._scatter = None
        self.invalidate()

    def _changed(self) -> None:
        self._scatter = None
        self.invalidate()
        self._announce()

    @property
    def scatter(self) -> BrailleScatter | None:
        """The braille grid for the widget's current size (None before it has a size or points)."""
        width, height = self.size
        if width < 1 or height < 1 or not len(self.xs):
            return None
        if self._scatter is None or self._scatter_size != (width, height):
            self._scatter = braille_scatter(self.xs, self.ys, width, height, self.point_classes, self.priority)
            self._scatter_size = (width, height)
            if self.box is None:
                self.box = self._initial_box(width, height)
            self.box = self._clamp(self.box)
        return self._scatter

    def _initial_box(self, width: int, height: int) -> Box:
        """A box a sixth of the plot across, around the current image (or the centre)."""
        assert self._scatter is not None
        cell = self._scatter.cell_of(self.current) if self.current is not None else None
        row, col = cell if cell is not None else (height // 2, width // 2)
        half_w, half_h = max(width // 12, 1), max(height // 8, 1)
        return row - half_h, col - half_w, row + half_h, col + half_w

    def _clamp(self, box: Box) -> Box:
        width, height = self.size
        top, left, bottom, right = box
        rows, cols = min(bottom - top, height - 1), min(right - left, width - 1)
        top = min(max(top, 0), height - 1 - rows)
        left = min(max(left, 0), width - 1 - cols)
        return top, left, top + rows, left + cols

    def selected(self) -> np.ndarray:
        """Dataset indices (ascending) of the points inside the selection box."""
        scatter = self.scatter
        if scatter is None or self.box is None:
            return np.zeros(0, np.int64)
        return scatter.select(*self.box)

    def _announce(self) -> None:
        self.post_message(self.SelectionChanged(self, self.selected()))

    # ------------------------------------------------------------------ the selection box

    def move_selection(self, rows: int, cols: int) -> None:
        """Move the box by whole cells; it stops at the edges."""
        if self.scatter is None or self.box is None:
            return
        top, left, bottom, right = self.box
        width, height = self.size
        rows = min(max(rows, -top), height - 1 - bottom)
        cols = min(max(cols, -left), width - 1 - right)
        self._set_box((top + rows, left + cols, bottom + rows, right + cols))

    def resize_selection(self, rows: int, cols: int) -> None:
        """Grow (positive) or shrink the box from its bottom-right corner; it stays at least one cell."""
        if self.scatter is None or self.box is None:
            return
        top, left, bottom, right = self.box
        width, height = self.size
        bottom = min(max(bottom + rows, top), height - 1)
        right = min(max(right + cols, left), width - 1)
        self._set_box((top, left, bottom, right))

    def _set_box(self, box: Box) -> None:
        self.touched = True
        if box != self.box:
            self.box = box
            self.invalidate()
            self._announce()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        offset = event.get_content_offset(self)  # event.x counts from the border, not the dots
        if self.scatter is None or offset is None:
            return
        self._drag_from = (offset.y, offset.x)
        self.capture_mouse()
        self._set_box((offset.y, offset.x, offset.y, offset.x))

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._drag_from is None:
            return
        (row, col), width, height = self._drag_from, *self.size
        region = self.content_region
        end_row = min(max(event.screen_y - region.y, 0), height - 1)
        end_col = min(max(event.screen_x - region.x, 0), width - 1)
        top, bottom = sorted((row, end_row))
        left, right = sorted((col, end_col))
        self._set_box((top, left, bottom, right))

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if self._drag_from is not None:
            self._drag_from = None
            self.release_mouse()

    def on_resize(self) -> None:
        self._announce()  # the grid changed, and with it the points under the box

    # ------------------------------------------------------------------ drawing

    def build(self, width: int, height: int) -> list[Strip]:
        scatter = self.scatter
        base = self.rich_style
        if scatter is None:
            return [Strip.blank(width, base) for _ in range(height)]
        palette = [base + Style(color=colour) for colour in self.palette]
        plain = base + Style(color="#ced4da")
        backgrounds = {
            (False, False): Style(),
            (True, False): Style(bgcolor=MISTAKE_BACKGROUND, bold=True),
            (False, True): Style(bgcolor=SELECTION_BACKGROUND),
            (True, True): Style(bgcolor=BOTH_BACKGROUND, bold=True),
        }
        styles: dict[tuple[int, bool, bool], Style] = {}
        top, left, bottom, right = self.box or (-1, -1, -1, -1)
        current = scatter.cell_of(self.current) if self.current is not None else None
        lines = scatter.lines(empty=" ")
        strips = []
        for row in range(scatter.codes.shape[0]):
            text, colour, marked = lines[row], scatter.colour[row], scatter.marked[row]
            in_rows = top <= row <= bottom
            segments: list[Segment] = []
            run, run_style = "", None
            for col, char in enumerate(text):
                chosen = int(colour[col])
                inside = in_rows and left <= col <= right
                key = (chosen, bool(marked[col]), inside)
                style = styles.get(key)
                if style is None:
                    fg = palette[chosen] if 0 <= chosen < len(palette) else plain
                    style = styles[key] = fg + backgrounds[key[1], key[2]]
                if current == (row, col):
                    char, style = CURRENT, base + Style(color="#ffffff", bgcolor="#9c36b5", bold=True)
                if style is not run_style and run:
                    segments.append(Segment(run, run_style))
                    run = ""
                run += char
                run_style = style
            if run:
                segments.append(Segment(run, run_style))
            strips.append(Strip(segments, width))
        return strips
