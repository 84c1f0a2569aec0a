"""Many test images at once: thumbnails with their labels, a mark for mistakes and for tags.

Only what is on screen is drawn, line by line; each image's thumbnail is built once and
kept (a few hundred at most), so moving the cursor redraws two cells' worth of work.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget

from ..predictions import Predictions
from ..runs.tags import Marks
from .grid_cells import (
    BRAILLE,
    CELL_HEIGHT,
    CELL_WIDTH,
    HALF_BLOCKS,
    THUMB_COLUMNS,
    THUMB_LINES,
    braille_thumbnail,
    caption,
    halfblock_thumbnail,
    tag_marks,
)

KEPT = 512
"""Thumbnails kept built: several pages, so paging back and forth draws nothing twice."""
PREFETCH_AFTER = 0.05
"""Seconds after the last move before the pages either side are built (a page down then draws warm)."""


class ThumbnailGrid(Widget):
    """The images of a view as a grid of thumbnails; the screen moves the cursor and picks."""

    DEFAULT_CSS = """
    ThumbnailGrid { height: 1fr; width: 1fr; }
    ThumbnailGrid > .thumbnail-grid--cursor { background: $accent; color: $text; text-style: bold; }
    ThumbnailGrid > .thumbnail-grid--selected { background: $warning 60%; color: $text; }
    ThumbnailGrid > .thumbnail-grid--wrong { color: $error; }
    ThumbnailGrid > .thumbnail-grid--marks { color: $warning; text-style: bold; }
    ThumbnailGrid > .thumbnail-grid--ink { color: $foreground; }
    ThumbnailGrid > .thumbnail-grid--index { color: $text-muted; }
    """
    COMPONENT_CLASSES = {
        "thumbnail-grid--cursor",
        "thumbnail-grid--selected",
        "thumbnail-grid--wrong",
        "thumbnail-grid--marks",
        "thumbnail-grid--ink",
        "thumbnail-grid--index",
    }
    can_focus = False

    class Clicked(Message):
        """A thumbnail was clicked: its position in the view."""

        def __init__(self, position: int) -> None:
            super().__init__()
            self.position = position

    def __init__(self, predictions: Predictions, mode: str = HALF_BLOCKS, **kwargs) -> None:
        super().__init__(**kwargs)
        self.predictions = predictions
        self.mode = mode
        self.indices = np.zeros(0, np.int64)
        self.marks = Marks(size=len(predictions))
        self.selected: set[int] = set()
        """Dataset indices picked with space."""
        self.cursor = 0
        self.top_row = 0
        """The first row of cells on screen."""
        self._thumbs: OrderedDict[tuple[int, str], list[list[Segment]]] = OrderedDict()
        self._styles: dict[str, Style] = {}
        self._prefetch_timer: Timer | None = None

    # ------------------------------------------------------------------ geometry

    @property
    def columns(self) -> int:
        return max(self.size.width // CELL_WIDTH, 1)

    @property
    def rows(self) -> int:
        return max(self.size.height // CELL_HEIGHT, 1)

    @property
    def page_size(self) -> int:
        """How many images one screenful shows."""
        return self.columns * self.rows

    def first_shown(self) -> int:
        return self.top_row * self.columns

    def _follow(self) -> None:
        row = self.cursor // self.columns
        if row < self.top_row:
            self.top_row = row
        elif row >= self.top_row + self.rows:
            self.top_row = row - self.rows + 1

    # ------------------------------------------------------------------ state

    def show(self, indices: np.ndarray, cursor: int, marks: Marks, selected: set[int]) -> None:
        """A new view (or new marks): redraw everything."""
        self.indices = indices
        self.marks = marks
        self.selected = selected
        self.cursor = min(max(cursor, 0), max(len(indices) - 1, 0))
        self._follow()
        self.refresh()
        self._schedule_prefetch()

    def move_cursor(self, cursor: int) -> None:
        """Put the cursor on view position ``cursor``: only the two cells redraw, unless the grid scrolls."""
        cursor = min(max(cursor, 0), max(len(self.indices) - 1, 0))
        old_top, old = self.top_row, self.cursor
        self.cursor = cursor
        self._follow()
        if self.top_row != old_top:
            self.refresh()
            self._schedule_prefetch()
        else:
            self._refresh_cell(old)
            self._refresh_cell(cursor)

    def _schedule_prefetch(self) -> None:
        if self._prefetch_timer is not None:
            self._prefetch_timer.stop()
        self._prefetch_timer = self.set_timer(PREFETCH_AFTER, self._prefetch)

    def _prefetch(self) -> None:
        """Build the next and the previous page's thumbnails while the reviewer looks at this one."""
        self._prefetch_timer = None
        page, first = self.page_size, self.first_shown()
        for start in (first + page, first - page):
            for position in range(max(start, 0), min(start + page, len(self.indices))):
                self._thumbnail(int(self.indices[position]))

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self.refresh()
        self._schedule_prefetch()

    def _refresh_cell(self, position: int) -> None:
        row = position // self.columns - self.top_row
        if 0 <= row < self.rows:
            self.refresh(Region(0, row * CELL_HEIGHT, self.size.width, CELL_HEIGHT))

    # ------------------------------------------------------------------ drawing

    def _thumbnail(self, index: int) -> list[list[Segment]]:
        key = (index, self.mode)
        thumb = self._thumbs.get(key)
        if thumb is None:
            image = self.predictions.images[index]
            if self.mode == BRAILLE:
                thumb = braille_thumbnail(image, self._style("ink"))
            else:
                thumb = halfblock_thumbnail(image)
            self._thumbs[key] = thumb
            if len(self._thumbs) > KEPT:
                self._thumbs.popitem(last=False)
        else:
            self._thumbs.move_to_end(key)
        return thumb

    def _style(self, name: str) -> Style:
        """A component class's style, read once (every cell of every line asks for several)."""
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = self.get_component_rich_style(f"thumbnail-grid--{name}")
        return style

    def notify_style_update(self) -> None:
        self._styles.clear()
        self._thumbs.clear()  # braille thumbnails carry the ink's colour
        super().notify_style_update()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        row, line = divmod(y, CELL_HEIGHT)
        columns = self.columns
        first = (self.top_row + row) * columns
        margin = (width - columns * CELL_WIDTH) // 2
        segments = [Segment(" " * margin, base)] if margin > 0 else []
        if row >= self.rows or line == CELL_HEIGHT - 1:
            return Strip.blank(width, base)
        for position in range(first, min(first + columns, len(self.indices))):
            segments += self._cell_line(position, line, base)
        return Strip(segments).adjust_cell_length(width, base)

    def _cell_line(self, position: int, line: int, base: Style) -> list[Segment]:
        index = int(self.indices[position])
        cursor = position == self.cursor
        chosen = index in self.selected
        edge_style = base
        if cursor:
            edge_style = base + self._style("cursor")
        elif chosen:
            edge_style = base + self._style("selected")
        # the bars take the colour in front only: every blank of the line keeps the one background
        bar = base + Style(color=edge_style.bgcolor)
        edge = Segment("▌" if cursor or chosen else " ", bar)
        right = Segment("▐" if cursor or chosen else " ", bar)
        if line < THUMB_LINES:
            return [edge, *self._thumbnail(index)[line], right]
        p = self.predictions
        true, pred = int(p.labels[index]), int(p.predicted[index])
        marks = tag_marks(self.marks.tags.get(index, ()), self.marks.relabels.get(index))
        text = caption(index, true, pred, marks)
        style = base
        if true != pred:
            style += self._style("wrong")
        if cursor or chosen:
            return [edge, Segment(text, edge_style), right]
        # Each part starts with text and ends with its blanks, in a style of its own: an SVG
        # export (snapshots, screenshots) draws each run of one style alone and drops its
        # leading blanks, which would shift the numbers.
        split, number = 5, len(text) - len(str(index))  # ``✗7→9 ``, the marks and blanks, the index
        return [
            edge,
            Segment(text[:split], style + Style(bold=True)),
            Segment(text[split:number], base + self._style("marks")),
            Segment(text[number:], base + self._style("index")),
            right,
        ]

    def position_at(self, x: int, y: int) -> int | None:
        """The view position of the thumbnail at widget offset ``(x, y)``, if there is one."""
        margin = (self.size.width - self.columns * CELL_WIDTH) // 2
        column, row = (x - margin) // CELL_WIDTH, y // CELL_HEIGHT
        if x < margin or column >= self.columns or row >= self.rows:
            return None
        position = (self.top_row + row) * self.columns + column
        return position if position < len(self.indices) else None

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is not None and (position := self.position_at(offset.x, offset.y)) is not None:
            self.post_message(self.Clicked(position))

    def on_resize(self) -> None:
        # columns and rows changed: the cursor's row moved, and what was drawn is stale
        self._follow()
        self.refresh()


__all__ = ["THUMB_COLUMNS", "ThumbnailGrid"]
