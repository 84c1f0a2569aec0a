"""A 28x28 canvas to draw a digit on with the mouse or the keyboard."""

from __future__ import annotations

from functools import lru_cache

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from ..drawing import SIZE, Canvas
from ..render import UPPER_HALF, grey, halfblock_style

CURSOR = Style.parse("bold yellow")


@lru_cache(maxsize=256)
def ink(level: int) -> Style:
    return Style.parse(f"on {grey(level)}")


class DrawCanvas(Widget):
    """Two terminal columns per pixel (28 rows); with ``-compact``, half blocks (14 rows).

    Left button paints, right button erases, strokes follow the pointer. A keyboard
    cursor moves with :meth:`move_cursor` and paints with :meth:`paint_cursor`, or
    draws as it moves while the pen is down (:meth:`toggle_pen`).
    """

    DEFAULT_CSS = """
    DrawCanvas { width: 56; height: 28; }
    DrawCanvas.-compact { width: 28; height: 14; }
    """

    class Changed(Message):
        """The drawing changed."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.canvas = Canvas()
        self.cursor = (SIZE // 2, SIZE // 2)
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
        self.cursor = (min(max(x + dx, 0), SIZE - 1), min(max(y + dy, 0), SIZE - 1))
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

    def pixel_at(self, column: int, row: int) -> tuple[float, float]:
        """The canvas point under a terminal cell (its centre, in pixel coordinates)."""
        if self.compact:
            return float(column), row * 2 + 0.5
        return column // 2 - 0.25 + 0.5 * (column % 2), float(row)

    def _stroke(self, event: events.MouseEvent) -> None:
        x, y = self.pixel_at(event.x, event.y)
        self.canvas.stroke_to(x, y, erase=self._button == 3)
        self.cursor = (min(max(int(round(x)), 0), SIZE - 1), min(max(int(round(y)), 0), SIZE - 1))
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
        if self.compact:
            if y >= SIZE // 2:
                return Strip.blank(self.size.width)
            upper, lower = image[2 * y], image[2 * y + 1]
            for x in range(SIZE):
                if x == cx and cy in (2 * y, 2 * y + 1):
                    other = int(lower[x] if cy == 2 * y else upper[x])
                    char = "▀" if cy == 2 * y else "▄"
                    segments.append(Segment(char, Style(color="yellow", bgcolor=grey(other))))
                else:
                    segments.append(Segment(UPPER_HALF, halfblock_style(int(upper[x]), int(lower[x]))))
        else:
            if y >= SIZE:
                return Strip.blank(self.size.width)
            row = image[y]
            for x in range(SIZE):
                if (x, y) == (cx, cy):
                    segments.append(Segment("[]", CURSOR + ink(int(row[x]))))
                else:
                    segments.append(Segment("  ", ink(int(row[x]))))
        return Strip(segments).simplify()
