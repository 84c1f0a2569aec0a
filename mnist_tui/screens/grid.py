"""The grid: the browser's current view as many thumbnails at once, to review and tag them quickly.

It shows exactly the browser's view (its filters, order, query, map selection, confusion
cell, flipped images) and answers with the position chosen (``enter``) so the browser
opens that image. Tags, relabels and queries go through the browser (:class:`~.curating.Curating`),
so both always agree.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Footer, Header, Static

from ..widgets.grid import ThumbnailGrid
from ..widgets.grid_cells import BRAILLE, HALF_BLOCKS, RELABEL_MARK
from .base import AppScreen, bindings
from .curating import Curating
from .dialogs import HelpScreen

LEGEND = f"✗ true→pred  M mislabelled  A ambiguous  F fine  + other tag  {RELABEL_MARK} your label"


class GridScreen(AppScreen[int | None]):
    """Thumbnails of the browser's view; dismissed with the view position to open, or ``None``.

    Args:
        browser: The results browser whose view this shows.
    """

    DEFAULT_CSS = """
    GridScreen #grid-status { height: 2; padding: 0 1; background: $boost; }
    """
    KEYS = "grid"
    BINDINGS = bindings(KEYS)

    def __init__(self, browser: Curating) -> None:
        super().__init__()
        self.browser = browser
        self.position = browser.position
        self.selected: set[int] = set()
        """Dataset indices picked with space, kept across pages and queries."""
        self.mode = HALF_BLOCKS
        self.then_nearest = False
        """Set by ``n``: the browser opens its nearest-images panel on the image chosen."""
        title = getattr(browser, "sub_title", "")
        self.sub_title = f"Grid · {title}" if title else "Grid"

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="grid-status")
        yield ThumbnailGrid(self.browser.predictions, self.mode, id="grid")
        yield Footer()

    def on_mount(self) -> None:
        self._show()

    @property
    def indices(self):
        return self.browser.indices

    @property
    def current(self) -> int | None:
        return int(self.indices[self.position]) if len(self.indices) else None

    # ------------------------------------------------------------------ drawing

    def _show(self) -> None:
        """Everything again: the view, the marks or the selection changed."""
        self.position = min(self.position, max(len(self.indices) - 1, 0))
        self.query_one(ThumbnailGrid).show(self.indices, self.position, self.browser.marks, self.selected)
        self._status()

    def _status(self) -> None:
        count = len(self.indices)
        where = f"{self.position + 1:,} of {count:,}" if count else "no images in this view (/ to change the query)"
        picked = f" · {len(self.selected):,} selected" if self.selected else ""
        index = self.current
        marks = self.browser.mark_words(index) if index is not None else ""
        # each part ends with its blank rather than starting with it: SVG viewers drop leading blanks
        line = Text.assemble(
            (self.browser.describe_view() + " ", "bold"),
            f"· {where}{picked}" + (f" · index {index} " if index is not None else " "),
            (f"· {marks}" if marks else "", "bold yellow"),
        )
        line.rstrip()
        line.truncate(max(self.size.width - 2, 20), overflow="ellipsis")
        # two lines, always (see DEFAULT_CSS): a key needs no layout of the screen
        self.query_one("#grid-status", Static).update(Text.assemble(line, "\n", (LEGEND, "dim")), layout=False)

    def _follow(self, keep: int | None) -> None:
        """After the browser's view changed: keep the image under the cursor when it is still there."""
        if keep is not None:
            found = (self.indices == keep).nonzero()[0]
            self.position = int(found[0]) if len(found) else 0
        self._show()

    # ------------------------------------------------------------------ moving

    def _move_to(self, position: int) -> None:
        if not len(self.indices):
            return
        position = min(max(position, 0), len(self.indices) - 1)
        if position != self.position:
            self.position = position
            self.query_one(ThumbnailGrid).move_cursor(position)
            self._status()

    def action_move(self, delta: int) -> None:
        self._move_to(self.position + delta)

    def action_move_rows(self, delta: int) -> None:
        self._move_to(self.position + delta * self.query_one(ThumbnailGrid).columns)

    def action_page(self, direction: int) -> None:
        self._move_to(self.position + direction * self.query_one(ThumbnailGrid).page_size)

    def action_jump(self, where: int) -> None:
        self._move_to(where if where >= 0 else len(self.indices) - 1)

    @on(ThumbnailGrid.Clicked)
    def _clicked(self, event: ThumbnailGrid.Clicked) -> None:
        self._move_to(event.position)

    # ------------------------------------------------------------------ acting

    def action_open(self) -> None:
        self.dismiss(self.position if len(self.indices) else None)

    def action_back(self) -> None:
        self.dismiss(None)

    def action_nearest(self) -> None:
        """Back to the browser on the selection's first image (or this one), its nearest training images shown."""
        targets = self._targets()
        if not targets:
            return
        found = (self.indices == targets[0]).nonzero()[0]
        self.then_nearest = True
        self.dismiss(int(found[0]) if len(found) else self.position)

    def action_select(self) -> None:
        index = self.current
        if index is None:
            return
        self.selected ^= {index}
        self.query_one(ThumbnailGrid).move_cursor(self.position)  # redraws its cell
        self._status()

    def action_select_all(self) -> None:
        every = {int(i) for i in self.indices}
        self.selected = set() if every and every <= self.selected else self.selected | every
        self._show()

    def _targets(self) -> list[int]:
        """The selection in the view's order (what is not in the view stays selected, untouched), or the image."""
        if self.selected:
            chosen = [int(i) for i in self.indices if int(i) in self.selected]
            return chosen or sorted(self.selected)
        return [self.current] if self.current is not None else []

    def action_tag(self) -> None:
        keep = self.current
        self.browser.ask_tag(self._targets(), done=lambda: self._follow(keep))

    def action_relabel(self) -> None:
        keep = self.current
        self.browser.ask_relabel(self._targets(), done=lambda: self._follow(keep))

    def action_query(self) -> None:
        keep = self.current
        self.browser.ask_query(self.browser.views.indices(self.browser.view), done=lambda: self._follow(keep))

    def action_toggle_mode(self) -> None:
        self.mode = BRAILLE if self.mode == HALF_BLOCKS else HALF_BLOCKS
        self.query_one(ThumbnailGrid).set_mode(self.mode)

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self))

    def on_resize(self) -> None:
        if self.is_mounted:
            self._status()
