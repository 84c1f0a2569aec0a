"""Recorded runs side by side: their curves overlaid, what sets them apart, and the flipped images."""

from __future__ import annotations

import traceback
from collections.abc import Sequence
from typing import Any

import numpy as np
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import get_current_worker

from ..data import DataError, MnistData
from ..events import one_line
from ..predictions import Predictions
from ..runs import Run, RunStore, StoreError, compare
from ..runs import format as fmt
from ..runs.model import FINISHED
from ..runs.tags import rescored
from ..session import TestSet
from ..widgets.chart import PALETTE, SWATCH, LineChart
from .base import AppScreen, bindings
from .dialogs import HelpScreen
from .flipped import FlippedResults

CHARTS: list[tuple[str, str, dict[str, Any]]] = [
    ("val_accuracy", "val accuracy", {"percent": True, "higher_is_better": True}),
    ("val_loss", "val loss", {}),
    ("loss", "train loss", {}),
]
"""The metrics overlaid, with their charts' titles and options."""

SHORT_HEIGHT = 34
"""Below this many lines the legend and the tables give up lines to the charts (and scroll)."""
SHORT_LEGEND = 4
"""The legend's lines in a short terminal."""


class CompareScreen(AppScreen):
    """Two to eight recorded runs side by side.

    Args:
        store: The open run store.
        run_ids: The runs, in the order they were marked; the flipped images are
            between the first and each other one.
        test_set: The session's test images for browsing: read off the UI thread
            when first needed, then there for every screen of the session.
    """

    DEFAULT_CSS = """
    CompareScreen #compare { height: 1fr; }
    CompareScreen #compare-legend {
        height: auto; max-height: 8; padding: 0 1; background: $boost; text-wrap: nowrap; text-overflow: ellipsis;
    }
    CompareScreen #compare-charts { height: 1fr; min-height: 8; }
    CompareScreen .chart-box { width: 1fr; height: 1fr; padding: 0 1 0 0; }
    CompareScreen .chart-caption { height: 1; text-style: bold; }
    CompareScreen .chart-box LineChart { height: 1fr; }
    CompareScreen #compare-table { height: auto; max-height: 10; }
    CompareScreen #flipped-box { height: auto; }
    CompareScreen #flipped { width: auto; height: auto; max-height: 10; }
    CompareScreen #flipped-notes { width: 1fr; height: auto; padding: 1 2 0 2; color: $text-muted; }
    CompareScreen #flipped-notes.-warning { color: $warning; }
    CompareScreen.short #compare-table, CompareScreen.short #flipped { max-height: 5; }
    """

    KEYS = "compare"
    BINDINGS = bindings(KEYS)

    class TestSetRead(Message):
        """The test images were read (on the worker's thread): browse the chosen set with them."""

        __test__ = False  # not a pytest test class, despite its name

        def __init__(self, chosen: compare.FlippedSet, data: MnistData | None, error: str = "") -> None:
            super().__init__()
            self.chosen = chosen
            self.data = data
            self.error = error

    def __init__(self, store: RunStore, run_ids: Sequence[int], *, test_set: TestSet | None = None) -> None:
        super().__init__()
        self.store = store
        self.test_set = test_set or TestSet()
        self.runs: list[Run] = []
        problems = []
        for run_id in run_ids:
            try:
                self.runs.append(store.get_run(run_id))
            except StoreError as exc:
                problems.append(str(exc))
        self.run_ids = [run.id for run in self.runs]
        self.colours = {run.id: PALETTE[n % len(PALETTE)] for n, run in enumerate(self.runs)}
        self.keys = compare.differing_options(self.runs)
        self.scored: dict[int, compare.Scored | str] = {run.id: self._scored(run) for run in self.runs}
        try:  # each run's accuracy on your corrected labels, when you corrected some
            self.fixed = rescored(store, [run.id for run in self.runs if run.has_predictions])
        except StoreError:
            self.fixed = {}
        self.sets, notes = compare.flipped_sets(self.run_ids, self.scored) if self.runs else ([], [])
        self.notes = problems + notes
        self.sub_title = "Compare runs " + ", ".join(map(str, self.run_ids))

    def _scored(self, run: Run) -> compare.Scored | str:
        if not run.has_predictions:
            why = f"it {run.status}" if run.status != FINISHED else "its predictions file is missing"
            return f"run {run.id} has no test predictions ({why}): no flipped images with it"
        try:
            return compare.load_scored(self.store, run.id)
        except StoreError as exc:
            return f"run {run.id}: {exc}"

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="compare"):
            yield Static(self._legend(), id="compare-legend")
            with Horizontal(id="compare-charts"):
                for metric, title, options in CHARTS:
                    # the caption outside the chart: it stays when the chart's legend needs the whole line
                    with Vertical(classes="chart-box"):
                        yield Static(title, classes="chart-caption")
                        yield LineChart(empty_text="no epochs recorded", id=f"chart-{metric}", **options)
            yield DataTable(id="compare-table", cursor_type="none", zebra_stripes=True)
            with Horizontal(id="flipped-box"):
                yield DataTable(id="flipped", cursor_type="row")
                yield Static(id="flipped-notes")
        yield Footer()

    def on_mount(self) -> None:
        for metric, _, _ in CHARTS:
            chart = self.query_one(f"#chart-{metric}", LineChart)
            for run in self.runs:
                values = compare.metric(run, metric)
                if any(v == v for v in values):  # NaN != NaN: a run without this metric has no series
                    chart.set_series(f"#{run.id}", values, colour=self.colours[run.id])
        self._fill_table()
        self._fill_flipped()
        self.query_one("#flipped" if self.sets else "#compare-table", DataTable).focus()

    def on_resize(self) -> None:
        short = self.size.height < SHORT_HEIGHT
        self.set_class(short, "short")
        self.query_one("#compare-legend", Static).update(self._legend(SHORT_LEGEND if short else None))

    def _legend(self, limit: int | None = None) -> Text:
        """One line per run: its colour, id and name, what it lacks, and what sets it apart.

        Args:
            limit: At most this many lines; the last one then says how many runs are left out.
        """
        lines = []
        for run in self.runs:
            # Each styled part ends with its space and none starts with one: an SVG export
            # draws every part as its own text, and viewers drop a part's leading spaces
            # ("#2 mlp-2hidden=128" in the README's screenshot).
            line = Text.assemble((f"{SWATCH} ", self.colours[run.id]), (f"#{run.id} {fmt.label(run)} ", "bold"))
            lacks = []
            if run.status != FINISHED:
                lacks.append(run.status)
            if not run.epochs:
                lacks.append("no epochs recorded")
            elif run.best is None:
                lacks.append("no validation")
            if lacks:  # before the options: a line cut at the right edge keeps it
                line.append(f"({', '.join(lacks)}) ", style="yellow")
            apart = compare.apart(run, self.keys)
            if apart:
                line.append(f"· {apart}")
            line.rstrip()
            lines.append(line)
        if not lines:
            return Text("None of these runs is in the store any more.", style="yellow")
        if limit is not None and len(lines) > limit:
            left = len(lines) - limit + 1
            lines = [*lines[: limit - 1], Text(f"… {left} more runs: the table below lists them", style="italic")]
        return Text("\n").join(lines)

    def _fill_table(self) -> None:
        table = self.query_one("#compare-table", DataTable)
        table.add_column("run")
        for key in self.keys:
            table.add_column(compare.OPTION_KEYS[key])
        test = "test acc → on corrected labels" if self.fixed else "test acc"
        for label in ("best val acc", "min val loss", test, "time"):
            table.add_column(Text(label, justify="right"))
        for run in self.runs:
            lowest = compare.lowest_val_loss(run)
            cells: list[object] = [
                Text.assemble((f"{SWATCH[0]} ", self.colours[run.id]), f"#{run.id} {fmt.label(run)[:20]}")
            ]
            cells += [compare.format_option(compare.option_value(run, key)) for key in self.keys]
            cells += [
                fmt.best(run),
                fmt.DASH if lowest is None else f"{fmt.number(lowest.val_loss)} @{lowest.epoch}",
                fmt.percent(run.test_accuracy)
                + (f" → {fmt.percent(self.fixed[run.id])}" if run.id in self.fixed else ""),
                fmt.duration(run.elapsed),
            ]
            table.add_row(
                *[
                    c if isinstance(c, Text) or i < 1 + len(self.keys) else Text(str(c), justify="right")
                    for i, c in enumerate(cells)
                ]
            )

    def _fill_flipped(self) -> None:
        table = self.query_one("#flipped", DataTable)
        table.add_column("flipped images", key="set")
        table.add_column(Text("count", justify="right"), key="count")
        for n, flipped in enumerate(self.sets):
            # the spaces end the parts before them (see _legend): "run 1 right, run 2 wrong" as typed
            # (the cell's padding is a part of its own: the label's first part starts the text)
            label = Text.assemble(
                (f"run {flipped.right} ", f"bold {self.colours[flipped.right]}"),
                ("right, ", ""),
                (f"run {flipped.wrong} ", f"bold {self.colours[flipped.wrong]}"),
                ("wrong", ""),
            )
            table.add_row(label, Text(f"{len(flipped):,}", justify="right"), key=str(n))
        self._show_notes()
        if not self.sets:
            table.display = False

    def _show_notes(self) -> None:
        """Beside the flipped images: what is missing, else what they are and what enter does."""
        notes = self.query_one("#flipped-notes", Static)
        notes.set_class(bool(self.notes), "-warning")
        if self.notes:
            notes.update("\n".join(self.notes))
        else:
            tests = mcnemar_lines(self.sets)
            notes.update(
                "The test images one run gets right and the other wrong. "
                "enter browses the chosen ones with both runs' predictions."
                if not tests
                else "enter browses the chosen images with both runs' predictions. "
                "Is a difference real? (McNemar's test)\n" + "\n".join(tests)
            )

    # ------------------------------------------------------------------ actions

    def action_log(self) -> None:
        for metric in ("val_loss", "loss"):
            self.query_one(f"#chart-{metric}", LineChart).toggle_log()

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self))

    @on(DataTable.RowSelected, "#flipped")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_browse()

    def action_browse(self) -> None:
        """Browse the chosen flipped images in the results browser, loading MNIST first if needed."""
        if not self.sets:
            self.notify("There are no flipped images to browse.", severity="warning", timeout=4)
            return
        chosen = self.sets[min(max(self.query_one("#flipped", DataTable).cursor_row, 0), len(self.sets) - 1)]
        if not len(chosen):
            self.notify(f"No images: {chosen.label}.", timeout=3)
            return
        data = self.test_set.data
        if data is not None:
            self.show_flipped(chosen, data)
        else:
            # said on this screen, not in a toast: a toast outlived the read and sat over the images
            self.query_one("#flipped-notes", Static).update("Loading MNIST's test images…")
            self._read_test_set(
                chosen, next((run.config.get("data") for run in self.runs if run.config.get("data")), None)
            )

    @work(thread=True, exclusive=True, group="test-set")
    def _read_test_set(self, chosen: compare.FlippedSet, data_path: str | None) -> None:
        """Read the test images off the UI thread; an enter meanwhile takes over from this one."""
        try:
            message = self.TestSetRead(chosen, self.test_set.load(data_path))
        except DataError as exc:
            message = self.TestSetRead(chosen, None, str(exc))
        except Exception as exc:  # never lost: said on screen, the details in the log
            traceback.print_exc()
            message = self.TestSetRead(chosen, None, one_line(exc))
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    @on(TestSetRead)
    def _test_set_read(self, message: TestSetRead) -> None:
        self._show_notes()
        if message.data is None:
            self.notify(f"Cannot load MNIST's test images: {message.error}", severity="error", timeout=8)
        elif self.app.screen is self:
            self.show_flipped(message.chosen, message.data)

    def show_flipped(self, chosen: compare.FlippedSet, data: MnistData) -> None:
        """Open the results browser on ``chosen``, with ``data``'s test images."""
        right, wrong = self.scored[chosen.right], self.scored[chosen.wrong]
        assert isinstance(right, compare.Scored) and isinstance(wrong, compare.Scored)
        if len(data.x_test) != len(right.labels):
            self.notify(
                f"The MNIST found now has {len(data.x_test):,} test images; run {chosen.right} was scored on "
                f"{len(right.labels):,}.",
                severity="error",
                timeout=8,
            )
            return
        if not np.array_equal(np.asarray(data.y_test, np.int64), right.labels):
            self.notify(
                "The MNIST found now has other labels than these runs were scored on; showing theirs.",
                severity="warning",
                timeout=8,
            )
        predictions = Predictions(data.x_test, right.labels, right.probabilities)
        title = f"{chosen.label} · {len(chosen):,} images"
        self.app.push_screen(
            FlippedResults(
                predictions,
                wrong.probabilities,
                chosen.indices,
                run=f"run {chosen.right}",
                other=f"run {chosen.wrong}",
                title=title,
            )
        )


def mcnemar_lines(sets: Sequence[compare.FlippedSet]) -> list[str]:
    """Is each pair's difference real? McNemar's exact test on its flipped images, in plain words."""
    from ..analysis.significance import mcnemar

    return [
        f"runs {first.right}, {first.wrong}: {mcnemar(len(first), len(second)).words()}"
        for first, second in zip(sets[::2], sets[1::2])
    ]
