"""The confusion matrix: counts of (true, predicted) pairs; enter drills into a cell."""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Footer, Header, Static

from ..predictions import Predictions
from .base import AppScreen


def cell_style(count: int, largest_off_diagonal: int, diagonal: bool) -> str:
    """Diagonal cells green; mistakes from dim to bold red by size."""
    if diagonal:
        return "bold green"
    if count == 0:
        return "dim"
    share = count / max(largest_off_diagonal, 1)
    if share > 0.66:
        return "bold white on dark_red"
    if share > 0.33:
        return "bold red"
    return "red"


class ConfusionScreen(AppScreen[tuple[int, int] | None]):
    """A 10x10 table; dismisses with the (true, predicted) cell chosen with enter."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Back"),
        Binding("enter", "drill", "Show these images"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, predictions: Predictions, start: tuple[int, int] = (0, 0)) -> None:
        super().__init__()
        self.predictions = predictions
        self.start = start
        self.sub_title = "Confusion matrix"

    def compose(self) -> ComposeResult:
        yield Header()
        table: DataTable = DataTable(id="confusion", cursor_type="cell", zebra_stripes=False)
        table.border_title = "rows: true digit · columns: predicted digit"
        yield table
        yield Static(id="cell-info")
        yield Footer()

    def on_mount(self) -> None:
        counts = self.predictions.confusion
        off = counts.copy()
        np.fill_diagonal(off, 0)
        largest = int(off.max())
        table = self.query_one(DataTable)
        table.add_column("true", key="true")
        for d in range(10):
            table.add_column(f"  {d}", key=str(d))
        table.add_column("total", key="total")
        for t in range(10):
            cells = [Text(f"{counts[t, p]:>4}", style=cell_style(int(counts[t, p]), largest, t == p)) for p in range(10)]
            table.add_row(Text(f"  {t}", style="bold"), *cells, Text(f"{counts[t].sum():>5}", style="bold"))
        totals = [Text(f"{v:>4}", style="bold") for v in counts.sum(axis=0)]
        table.add_row(Text("total", style="bold"), *totals, Text(f"{counts.sum():>5}", style="bold"))
        true, pred = self.start
        table.cursor_coordinate = Coordinate(true, pred + 1)
        table.focus()
        self._describe(table.cursor_coordinate)

    @on(DataTable.CellHighlighted)
    def _highlighted(self, event: DataTable.CellHighlighted) -> None:
        self._describe(event.coordinate)

    def _cell(self, coordinate: Coordinate) -> tuple[int, int] | None:
        if coordinate.row < 10 and 1 <= coordinate.column <= 10:
            return coordinate.row, coordinate.column - 1
        return None

    def _describe(self, coordinate: Coordinate) -> None:
        info = self.query_one("#cell-info", Static)
        cell = self._cell(coordinate)
        if cell is None:
            info.update("Totals: move onto a cell to see its images.")
            return
        true, pred = cell
        count = int(self.predictions.confusion[true, pred])
        what = "correctly recognised" if true == pred else f"predicted as {pred}"
        info.update(f"{count:,} images of a {true} {what}" + (" · enter to browse them" if count else ""))

    @on(DataTable.CellSelected)
    def _selected(self, event: DataTable.CellSelected) -> None:
        event.stop()
        self.action_drill()

    def action_drill(self) -> None:
        cell = self._cell(self.query_one(DataTable).cursor_coordinate)
        if cell is not None:
            self.dismiss(cell)
