"""Ask how many more epochs to train a finished run (the runs screen's ``f``)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label

from ..runs import Run, checkpoints
from .base import AppModalScreen, bindings

MAX_EPOCHS = 1000


class EpochsDialog(AppModalScreen[int | None]):
    """Ask for a number of epochs; returns it, or ``None`` when cancelled (escape)."""

    DEFAULT_CSS = """
    EpochsDialog { align: center middle; }
    EpochsDialog #epochs-box { width: 56; height: auto; border: thick $primary; background: $surface; padding: 0 1; }
    EpochsDialog #epochs-input, EpochsDialog #epochs-input:focus {
        height: 1; border: none; padding: 0 1; margin: 1 0; background: $primary 30%;
    }
    """
    KEYS = "rename"  # escape cancels, as in the rename dialog
    BINDINGS = bindings(KEYS)

    def __init__(self, run: Run) -> None:
        super().__init__()
        self.run = run

    def compose(self) -> ComposeResult:
        planned = self.run.epochs_planned or 1
        # the last whole epoch's checkpoint: a stop's partial epoch is not in it
        described = checkpoints.describe(self.run.folder)
        reached = described[0] if described else self.run.epochs_done
        with Vertical(id="epochs-box") as box:
            box.border_title = f"Train run {self.run.id} further"
            yield Label(f"From the end of its epoch {reached}, as a new run.\nMore epochs:")
            yield Input(str(planned), id="epochs-input", type="integer", max_length=4)
            yield Label("enter start · escape cancel", id="epochs-message")

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        try:
            epochs = int(event.value.strip())
        except ValueError:
            epochs = 0
        if not 1 <= epochs <= MAX_EPOCHS:
            self.query_one("#epochs-message", Label).update(f"[b red]a whole number from 1 to {MAX_EPOCHS}[/]")
            return
        self.dismiss(epochs)
