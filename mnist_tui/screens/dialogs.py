"""Small modal screens: go to an image, and the list of keys."""

from __future__ import annotations

from rich.table import Table
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Label, Static

from .base import AppModalScreen


class GotoDialog(AppModalScreen[int | None]):
    """Ask for an image index; returns it, or ``None`` when cancelled."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

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


KEYS = [
    (
        "Browse",
        [
            ("→  l  j", "next image"),
            ("←  h  k", "previous image"),
            ("pagedown / pageup", "jump a page"),
            ("home / end", "first / last image"),
            ("click a row", "select that image"),
        ],
    ),
    (
        "Filter and order",
        [
            ("e", "mistakes only (toggle)"),
            ("0 … 9", "only images of that true digit"),
            ("a", "all images again"),
            ("o", "order: index / least confident / suspicious"),
            ("g", "go to an index"),
        ],
    ),
    (
        "Views",
        [
            ("w", "why: which pixels pushed toward / against"),
            ("n", "nearest training images"),
            ("m", "ASCII art / half-block rendering"),
            ("c", "confusion matrix (enter drills into a cell)"),
            ("p", "map of all test images (enter opens the selected ones)"),
            ("L", "what the first layer learned"),
            ("d", "draw a digit for the model to read"),
            ("t", "train again with other options"),
            ("s", "save the model to a file"),
            ("R", "recorded runs: open, compare, rename, delete"),
            ("ctrl+p", "command palette: every action by name"),
            ("?", "this help"),
            ("escape", "back"),
            ("q", "quit"),
        ],
    ),
]


class HelpScreen(AppModalScreen[None]):
    """Every key of the results browser."""

    BINDINGS = [Binding("escape,question_mark,q", "dismiss(None)", "Close")]

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        for section, rows in KEYS:
            table.add_row(f"[b]{section}[/]", "")
            for key, what in rows:
                table.add_row(key, what)
        with Vertical(id="help") as box:
            box.border_title = "Keys"
            box.border_subtitle = "escape to close"
            yield Static(table)
