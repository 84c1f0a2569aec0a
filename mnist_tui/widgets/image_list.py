"""A virtual list of the images in the current view: only the visible rows are ever drawn."""

from __future__ import annotations

import numpy as np
from rich.segment import Segment
from textual import events
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ..predictions import CONFIDENCE, DATASET, SUSPICIOUS, Predictions
from ..runs.tags import Marks
from .grid_cells import RELABEL_MARK, tag_marks

HEADER = "  index true pred   conf"

COLUMN_TITLES = {DATASET: "conf", CONFIDENCE: "conf", SUSPICIOUS: "p(true)"}
"""The last column's name in each order: the suspicious order sorts by the given label's probability."""

LEGENDS = {DATASET: "", CONFIDENCE: "sorted by conf ↑", SUSPICIOUS: "sorted by p(true) ↑"}
"""What the rows are sorted by, shown under the list (short: the list is 30 columns wide).

p(true) is the probability the model gives the image's given label.
"""


def list_title(order: str) -> str:
    """The list's header (its border title) in ``order``: the columns, with the last one's name."""
    return f"index true pred  {COLUMN_TITLES[order]}"


class ImageList(ScrollView):
    """Index, true label, prediction and confidence, one row per image; click a row to select it."""

    # Wide enough for a row (see HEADER) and the scrollbar: a text width, not the images' size.
    DEFAULT_CSS = """
    ImageList { width: 28; height: 1fr; overflow-x: hidden; }
    ImageList > .image-list--cursor { background: $accent 40%; text-style: bold; }
    ImageList > .image-list--wrong { color: $error; }
    """
    COMPONENT_CLASSES = {"image-list--cursor", "image-list--wrong"}

    # The screen owns the navigation keys; the list only follows and takes clicks.
    can_focus = False

    cursor: reactive[int] = reactive(0)

    class Selected(Message):
        """A row was clicked."""

        def __init__(self, position: int) -> None:
            super().__init__()
            self.position = position

    def __init__(self, predictions: Predictions, **kwargs) -> None:
        super().__init__(**kwargs)
        self.predictions = predictions
        self.indices = np.arange(0)
        self.order = DATASET
        self.marks = Marks(size=len(predictions))
        """Tags and relabels: a row shows its first tag's letter and ⇒ for a corrected label."""
        self.waiting = False
        """The predictions are not in yet: rows show the index and the true label only."""

    def score(self, index: int) -> float:
        """The last column's value for one image: what the current order sorts by.

        In the suspicious-labels order that is the probability of the given label (the
        prediction's confidence would make the sorted list look unsorted); otherwise the
        prediction's confidence.
        """
        p = self.predictions
        if self.order == SUSPICIOUS:
            return float(p.probabilities[index, int(p.labels[index])])
        return float(p.confidence[index])

    def show(self, indices: np.ndarray, cursor: int, order: str = DATASET) -> None:
        """Show a new view, in ``order``, with the cursor on row ``cursor``."""
        self.indices = indices
        if order != self.order:
            self.order = order
            self.border_title = list_title(order)
            self.border_subtitle = LEGENDS[order]
        # Assigning `virtual_size` would lay out the whole screen (about 30 ms at 120x40),
        # yet the list keeps its size: only the scroll range changes. Update that alone;
        # the scrollbar still triggers a layout itself when it appears or disappears.
        size = Size(self.size.width, len(indices))
        self.set_reactive(ImageList.virtual_size, size)
        self._scroll_update(size)
        self.set_reactive(ImageList.cursor, cursor)
        self._follow_cursor()
        self.refresh()

    def watch_cursor(self, old: int, new: int) -> None:
        self._follow_cursor()
        self.refresh_lines(old - self.scroll_offset.y, 1)
        self.refresh_lines(new - self.scroll_offset.y, 1)

    def _follow_cursor(self) -> None:
        height = self.scrollable_content_region.height or 1
        top = self.scroll_offset.y
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    @property
    def page_size(self) -> int:
        return max(self.scrollable_content_region.height, 1)

    def render_line(self, y: int) -> Strip:
        row = y + self.scroll_offset.y
        width = self.scrollable_content_region.width
        if row >= len(self.indices):
            return Strip.blank(width, self.rich_style)
        index = int(self.indices[row])
        p = self.predictions
        mark = (tag_marks(self.marks.tags.get(index, ()), None)[:1] or " ") + (
            RELABEL_MARK if index in self.marks.relabels else " "
        )
        true = int(p.labels[index])
        if self.waiting:
            wrong = False
            text = f"  {index:>5} {mark} {true}    ·       ·"
        else:
            pred = int(p.predicted[index])
            wrong = true != pred
            text = f"{'✗' if wrong else ' '} {index:>5} {mark} {true}    {pred}  {self.score(index):6.1%}"
        style = self.rich_style
        if wrong:
            style += self.get_component_rich_style("image-list--wrong")
        if row == self.cursor:
            style += self.get_component_rich_style("image-list--cursor")
        return Strip([Segment(text.ljust(width)[:width], style)], width)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:  # the border or the scrollbar
            return
        row = offset.y + self.scroll_offset.y
        if 0 <= row < len(self.indices):
            self.post_message(self.Selected(row))

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.indices))
        self._follow_cursor()
