"""The sweep screen: a sweep's trials live — table, curves, parallel coordinates and importances.

It reads the sweep from its study's storage (a thread polls it while the sweep runs, in
whichever processes its workers are), or from a :class:`~mnist_tui.sweeps.view.SweepView`
given to it (tests). It never trains: ``enter`` opens a trial's recorded run, ``f`` asks the
app to train the best options as a full run, ``c`` compares the best trial with the runner-up.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

import numpy as np
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Static

from ..config import TrainConfig
from ..events import one_line
from ..runs.format import duration
from ..sweeps.space import searched, trial_config
from ..sweeps.table import TrialRow, best_rows, best_so_far, format_param
from ..sweeps.view import BRUSHES, SweepView, axes, passing
from ..widgets.chart import PALETTE, LineChart
from ..widgets.parallel import DIM, ParallelCoords
from .base import AppScreen, bindings
from .dialogs import HelpScreen

POLL_S = 1.0
"""How often a live sweep is read again from its storage."""
STATE_STYLE = {"complete": "not dim", "pruned": "dim", "failed": "red", "running": "bold cyan"}
"""Every state a style of its own: an SVG export then draws each cell as one part, and the columns line up."""


class SweepScreen(AppScreen):
    """One sweep: its trials in a table, their curves, parallel coordinates and the parameters' importances.

    Args:
        view: The sweep to show first.
        source: Reads the sweep again (on a worker thread); None: ``view`` never changes.
        live: Poll ``source`` every :data:`POLL_S` seconds.
    """

    DEFAULT_CSS = """
    SweepScreen #sweep-info { height: auto; padding: 0 1; background: $boost; }
    SweepScreen #sweep-top { height: 1fr; min-height: 6; }
    SweepScreen ParallelCoords { width: 2fr; height: 1fr; }
    SweepScreen #importance { width: 1fr; max-width: 40; height: 1fr; padding: 0 1; }
    SweepScreen #sweep-charts { height: 1fr; min-height: 5; }
    SweepScreen #sweep-charts LineChart { width: 1fr; height: 1fr; padding: 0 1 0 0; }
    SweepScreen #trials { height: 1fr; min-height: 4; }
    SweepScreen.short #sweep-charts { display: none; }
    """

    KEYS = "sweep"
    BINDINGS = bindings(KEYS)

    class TrainBest(Message):
        """Train these options (the best trial's, on the whole training set) as an ordinary run."""

        def __init__(self, config: TrainConfig) -> None:
            super().__init__()
            self.config = config

    class CompareRuns(Message):
        """Compare these recorded runs (the best trial's and the runner-up's)."""

        def __init__(self, run_ids: list[int]) -> None:
            super().__init__()
            self.run_ids = run_ids

    class OpenTrial(Message):
        """Open this trial's recorded run in the results browser."""

        def __init__(self, run_id: int) -> None:
            super().__init__()
            self.run_id = run_id

    class Loaded(Message):
        def __init__(self, view: SweepView | None, error: str = "") -> None:
            super().__init__()
            self.view = view
            self.error = error

    def __init__(self, view: SweepView, source: Callable[[], SweepView] | None = None, *, live: bool = False) -> None:
        super().__init__()
        self.view = view
        self.source = source
        self.live = live and source is not None
        self.sort_key = "trial"
        self.descending = False
        self.selected_axis = 0
        self.brushes: dict[int, tuple[float, float]] = {}
        self.sub_title = f"Sweep {view.spec.name}"
        self._drawn: dict[str, object] = {}
        """What each part was last drawn from: a part whose data has not changed is left alone."""
        self._labels: list[str] = []
        """The table's column labels as shown (a new sort rebuilds the table)."""
        self._shown: dict[str, tuple[str, tuple[str, ...]]] = {}
        """Each table row's style and cells as shown, by row key, in the table's order."""
        self._formatted: dict[int, tuple[TrialRow, tuple[str, ...]]] = {}
        """Each trial's cells, formatted once per change of its row."""

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical():
            yield Static(id="sweep-info")
            with Horizontal(id="sweep-top"):
                yield ParallelCoords(id="parallel")
                yield Static(id="importance")
            with Horizontal(id="sweep-charts"):
                yield LineChart(
                    "best so far", x_label="trial", percent=True, higher_is_better=True, id="best-chart",
                    empty_text="no complete trial yet",
                )  # fmt: skip
                yield LineChart(
                    "val accuracy", x_label="epoch", percent=True, higher_is_better=True, id="curves-chart",
                    empty_text="no epoch yet",
                )  # fmt: skip
            yield DataTable(id="trials", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.show(self.view)
        self.query_one("#trials", DataTable).focus()
        if self.live:
            self.set_interval(POLL_S, self._poll)

    def on_resize(self) -> None:
        self.set_class(self.size.height < 30, "short")

    # ------------------------------------------------------------------ data

    @work(thread=True, exclusive=True, group="sweep-poll")
    def _poll(self) -> None:
        assert self.source is not None
        try:
            self.post_message(self.Loaded(self.source()))
        except Exception as exc:  # a storage that blips: said once, polled again
            traceback.print_exc()
            self.post_message(self.Loaded(None, one_line(exc)))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        if message.view is None:
            self.query_one("#sweep-info", Static).update(Text(f"Cannot read the sweep: {message.error}", "yellow"))
            return
        if message.view != self.view:
            self.show(message.view)

    def show(self, view: SweepView) -> None:
        """Draw ``view`` everywhere: info, parallel coordinates, importances, charts, table.

        Only what changed is drawn again: a live sweep's poll usually brings one trial's new
        epoch, which changes one table row and the curves, not the importances.
        """
        self.view = view
        rows = list(view.rows)
        all_axes = axes(view.spec.space, rows)
        self.selected_axis = min(self.selected_axis, len(all_axes) - 1)
        keep = passing(all_axes, self.brushes)
        scores = [r.score for r in rows]
        plotted = (
            [(r.number, r.params) for r in rows], scores, keep.tobytes(), sorted(self.brushes.items()),
            self.selected_axis,
        )  # fmt: skip
        if self._changed("parallel", plotted):
            values = np.array([np.nan if score is None else score for score in scores], float)
            self.query_one(ParallelCoords).set_data(all_axes, values, keep, self.brushes, self.selected_axis)
        info = self._info(rows, keep)
        if self._changed("info", (info.plain, info.spans)):
            self.query_one("#sweep-info", Static).update(info)
        if self._changed("importance", view.importances):
            self.query_one("#importance", Static).update(self._importance())
        if self._changed("best chart", [(r.number, r.value) for r in rows]):
            self._best_chart(rows)
        if self._changed("curves chart", [(r.number, r.state, r.value, r.curve) for r in rows]):
            self._curves_chart(rows)
        self._table(rows, keep)

    def _changed(self, part: str, data: object) -> bool:
        """Whether ``part`` was last drawn from other data than ``data`` (which is kept for next time)."""
        if part in self._drawn and self._drawn[part] == data:
            return False
        self._drawn[part] = data
        return True

    def _info(self, rows: list[TrialRow], keep: np.ndarray) -> Text:
        spec = self.view.spec
        counts = {s: sum(r.state == s for r in rows) for s in ("complete", "pruned", "failed", "running")}
        total = f"{len(rows)} of {spec.trials}" if spec.trials else str(len(rows))
        text = Text.assemble((f"{spec.name} ", "bold"), f"{total} trials: ")
        text.append(", ".join(f"{n} {s}" for s, n in counts.items() if n) or "none yet")
        best = best_rows(rows, 1)
        if best:
            text.append(f" · best {best[0].value:.2%} (trial {best[0].number})", "bold green")
        if self.brushes:
            names = [axes(spec.space, rows)[i].name for i in self.brushes]
            text.append(f" · {int(keep.sum())} of {len(rows)} pass the brush on {', '.join(names)}", "cyan")
        return text

    def _importance(self) -> Text:
        text = Text("importance", style="bold")
        if not self.view.importances:
            return text.append("\nafter 4 complete trials", style="dim")
        columns = {p.name: p.column for p in self.view.spec.space}
        width = max(len(columns.get(n, n)) for n in self.view.importances)
        for name, share in sorted(self.view.importances.items(), key=lambda kv: -kv[1]):
            cells = share * 10
            bar = "█" * int(cells) + " ▏▎▍▌▋▊▉"[int((cells % 1) * 8)]
            text.append(f"\n{columns.get(name, name):<{width}} ")
            text.append(bar.rstrip().ljust(11), style="#4c9be8")
            text.append(f"{share:4.0%}", style="bold")
        return text

    def _best_chart(self, rows: list[TrialRow]) -> None:
        best_chart = self.query_one("#best-chart", LineChart)
        numbers = [r.number for r in rows]
        best_chart.set_series("best", best_so_far(rows), x=numbers, colour=PALETTE[2])
        each = [np.nan if r.value is None else r.value for r in rows]
        best_chart.set_series("trial", each, x=numbers, colour=PALETTE[0], markers=False)

    def _curves_chart(self, rows: list[TrialRow]) -> None:
        curves = self.query_one("#curves-chart", LineChart)
        curves.clear()
        top = best_rows(rows, 1)
        groups: dict[str, list[TrialRow]] = {"pruned": [], "complete": [], "running": []}
        for row in rows:
            if row.curve and row.state in groups and not (top and row.number == top[0].number):
                groups[row.state].append(row)
        colours = {"pruned": DIM, "complete": PALETTE[0], "running": PALETTE[1]}
        for name, members in groups.items():
            if members:  # one series per state, each trial's curve apart from the next (NaN between)
                x, y = _joined([(np.arange(1, len(r.curve) + 1), r.curve) for r in members])
                curves.set_series(name, y, x=x, colour=colours[name], markers=False)
        if top:
            curves.set_series(f"best #{top[0].number}", top[0].curve, colour=PALETTE[2])

    # ------------------------------------------------------------------ the table

    def _columns(self) -> list[tuple[str, str]]:
        params = [(p.name, p.column) for p in searched(self.view.spec.space)]
        return [("trial", "#"), ("state", "state"), *params, ("epochs", "epochs"), ("value", "accuracy")] + [
            ("best", "best epoch"),
            ("seconds", "time"),
        ]

    def _sorted(self, rows: list[TrialRow]) -> list[TrialRow]:
        key = self.sort_key
        value: Callable[[TrialRow], Any] = {
            "trial": lambda row: row.number,
            "state": lambda row: row.state,
            "epochs": lambda row: len(row.curve),
            "value": lambda row: row.value,
            "best": lambda row: row.best,
            "seconds": lambda row: row.seconds,
        }.get(key, lambda row: row.params.get(key))
        pairs = [(value(row), row) for row in rows]
        known = sorted(
            (pair for pair in pairs if pair[0] is not None), key=lambda pair: pair[0], reverse=self.descending
        )
        return [row for _, row in known] + [row for v, row in pairs if v is None]  # unknown last, either way

    def _cells(self, row: TrialRow) -> tuple[str, ...]:
        """The row's cells as text, formatted again only when the trial has changed."""
        memo = self._formatted.get(row.number)
        if memo is not None and memo[0] == row:
            return memo[1]
        cells = (str(row.number), row.state) + tuple(
            format_param(p.name, row.params[p.name]) if p.name in row.params else "–"
            for p in searched(self.view.spec.space)
        )
        cells += (
            str(len(row.curve)),
            "–" if row.value is None else f"{row.value:.2%}" + (f"±{row.spread:.2%}" if row.spread else ""),
            "–" if row.best is None else f"{row.best:.2%}",
            "–" if row.seconds is None else duration(row.seconds),
        )
        self._formatted[row.number] = (row, cells)
        return cells

    def _table(self, rows: list[TrialRow], keep: np.ndarray) -> None:
        """The trials in the table: built afresh for new columns or a new sort, else changed in place.

        In place, only the cells that changed are written and new trials added, the rows are
        put in order again if they need it, and the cursor stays on its trial.
        """
        table = self.query_one("#trials", DataTable)
        columns = self._columns()
        labels = [
            label + ((" ▼" if self.descending else " ▲") if key == self.sort_key else "") for key, label in columns
        ]
        passes = {row.number: bool(k) for row, k in zip(rows, keep)}
        wanted = {
            str(row.number): (
                STATE_STYLE.get(row.state, "") if passes.get(row.number, True) else "dim",
                self._cells(row),
            )
            for row in self._sorted(rows)
        }
        if labels != self._labels:  # the first draw, or another sort: the table afresh, the cursor on its row
            cursor = table.cursor_row
            table.clear(columns=True)
            for (key, _), label in zip(columns, labels):
                table.add_column(label, key=key)
            for key, (style, cells) in wanted.items():
                table.add_row(*(Text(c, style=style) for c in cells), key=key)
            if rows:
                table.move_cursor(row=min(cursor, len(rows) - 1))
            self._labels, self._shown = labels, wanted
            return
        chosen = self._chosen_key(table)
        for key in self._shown.keys() - wanted.keys():
            table.remove_row(key)
        keys = [key for key, _ in columns]
        for key, (style, cells) in wanted.items():
            shown = self._shown.get(key)
            if shown is None:
                table.add_row(*(Text(c, style=style) for c in cells), key=key)
            elif shown != (style, cells):
                for column, cell, was in zip(keys, cells, shown[1]):
                    if cell != was or style != shown[0]:
                        table.update_cell(key, column, Text(cell, style=style), update_width=True)
        order = list(wanted)
        if order != [key for key in self._shown if key in wanted] + [key for key in wanted if key not in self._shown]:
            place = {key: i for i, key in enumerate(order)}
            table.sort("trial", key=lambda cell: place[cell.plain])
        self._shown = wanted
        if chosen is not None and chosen in wanted and order.index(chosen) != table.cursor_row:
            table.move_cursor(row=order.index(chosen))

    @staticmethod
    def _chosen_key(table: DataTable) -> str | None:
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def _chosen(self) -> TrialRow | None:
        key = self._chosen_key(self.query_one("#trials", DataTable))
        return next((r for r in self.view.rows if str(r.number) == key), None)

    # ------------------------------------------------------------------ actions

    def action_sort(self) -> None:
        keys = [key for key, _ in self._columns()]
        self.sort_key = keys[(keys.index(self.sort_key) + 1) % len(keys)] if self.sort_key in keys else "trial"
        self.descending = self.sort_key in ("value", "best")  # the best first
        self.show(self.view)

    def action_reverse(self) -> None:
        self.descending = not self.descending
        self.show(self.view)

    def action_axis(self, step: int) -> None:
        count = len(axes(self.view.spec.space, list(self.view.rows)))
        self.selected_axis = (self.selected_axis + step) % count
        self.show(self.view)

    def action_brush(self) -> None:
        now = self.brushes.get(self.selected_axis)
        following = BRUSHES[(BRUSHES.index(now) + 1) % len(BRUSHES)] if now in BRUSHES else BRUSHES[1]
        if following is None:
            self.brushes.pop(self.selected_axis, None)
        else:
            self.brushes[self.selected_axis] = following
        self.show(self.view)

    def action_clear_brushes(self) -> None:
        self.brushes.clear()
        self.show(self.view)

    def action_open(self) -> None:
        row = self._chosen()
        if row is None or row.run_id is None:
            self.notify("That trial has no recorded run.", severity="warning", timeout=4)
        elif row.state == "running":
            self.notify(f"Trial {row.number} is still training.", severity="warning", timeout=4)
        else:
            self.post_message(self.OpenTrial(int(row.run_id)))

    def action_train_best(self) -> None:
        best = best_rows(list(self.view.rows), 1)
        if not best:
            self.notify("No trial has completed yet.", severity="warning", timeout=4)
            return
        config = trial_config(self.view.spec.base, best[0].params).with_changes(train_limit=None)
        self.post_message(self.TrainBest(config))

    def action_compare_best(self) -> None:
        pair = best_rows(list(self.view.rows), 2)
        if len(pair) < 2 or any(r.run_id is None for r in pair):
            self.notify("Comparing needs two complete trials.", severity="warning", timeout=4)
            return
        self.post_message(self.CompareRuns([int(r.run_id) for r in pair if r.run_id is not None]))

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self))

    @on(DataTable.RowSelected, "#trials")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()


def _joined(parts: list[tuple[np.ndarray, tuple[float, ...]]]) -> tuple[np.ndarray, np.ndarray]:
    """Several curves as one series: NaN between them breaks the line."""
    xs: list[float] = []
    ys: list[float] = []
    for x, y in parts:
        xs += [*map(float, x), np.nan]
        ys += [*map(float, y), np.nan]
    return np.array(xs), np.array(ys)
