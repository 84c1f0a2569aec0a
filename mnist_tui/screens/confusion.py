"""The confusion matrix with its margins: recall and F1 per true digit, precision per prediction.

Beside it (below it on a narrow terminal), the most confused pairs; ``enter`` on a cell
or on a pair dismisses with that ``(true, predicted)`` cell, which the results browser
turns into a view.
"""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Footer, Header, OptionList, Static

from ..analysis import class_metrics, most_confused
from ..datasets import MNIST
from ..predictions import Predictions
from .base import AppScreen, bindings

PAIRS = 5
"""How many confused pairs are listed: the ones worth a look, and they fit at 80x24."""
CLASSES = MNIST.classes
# The table's columns: 0 the row label, 1 to the number of classes the predicted ones,
# then the total, recall and F1; its rows: the true classes, then the totals and precision.
TOTAL_COLUMN = len(CLASSES) + 1
RECALL, F1 = TOTAL_COLUMN + 1, TOTAL_COLUMN + 2
TOTAL_ROW, PRECISION_ROW = len(CLASSES), len(CLASSES) + 1


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


def percent(value: float, present: bool = True, width: int = 7, sign: bool = True) -> Text:
    """A score as `` 98.9%`` right-aligned (``100%`` when perfect); ``–`` for a digit that never occurs."""
    if not present:
        return Text("–".rjust(width), style="dim")
    style = "bold green" if value >= 0.99 else ("red" if value < 0.97 else "")
    shown = "100" if value >= 0.9995 else f"{value * 100:.1f}"
    return Text((shown + ("%" if sign else "")).rjust(width), style=style)


def pair_label(true: int, predicted: int, count: int) -> str:
    """``"7 → 2: 10 images"``."""
    return f"{true} → {predicted}: {count:,} image{'s' if count != 1 else ''}"


