"""The small modal screens: go to an image, the keys of a screen, rename a run, a yes/no question.

(The save and train-again forms, with their fields and checks, are in :mod:`.forms`.)
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from ..keys import SCREENS, HelpRow
from ..runs import Run
from .base import AppModalScreen, KeyedScreen, bindings


class GotoDialog(AppModalScreen[int | None]):
    """Ask for an image index; returns it, or ``None`` when cancelled."""

    KEYS = "goto"
    BINDINGS = bindings(KEYS)

    def __init__(self, count: int) -> None:
        super().__init__()
        self.count = count

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog") as box:
            box.border_title = "Go to image"
            yield Label(f"Index of a test image, 0 to {self.count - 1}:")
            yield Input(placeholder="e.g. 1234", id="goto-input")
            yield Label("enter go · escape cancel", id="goto-message")

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        message = self.query_one("#goto-message", Label)
        try:
            index = int(text)
        except ValueError:
            message.update(f"[b red]'{text}' is not a whole number[/]" if text else "[b red]type a number[/]")
            return
        if not 0 <= index < self.count:
            message.update(f"[b red]{index} is out of range: 0 to {self.count - 1}[/]")
            return
        self.dismiss(index)


class HelpScreen(AppModalScreen[None]):
    """The keys of the screen it is opened over: those that screen binds now, as :mod:`mnist_tui.keys` describes them.

    Args:
        over: The screen whose keys are listed.
    """

    KEYS = "help"
    BINDINGS = bindings(KEYS)

    def __init__(self, over: KeyedScreen) -> None:
        super().__init__()
        self.over = over
        self.rows: list[HelpRow] = []

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        section = None
        self.rows = self.over.help_rows()
        for row in self.rows:
            if row.group != section:
                section = row.group
                table.add_row(f"[b]{section}[/]", "")
            table.add_row(row.keys, row.text)
        with Vertical(id="help") as box:
            box.border_title = SCREENS[self.over.KEYS].title
            box.border_subtitle = "escape to close"
            yield Static(table)


class RenameDialog(AppModalScreen[str | None]):
    """Ask for a run's new name; returns it, or ``None`` when cancelled."""

    DEFAULT_CSS = """
    RenameDialog { align: center middle; }
    RenameDialog #rename { width: 50; height: auto; border: thick $primary; background: $surface; padding: 0 1; }
    RenameDialog #rename-input, RenameDialog #rename-input:focus {
        height: 1; border: none; padding: 0 1; margin: 1 0; background: $primary 30%;
    }
    """
    KEYS = "rename"
    BINDINGS = bindings(KEYS)

    def __init__(self, run: Run) -> None:
        super().__init__()
        self.run = run

    def compose(self) -> ComposeResult:
        with Vertical(id="rename") as box:
            box.border_title = f"Rename run {self.run.id}"
            yield Label("New name:")
            yield Input(self.run.name, id="rename-input", max_length=60)
            yield Label("enter rename · escape cancel", id="rename-message")

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        name = " ".join(event.value.split())
        if not name:
            self.query_one("#rename-message", Label).update("[b red]a name cannot be empty[/]")
            return
        self.dismiss(name)


class ConfirmDialog(AppModalScreen[bool]):
    """A yes/no question; ``y`` or the button confirms, ``n`` or escape cancels (the default)."""

    DEFAULT_CSS = """
    ConfirmDialog { align: center middle; }
    ConfirmDialog #confirm { width: 60; height: auto; border: thick $error; background: $surface; padding: 0 1; }
    ConfirmDialog #confirm-buttons { height: auto; align: right middle; margin-top: 1; }
    ConfirmDialog Button { margin: 0 0 0 1; }
    """
    KEYS = "confirm"
    BINDINGS = bindings(KEYS)

    def __init__(self, question: str, detail: str = "", *, confirm: str = "Delete") -> None:
        super().__init__()
        self.question = question
        self.detail = detail
        self.confirm = confirm

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm") as box:
            box.border_title = "Confirm"
            yield Static(Text(self.question, style="bold"))
            if self.detail:
                yield Static(Text(self.detail))
            with Horizontal(id="confirm-buttons"):
                yield Button(f"{self.confirm} (y)", variant="error", id="yes")
                yield Button("Cancel (n)", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")
