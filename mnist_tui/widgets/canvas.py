"""A canvas of the dataset's image size to draw a digit on with the mouse or the keyboard."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from ..datasets import MNIST
from ..drawing import Canvas
from ..render import UPPER_HALF, grey, halfblock_style

CURSOR = Style.parse("bold yellow")


@lru_cache(maxsize=256)
def ink(level: int) -> Style:
    return Style.parse(f"on {grey(level)}")


class DrawCanvas(Widget):
    """Two terminal columns per pixel, a line per pixel row; with ``-compact``, half blocks (a line per two rows).

    Left button paints, right button erases, strokes follow the pointer. A keyboard
    cursor moves with :meth:`move_cursor` and paints with :meth:`paint_cursor`, or
    draws as it moves while the pen is down (:meth:`toggle_pen`).
    """

    # Sized for MNIST's images, the only ones the draw screen shows.
    DEFAULT_CSS = f"""
    DrawCanvas {{ width: {2 * MNIST.width}; height: {MNIST.height}; }}
    DrawCanvas.-compact {{ width: {MNIST.width}; height: {-(-MNIST.height // 2)}; }}
    """

    class Changed(Message):
        """The drawing changed."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.canvas = Canvas()
        self.cursor = (self.canvas.width // 2, self.canvas.height // 2)
        self._button: int | None = None
        self.pen_down = False

    @property
    def compact(self) -> bool:
        return self.has_class("-compact")

    # ------------------------------------------------------------------ drawing

    def _changed(self) -> None:
        self.refresh()
        self.post_message(self.Changed())

    def clear(self) -> None:
        self.canvas.clear()
        self._changed()

    def move_cursor(self, dx: int, dy: int) -> None:
        """Move the keyboard cursor; with the pen down, draw a stroke along the way."""
        x, y = self.cursor
        self.cursor = self._clamp(x + dx, y + dy)
        if self.pen_down:
            self.canvas.stroke_to(*self.cursor)
            self._changed()
        else:
            self.refresh()

    def toggle_pen(self) -> None:
        self.pen_down = not self.pen_down
        self.canvas.lift()
        if self.pen_down:
            self.canvas.stroke_to(*self.cursor)
            self._changed()

    def paint_cursor(self, *, erase: bool = False) -> None:
        self.canvas.lift()
        self.canvas.dab(*self.cursor, erase=erase)
        self._changed()

    def _clamp(self, x: int, y: int) -> tuple[int, int]:
        """The nearest pixel of the canvas to ``(x, y)``."""
        return min(max(x, 0), self.canvas.width - 1), min(max(y, 0), self.canvas.height - 1)

    def pixel_at(self, column: int, row: int) -> tuple[float, float]:
        """The canvas point under a terminal cell (its centre, in pixel coordinates)."""
        if self.compact:
            return float(column), row * 2 + 0.5
        return column // 2 - 0.25 + 0.5 * (column % 2), float(row)

    def _stroke(self, event: events.MouseEvent) -> None:
        x, y = self.pixel_at(event.x, event.y)
        self.canvas.stroke_to(x, y, erase=self._button == 3)
        self.cursor = self._clamp(int(round(x)), int(round(y)))
        self._changed()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        if event.button not in (1, 3):
            return
        self._button = event.button
        self.capture_mouse()
        self.canvas.lift()
        self._stroke(event)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._button is not None:
            self._stroke(event)

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if self._button is not None:
            self._button = None
            self.canvas.lift()
            self.release_mouse()

    # ------------------------------------------------------------------ rendering

    def render_line(self, y: int) -> Strip:
        image = self.canvas.image
        cx, cy = self.cursor
        segments: list[Segment] = []
        height, width = image.shape
        if self.compact:
            if 2 * y >= height:
                return Strip.blank(self.size.width)
            upper = image[2 * y]
            lower = image[2 * y + 1] if 2 * y + 1 < height else np.zeros_like(upper)  # an odd last row
            for x in range(width):
                if x == cx and cy in (2 * y, 2 * y + 1):
                    other = int(lower[x] if cy == 2 * y else upper[x])
                    char = "▀" if cy == 2 * y else "▄"
                    segments.append(Segment(char, Style(color="yellow", bgcolor=grey(other))))
                else:
                    segments.append(Segment(UPPER_HALF, halfblock_style(int(upper[x]), int(lower[x]))))
        else:
            if y >= height:
                return Strip.blank(self.size.width)
            row = image[y]
            for x in range(width):
                if (x, y) == (cx, cy):
                    segments.append(Segment("[]", CURSOR + ink(int(row[x]))))
                else:
                    segments.append(Segment("  ", ink(int(row[x]))))
        return Strip(segments).simplify()
