"""The modal screens: go to an image, the keys of a screen, rename a run, a yes/no question,
save the model, and train again with new options (its fields from the options table)."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select, Static

from ..config import UNSET_BY_DEFAULT, ConfigError, Option, TrainConfig, check_save_path, form_options
from ..events import ModelHandle, ModelServerError, one_line
from ..keys import SCREENS, HelpRow
from ..runs import Run
from .base import AppModalScreen, KeyedScreen, bindings, field_error, show_field_errors


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
            index = int(text.replace(",", ""))  # "1,234" as well as 1234
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


class SaveDialog(AppModalScreen[Path | None]):
    """Ask for a path and save the model there.

    The path shows absolute. A name without ``.keras`` gets it; a folder that does not
    exist is created after a second enter, and an existing file is replaced only after one.
    """

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, model: ModelHandle, suggested: Path) -> None:
        super().__init__()
        self.model = model
        self.suggested = suggested.expanduser().absolute()
        self._confirmed: Path | None = None
        self._create: Path | None = None
        self._saving = False

    def compose(self) -> ComposeResult:
        with Vertical(id="save-dialog") as box:
            box.border_title = "Save model"
            yield Label("Save the model as (a .keras file):")
            yield Input(str(self.suggested), id="save-path")
            yield Label("enter save · escape cancel", id="save-message")

    def _say(self, text: str) -> None:
        self.query_one("#save-message", Label).update(text)

    @on(Input.Changed)
    def _typed(self) -> None:
        self._confirmed = None
        self._create = None
        self._say("enter save · escape cancel")

    @staticmethod
    def target(text: str) -> Path:
        """What a typed path means: ``~`` expanded, absolute (from the current directory), ending in ``.keras``."""
        path = Path(text).expanduser().absolute()
        return path if path.suffix == ".keras" else path.with_name(path.name + ".keras")

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            self._say("[b red]type a file name[/]")
            return
        path = self.target(text)
        for typed in {Path(text).expanduser().absolute(), path}:
            if typed.is_dir():
                self._say(f"[b red]{escape(str(typed))} is a folder: add a file name[/]")
                return
        folder = path.parent
        if not folder.is_dir():
            if folder.exists() or any(p.exists() and not p.is_dir() for p in folder.parents):
                self._say(f"[b red]{escape(str(folder))} is not a folder[/]")
                return
            if self._create != folder:
                self._create = folder
                self._say(f"[b yellow]{escape(str(folder))} does not exist: enter again to create it[/]")
                return
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                self._say(f"[b red]could not create {escape(str(folder))}: {escape(exc.strerror or str(exc))}[/]")
                return
        try:
            check_save_path(path)
        except ConfigError as exc:
            self._say(f"[b red]{escape(str(exc))}[/]")
            return
        if path.exists() and self._confirmed != path:
            self._confirmed = path
            self._say(f"[b yellow]{escape(path.name)} exists: enter again to replace it[/]")
            return
        if self._saving:
            return
        self._saving = True
        self._say(f"saving to {escape(str(path))}…")
        self._save(path)

    @work(thread=True, exclusive=True, group="save")
    def _save(self, path: Path) -> None:
        """The model process writes the file; the UI keeps answering keys meanwhile (a model
        opened from the runs screen may still be loading TensorFlow)."""
        try:
            self.model.save(path)
        except Exception as exc:  # a full disk, a read-only directory, ...
            # the model process's own words ("No space left on device"), or the error's
            reason = str(exc) if isinstance(exc, ModelServerError) else getattr(exc, "strerror", None) or one_line(exc)
            self.app.call_from_thread(self._failed, reason)
        else:
            self.app.call_from_thread(self._done, path)

    def _failed(self, reason: str) -> None:
        self._saving = False
        self._say(f"[b red]could not save: {reason}[/]")

    def _done(self, path: Path) -> None:
        if self.is_attached and not self.app.exiting:  # type: ignore[attr-defined]
            self.dismiss(path)


UNSET_TEXT = {"seed": "blank: a new one each run", "train_limit": "blank: all training images"}
"""What a blank field means for the options that may stay unset (shown in the empty field)."""


class TrainForm(AppModalScreen[TrainConfig | None]):
    """The main options of a new run, each checked as it is typed; returns the new configuration."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]
    # eight fields fill 80x24: with several errors shown the form scrolls instead of running off the screen
    DEFAULT_CSS = "TrainForm #train-form { max-height: 100%; overflow-y: auto; }"

    def __init__(self, config: TrainConfig) -> None:
        super().__init__()
        self.config = config
        self.fields = form_options()  # the options table's entries with a form label, in table order
        self.errors: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        with Vertical(id="train-form") as box:
            box.border_title = "Train again"
            box.border_subtitle = "enter start · escape cancel"
            for option in self.fields:
                with Horizontal(classes="field"):
                    yield Label(option.label, classes="field-label")
                    yield self._field(option)
                if not option.choices:
                    yield field_error(option.name)
            with Horizontal(id="form-buttons"):
                yield Button("Start training", variant="primary", id="start")
                yield Button("Cancel", id="cancel")

    def _field(self, option: Option) -> Input | Select:
        """A select for a choice, else a text field checked as it is typed (blank: not set, where that is allowed)."""
        value = getattr(self.config, option.name)
        if option.choices:
            return Select([(c, c) for c in option.choices], value=value, allow_blank=False, id=f"field-{option.name}")
        text = "" if value is None else f"{value:g}"
        return Input(text, placeholder=UNSET_TEXT.get(option.name, ""), id=f"field-{option.name}")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def values(self) -> dict[str, object]:
        """Every field parsed and checked; fills :attr:`errors` with what is wrong."""
        values: dict[str, object] = {}
        self.errors = {}
        for option in self.fields:
            if option.choices:
                values[option.name] = self.query_one(f"#field-{option.name}", Select).value
                continue
            text = self.query_one(f"#field-{option.name}", Input).value
            if not text.strip() and UNSET_BY_DEFAULT.get(option.name):
                values[option.name] = None  # a seed or a training limit left blank: not set
                continue
            try:
                values[option.name] = option.read(text)
            except ConfigError as exc:
                self.errors[option.name] = str(exc)
        return values

    def _check(self) -> None:
        self.values()
        show_field_errors(self, (option.name for option in self.fields if not option.choices), self.errors)

    @on(Input.Changed)
    @on(Select.Changed)
    def _changed(self) -> None:
        self._check()

    @on(Input.Submitted)
    @on(Button.Pressed, "#start")
    def _start(self) -> None:
        values = self.values()
        if self.errors:
            self._check()
            return
        # a new run never overwrites the file the first one was saved to
        self.dismiss(self.config.with_changes(**values, save=None))

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)