class ConfusionScreen(AppScreen[tuple[int, int] | None]):
    """A classes-by-classes table with margins; dismisses with the (true, predicted) cell chosen with enter."""

    KEYS = "confusion"
    BINDINGS = bindings(KEYS)
    DEFAULT_CSS = """
    ConfusionScreen #confusion-body { height: 1fr; }
    ConfusionScreen.narrow #confusion-body { layout: vertical; }
    ConfusionScreen #confusion-main { width: auto; height: auto; }
    ConfusionScreen.narrow #confusion-main { width: 1fr; }
    ConfusionScreen #confused-side { width: 1fr; height: 1fr; padding: 0 1; }
    ConfusionScreen.narrow #confused-side { height: 1fr; padding: 0; }
    ConfusionScreen #confused { border: none; height: auto; max-height: 1fr; padding: 0; background: $background; }
    ConfusionScreen #confused-title { padding: 0 1; text-style: bold; }
    """

    def __init__(self, predictions: Predictions, start: tuple[int, int] = (0, 0)) -> None:
        super().__init__()
        self.predictions = predictions
        self.start = start
        self.metrics = class_metrics(predictions.confusion)
        self.pairs = most_confused(predictions.confusion, PAIRS)
        self.sub_title = "Confusion matrix"

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="confusion-body"):
            with Vertical(id="confusion-main"):
                table: DataTable = DataTable(id="confusion", cursor_type="cell", zebra_stripes=False, cell_padding=0)
                table.border_title = "rows: true digit · columns: predicted digit"
                m = self.metrics
                table.border_subtitle = f"accuracy {m.accuracy:.2%} · macro F1 {m.macro_f1:.2%}"
                yield table
                yield Static(id="cell-info")
            with Vertical(id="confused-side"):
                yield Static("Most confused (enter opens)", id="confused-title")
                yield OptionList(*[pair_label(*pair) for pair in self.pairs], id="confused")
        yield Footer()

    def on_mount(self) -> None:
        counts = self.predictions.confusion
        m = self.metrics
        present = (m.support + m.predicted) > 0
        off = counts.copy()
        np.fill_diagonal(off, 0)
        largest = int(off.max())
        table = self.query_one(DataTable)
        table.add_column(" true", key="true")
        for d in CLASSES:
            table.add_column(f"{d:>5}", key=str(d))
        table.add_column(" total", key="total")
        table.add_column(" recall", key="recall")
        table.add_column("     F1", key="f1")
        for t in CLASSES:
            cells = [Text(f"{counts[t, p]:>5,}", style=cell_style(int(counts[t, p]), largest, t == p)) for p in CLASSES]
            margins = [percent(m.recall[t], present[t]), percent(m.f1[t], present[t])]
            table.add_row(Text(f"{t:>5}", style="bold"), *cells, Text(f"{counts[t].sum():>6,}", style="bold"), *margins)
        totals = [Text(f"{v:>5,}", style="bold") for v in counts.sum(axis=0)]
        table.add_row(
            Text("total", style="bold"), *totals, Text(f"{counts.sum():>6,}", style="bold"), Text(""), Text("")
        )
        precision = [percent(m.precision[p], present[p], 5, sign=False) for p in CLASSES]
        table.add_row(Text("prec%", style="bold"), *precision, Text(""), Text(""), Text(""))
        true, pred = self.start
        table.cursor_coordinate = Coordinate(true, pred + 1)
        table.focus()
        self._describe(table.cursor_coordinate)
        if not self.pairs:
            self.query_one("#confused-title", Static).update("No confused pairs: every image is right.")

    def on_resize(self) -> None:
        self.set_class(self.size.width < 110, "narrow")

    @on(DataTable.CellHighlighted)
    def _highlighted(self, event: DataTable.CellHighlighted) -> None:
        self._describe(event.coordinate)

    def _cell(self, coordinate: Coordinate) -> tuple[int, int] | None:
        if coordinate.row < TOTAL_ROW and 1 <= coordinate.column < TOTAL_COLUMN:
            return coordinate.row, coordinate.column - 1
        return None

    def _describe(self, coordinate: Coordinate) -> None:
        info = self.query_one("#cell-info", Static)
        m, row, column = self.metrics, coordinate.row, coordinate.column
        cell = self._cell(coordinate)
        if cell is not None:
            true, pred = cell
            count = int(self.predictions.confusion[true, pred])
            what = "correctly recognised" if true == pred else f"predicted as {pred}"
            info.update(f"{count:,} images of a {true} {what}" + (" · enter to browse them" if count else ""))
        elif row < TOTAL_ROW and column == RECALL:
            hits, support = int(self.predictions.confusion[row, row]), int(m.support[row])
            info.update(
                f"Recall of {row}: {m.recall[row]:.1%}: {hits:,} of {support:,} {MNIST.noun(row, 2)} recognised"
            )
        elif row < TOTAL_ROW and column == F1:
            info.update(f"F1 of {row}: {m.f1[row]:.1%}, the harmonic mean of its precision and recall")
        elif row == PRECISION_ROW and 1 <= column < TOTAL_COLUMN:
            d = column - 1
            hits, said = int(self.predictions.confusion[d, d]), int(m.predicted[d])
            info.update(
                f"Precision of {d}: {m.precision[d]:.1%}: {hits:,} of {said:,} images predicted as {d} were {d}s"
            )
        else:
            info.update("Totals and margins: move onto a cell to see its images.")

    @on(DataTable.CellSelected)
    def _selected(self, event: DataTable.CellSelected) -> None:
        event.stop()
        self.action_drill()

    @on(OptionList.OptionHighlighted)
    def _pair_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if not event.option_list.has_focus:
            return  # the list highlights its first pair when it mounts; the cursor stays where it starts
        self._show_pair(event.option_index)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """Tab onto the pairs: the matrix's cursor and the hint line follow the pair highlighted at once.

        The list highlighted its first pair when it mounted, so focusing it posts no
        ``OptionHighlighted``; without this the hint kept describing the matrix's cell.
        """
        if isinstance(event.widget, OptionList) and event.widget.highlighted is not None:
            self._show_pair(event.widget.highlighted)

    def _show_pair(self, option_index: int) -> None:
        true, pred, _ = self.pairs[option_index]
        coordinate = Coordinate(true, pred + 1)
        self.query_one(DataTable).cursor_coordinate = coordinate
        self._describe(coordinate)

    @on(OptionList.OptionSelected)
    def _pair_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        true, pred, _ = self.pairs[event.option_index]
        self.dismiss((true, pred))

    def action_drill(self) -> None:
        cell = self._cell(self.query_one(DataTable).cursor_coordinate)
        if cell is None:
            return
        true, pred = cell
        if not self.predictions.confusion[true, pred]:
            what = "correctly recognised" if true == pred else f"predicted as {pred}"
            self.notify(f"No images: no {true} was {what}; nothing to browse.", timeout=3)
            return
        self.dismiss(cell)
