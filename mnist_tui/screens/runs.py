"""The runs screen: every recorded run in a table to sort, filter, open, mark, rename and delete."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Input, Static

from ..runs import FINISHED, RUNNING, STOPPED, Run, RunStore, StoreError, checkpoints
from ..runs import format as fmt
from ..runs.resume import ResumeError, ResumePlan, plan_further, plan_resume, resumable
from ..runs.tags import rescored
from ..session import TestSet
from ..widgets.runs_table import BY_KEY, COLUMNS, NARROW_WIDTH, RunsTable, filter_runs, sort_runs
from .base import AppScreen, bindings
from .compare import CompareScreen
from .dialogs import ConfirmDialog, HelpScreen, RenameDialog
from .epochs_dialog import EpochsDialog


class RunsScreen(AppScreen):
    """The run store as a table, newest first.

    Args:
        store: The open run store.
        now: Unix time for the "when" column (tests fix it).
        test_set: The session's test images, handed on to the comparison (a fresh,
            empty one when the screen is used alone).

    Attributes:
        marked: Ids of the marked runs, in the order they were marked.
    """

    DEFAULT_CSS = """
    RunsScreen #runs-filter { height: 1; border: none; padding: 0 1; background: $boost; }
    RunsScreen #runs-filter:focus { background: $primary 30%; }
    RunsScreen #runs-table { height: 1fr; }
    RunsScreen #run-details { height: 3; padding: 0 1; background: $boost; }
    RunsScreen #runs-empty { display: none; height: 1fr; padding: 1 2; color: $text-muted; }
    RunsScreen.-empty #runs-empty { display: block; }
    RunsScreen.-empty #runs-table { display: none; }
    """

    KEYS = "runs"
    BINDINGS = bindings(KEYS)

    class GoOn(Message):
        """Resume a run, or train one further (``plan`` checked and its checkpoint read)."""

        def __init__(self, plan: ResumePlan) -> None:
            super().__init__()
            self.plan = plan

    class OpenRun(Message):
        """Open this run's results (posted only for runs that have test predictions)."""

        def __init__(self, run_id: int) -> None:
            super().__init__()
            self.run_id = run_id

    def __init__(
        self, store: RunStore, *, now: Callable[[], float] = time.time, test_set: TestSet | None = None
    ) -> None:
        super().__init__()
        self.store = store
        self.now = now
        self.test_set = test_set or TestSet()
        self.runs: list[Run] = []
        self.marked: list[int] = []
        self.rescored: dict[int, float] = {}
        self.sub_title = "Runs"

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="/ to filter: words from the name, architecture, options or status", id="runs-filter")
        yield RunsTable(id="runs-table")
        yield Static(
            "No runs recorded yet. Every run you train is recorded here from the moment it starts.", id="runs-empty"
        )
        yield Static(id="run-details")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(RunsTable).focus()

    def on_screen_resume(self) -> None:
        # shown for the first time, or back from a run's results or a dialog (runs may have
        # ended, been renamed or deleted meanwhile): read the store
        self.reload()

    def on_resize(self) -> None:
        self._show()  # the columns depend on the width: fewer when narrow, the options column flexes

    # ------------------------------------------------------------------ state -> widgets

    def reload(self) -> None:
        """Read the store again (the app calls this when the live run records an epoch)."""
        try:
            self.runs = self.store.list_runs()
        except StoreError as exc:
            self.notify(str(exc), severity="error", timeout=6)
            return
        ids = {run.id for run in self.runs}
        self.marked = [run_id for run_id in self.marked if run_id in ids]
        try:  # the accuracy on your corrected labels, beside the original
            self.rescored = rescored(self.store, [run.id for run in self.runs if run.has_predictions])
        except StoreError:
            self.rescored = {}
        self._show()

    def _show(self) -> None:
        table = self.query_one(RunsTable)
        text = self.query_one("#runs-filter", Input).value
        shown = sort_runs(filter_runs(self.runs, text), table.sort_key, table.descending)
        table.show(
            shown,
            self.marked,
            now=self.now(),
            narrow=self.size.width < NARROW_WIDTH,
            rescored=self.rescored,
            width=self.size.width,
        )
        self.set_class(not self.runs, "-empty")
        hidden = 0 if text.strip() else sum(run.never_trained for run in self.runs)
        total = f"{len(self.runs)} run{'' if len(self.runs) == 1 else 's'}"
        count = f"{len(shown)} of {total}" if text.strip() or hidden else total
        if hidden:
            count += f" ({hidden} that never trained: / failed shows them)"
        marked = f" · {len(self.marked)} marked" if self.marked else ""
        self.sub_title = f"Runs · {count}{marked}"
        self._show_details()

    def _show_details(self) -> None:
        run = self.query_one(RunsTable).current
        details = self.query_one("#run-details", Static)
        if run is None:
            details.update("No run matches the filter." if self.runs else "")
            return
        head = Text.assemble((f"#{run.id} {run.name}", "bold"), f" · {run.arch} · ", (fmt.status(run), "bold"))
        head.append(f" · started {fmt.when(run.started_at, self.now())} · {fmt.duration(run.elapsed)}")
        head.append(f" · {fmt.size(run.size_bytes)}")
        second = Text(f"options: {fmt.options(run) or 'the defaults'}")
        if run.test_accuracy is not None:
            second.append(f" · test {fmt.percent(run.test_accuracy)}, {run.mistakes} mistakes")
        if run.best is not None:
            second.append(f" · best val {fmt.best(run)}")
        third = Text(run.message or "", style="red") if run.message else Text("")
        if (where := resumable(run)) is not None:
            third = Text.assemble(
                (f"resume from epoch {where[0]} of {where[1]}: r", "bold"), " · " if third else "", third
            )
        elif run.status in (FINISHED, STOPPED) and checkpoints.describe(run.folder) is not None:
            third = Text("train further as a new run: f", style="dim")
        if run.parent_id is not None:
            third.append(f" · trained further from run {run.parent_id}", style="dim")
        if run.resumed_at:
            third.append(f" · resumed {fmt.when(run.resumed_at[-1], self.now())}", style="dim")
        if run.model_missing:
            third = Text("model missing: results open, drawing and saving need the model file", style="yellow")
        details.update(Text("\n").join([head, second, third]))

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self._show_details()

    # ------------------------------------------------------------------ sort and filter

    def sort_by(self, key: str, descending: bool | None = None) -> None:
        """Sort by the column ``key``; ``descending`` defaults to that column's natural order."""
        table = self.query_one(RunsTable)
        table.sort_key = key
        table.descending = BY_KEY[key].descending if descending is None else descending
        self._show()

    def action_sort(self) -> None:
        table = self.query_one(RunsTable)
        keys = [c.key for c in COLUMNS if not (table.narrow and c.wide_only)]
        position = keys.index(table.sort_key) if table.sort_key in keys else -1
        self.sort_by(keys[(position + 1) % len(keys)])

    def action_reverse(self) -> None:
        table = self.query_one(RunsTable)
        self.sort_by(table.sort_key, not table.descending)

    @on(DataTable.HeaderSelected)
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        key = str(event.column_key.value)
        table = self.query_one(RunsTable)
        self.sort_by(key, not table.descending if key == table.sort_key else None)

    def action_filter(self) -> None:
        self.query_one("#runs-filter", Input).focus()

    @on(Input.Changed, "#runs-filter")
    def _filter_changed(self) -> None:
        self._show()

    @on(Input.Submitted, "#runs-filter")
    def _filter_done(self) -> None:
        self.query_one(RunsTable).focus()

    def action_back(self) -> None:
        """Leave the filter, then clear it, then go back to the screen underneath."""
        field = self.query_one("#runs-filter", Input)
        if field.has_focus:
            self.query_one(RunsTable).focus()
        elif field.value:
            field.value = ""
        elif len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    # ------------------------------------------------------------------ actions on a run

    def _current(self) -> Run | None:
        run = self.query_one(RunsTable).current
        if run is None:
            self.notify("No run selected.", severity="warning", timeout=3)
        return run

    def action_open(self) -> None:
        run = self._current()
        if run is None:
            return
        if run.status == RUNNING and not run.has_predictions:
            self.notify(f"Run {run.id} is still training; its results open once it ends.", timeout=4)
        elif not run.has_predictions:
            why = f" ({run.message})" if run.message else ""
            self.notify(
                f"Run {run.id} has no test predictions to open: it {run.status}{why}.", severity="warning", timeout=5
            )
        else:
            self.post_message(self.OpenRun(run.id))

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_mark(self) -> None:
        run = self._current()
        if run is None:
            return
        if run.id in self.marked:
            self.marked.remove(run.id)
        else:
            self.marked.append(run.id)
        table = self.query_one(RunsTable)
        row = table.cursor_row
        self._show()
        table.move_cursor(row=min(row + 1, table.row_count - 1), animate=False)

    def action_compare(self) -> None:
        """Compare the marked runs (2 to 8), in the order they were marked."""
        if not 2 <= len(self.marked) <= 8:
            self.notify(f"Mark 2 to 8 runs with space to compare them ({len(self.marked)} marked).", timeout=4)
            return
        self.app.push_screen(CompareScreen(self.store, list(self.marked), test_set=self.test_set))

    def action_rename(self) -> None:
        run = self._current()
        if run is None:
            return

        def rename(name: str | None) -> None:
            if name is None or name == run.name:
                return
            try:
                self.store.rename(run.id, name)
            except StoreError as exc:
                self.notify(str(exc), severity="error", timeout=5)
            self.reload()

        self.app.push_screen(RenameDialog(run), rename)

    def action_resume(self) -> None:
        """Resume the interrupted run under the cursor from its last checkpoint."""
        run = self._current()
        if run is None:
            return
        try:
            plan = plan_resume(self.store, run.id)
        except ResumeError as exc:
            self.notify(f"Cannot resume: {exc}.", severity="warning", timeout=6)
            return
        self.post_message(self.GoOn(plan))

    def action_further(self) -> None:
        """Train the finished run under the cursor further: asks how many epochs, then starts a new run."""
        run = self._current()
        if run is None:
            return
        try:
            plan_further(self.store, run.id, 1)  # checked before asking
        except ResumeError as exc:
            self.notify(f"Cannot train further: {exc}.", severity="warning", timeout=6)
            return

        def start(epochs: int | None) -> None:
            if epochs is None:
                return
            try:
                self.post_message(self.GoOn(plan_further(self.store, run.id, epochs)))
            except ResumeError as exc:
                self.notify(f"Cannot train further: {exc}.", severity="warning", timeout=6)

        self.app.push_screen(EpochsDialog(run), start)

    def action_delete(self) -> None:
        run = self._current()
        if run is None:
            return
        if run.status == RUNNING:
            self.notify(f"Run {run.id} is still training; stop it before deleting it.", severity="warning", timeout=4)
            return

        def delete(yes: bool | None) -> None:
            if not yes:
                return
            try:
                self.store.delete(run.id)
            except StoreError as exc:
                self.notify(str(exc), severity="error", timeout=6)
            else:
                self.notify(f"Deleted run {run.id} ({run.name}).", timeout=3)
            self.reload()

        what = f"{fmt.size(run.size_bytes)} on disk" if run.size_bytes else "no files"
        self.app.push_screen(
            ConfirmDialog(
                f"Delete run {run.id} ({run.name})?",
                f"Its metrics, model and predictions ({what}) are removed for good.",
            ),
            delete,
        )

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self))
