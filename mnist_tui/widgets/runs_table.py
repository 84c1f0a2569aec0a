"""The table of recorded runs: columns, sorting, filtering and marks, drawn by a DataTable."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable

from ..runs import format as fmt
from ..runs.model import FAILED, FINISHED, INTERRUPTED, RUNNING, STOPPED, Run

STATUS_STYLES = {RUNNING: "bold cyan", FINISHED: "green", STOPPED: "yellow", FAILED: "red", INTERRUPTED: "magenta"}
NARROW_WIDTH = 110
"""Below this many columns the table drops architecture, options, time and size (the details line shows them)."""
OPTIONS_MIN = 8
"""The options column gives up width, down to this, so that every other column fits."""


@dataclass(frozen=True)
class Column:
    """One column: how a run is shown in it and how it sorts."""

    key: str
    label: str
    width: int
    cell: Callable[[Run, float], str]
    sort: Callable[[Run], Any]
    right: bool = False
    descending: bool = False  # the first click on its header puts the largest first
    wide_only: bool = False


def best_value(run: Run) -> float | None:
    best = run.best
    return best.val_accuracy if best is not None else None


COLUMNS = [
    Column("id", "ID", 5, lambda r, now: str(r.id), lambda r: r.id, right=True, descending=True),
    Column("name", "Name", 12, lambda r, now: fmt.label(r), lambda r: r.name.lower()),
    Column("when", "When", 10, lambda r, now: fmt.when(r.started_at, now), lambda r: r.started_at, descending=True),
    Column("arch", "Arch", 6, lambda r, now: r.arch, lambda r: r.arch, wide_only=True),
    Column("options", "Options", 16, lambda r, now: fmt.options(r), lambda r: fmt.options(r), wide_only=True),
    Column("epochs", "Ep", 5, lambda r, now: fmt.epochs(r, 5), lambda r: r.epochs_trained, right=True, descending=True),
    Column("best", "Best val", 10, lambda r, now: fmt.best(r), best_value, right=True, descending=True),
    Column(
        "test",
        "Test",
        6,
        lambda r, now: fmt.percent(r.test_accuracy),
        lambda r: r.test_accuracy,
        right=True,
        descending=True,
    ),
    Column(
        "fixed",
        "Fixed",
        6,
        lambda r, now: fmt.DASH,  # the table fills it from the re-scored accuracies it was given
        lambda r: r.test_accuracy,
        right=True,
        descending=True,
    ),
    Column(
        "time",
        "Time",
        6,
        lambda r, now: fmt.duration(r.elapsed),
        lambda r: r.elapsed,
        right=True,
        descending=True,
        wide_only=True,
    ),
    Column("status", "Status", 13, lambda r, now: fmt.status(r), lambda r: fmt.status(r)),
    Column(
        "size",
        "Size",
        6,
        lambda r, now: fmt.size(r.size_bytes),
        lambda r: r.size_bytes,
        right=True,
        descending=True,
        wide_only=True,
    ),
]
BY_KEY = {column.key: column for column in COLUMNS}


def sort_runs(runs: list[Run], key: str, descending: bool) -> list[Run]:
    """Runs in the order of one column; runs without a value (no test accuracy yet) always come last."""
    column = BY_KEY[key]
    known = [run for run in runs if column.sort(run) is not None]
    unknown = [run for run in runs if column.sort(run) is None]
    # the id breaks ties the same way in both directions: newest first
    known.sort(key=lambda r: r.id, reverse=True)
    known.sort(key=column.sort, reverse=descending)
    return known + unknown


def filter_runs(runs: list[Run], text: str) -> list[Run]:
    """Runs whose id, name, architecture, options or status contain every word of ``text``.

    Without a filter, runs that never trained (:attr:`Run.never_trained`) are left out; any
    filter searches them too (``failed`` lists them).
    """
    words = text.lower().split()
    if not words:
        return [run for run in runs if not run.never_trained]
    return [run for run in runs if all(word in fmt.search_text(run) for word in words)]


class RunsTable(DataTable):
    """Recorded runs, one per row, keyed by run id. Shows what it is given; sorting and filtering are the screen's."""

    BINDINGS = [
        Binding("enter", "select_cursor", "Open"),  # in the footer: enter opens the run
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, id=id)
        self.narrow = False
        self.shown: list[Run] = []
        self.sort_key = "id"
        self.descending = True
        self.rescored: dict[int, float] = {}
        """Run id -> test accuracy on the corrected labels (empty: nothing relabelled, no column)."""

    def columns_in_use(self) -> list[Column]:
        """The columns for the width; "Fixed" (accuracy on your corrected labels) only when there are some."""
        return [c for c in COLUMNS if not (self.narrow and c.wide_only) and (c.key != "fixed" or self.rescored)]

    @property
    def current(self) -> Run | None:
        """The run under the cursor."""
        if not self.shown or not 0 <= self.cursor_row < len(self.shown):
            return None
        return self.shown[self.cursor_row]

    def action_first(self) -> None:
        self.move_cursor(row=0, animate=False)

    def action_last(self) -> None:
        self.move_cursor(row=max(self.row_count - 1, 0), animate=False)

    def show(
        self,
        runs: list[Run],
        marked: list[int],
        *,
        now: float | None = None,
        narrow: bool = False,
        rescored: dict[int, float] | None = None,
        width: int = 0,
    ) -> None:
        """Draw ``runs`` in this order, keeping the cursor on the same run when it is still there.

        ``width`` is the room there is (0: unknown); where the columns need more, the options
        column narrows (its cells end in an ellipsis; the details line shows them whole).
        """
        now = time.time() if now is None else now
        self.rescored = rescored or {}
        keep = self.current.id if self.current is not None else None
        self.narrow = narrow
        self.clear(columns=True)  # the sort arrow moves, and narrow terminals show fewer columns
        columns = self.columns_in_use()
        # each column has one cell of padding either side; keep two for the vertical scrollbar
        over = sum(c.width + 2 * self.cell_padding for c in columns) + 2 - width if width else 0
        for column in columns:
            room = column.width
            if column.key == "options" and over > 0:
                room = max(OPTIONS_MIN, room - over)
            self.add_column(self._label(column), width=room, key=column.key)
        self.shown = list(runs)
        for run in runs:
            cells = [self._cell(column, run, now, run.id in marked) for column in self.columns_in_use()]
            self.add_row(*cells, key=str(run.id))
        rows = [run.id for run in runs]
        if keep in rows:
            self.move_cursor(row=rows.index(keep), animate=False)

    def _cell(self, column: Column, run: Run, now: float, marked: bool) -> Text:
        text = column.cell(run, now)
        if column.key == "fixed" and run.id in self.rescored:
            text = fmt.percent(self.rescored[run.id])
        style = ""
        if column.key == "status":
            style = "yellow" if run.model_missing else STATUS_STYLES.get(run.status, "")
        elif column.key == "id" and marked:
            text = f"● {text}"
            style = "bold cyan"
        justify: Literal["right", "left"] = "right" if column.right else "left"
        return Text(text, style=style, justify=justify, no_wrap=True, overflow="ellipsis", end="")

    def _label(self, column: Column) -> Text:
        arrow = (" ▼" if self.descending else " ▲") if column.key == self.sort_key else ""
        return Text(column.label + arrow, justify="right" if column.right else "left", end="")
