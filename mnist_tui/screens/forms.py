"""Dialogs that take typed input: save the model to a file, and train again with new options."""

from __future__ import annotations

import threading
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select

from ..config import ConfigError, Option, TrainConfig, check_save_path, form_options
from ..events import ModelHandle, one_line
from ..worker.protocol import ModelServerError
from .base import AppModalScreen


class SaveDialog(AppModalScreen[Path | None]):
    """Ask for a path and save the model there; an existing file needs a second enter."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, model: ModelHandle, suggested: Path) -> None:
        super().__init__()
        self.model = model
        self.suggested = suggested
        self._confirmed: Path | None = None
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
        self._say("enter save · escape cancel")

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            self._say("[b red]type a file name[/]")
            return
        path = Path(text).expanduser()
        try:
            check_save_path(path)
        except ConfigError as exc:
            self._say(f"[b red]{exc}[/]")
            return
        if path.is_dir():
            self._say(f"[b red]{path} is a directory[/]")
            return
        if path.exists() and self._confirmed != path:
            self._confirmed = path
            self._say(f"[b yellow]{path.name} exists: enter again to replace it[/]")
            return
        if self._saving:
            return
        self._saving = True
        self._say("saving…")
        # The model process writes the file; the UI keeps answering keys meanwhile (a
        # model opened from the runs screen may still be loading TensorFlow).
        threading.Thread(target=self._save, args=(path,), name="mnist-tui-save", daemon=True).start()

    def _save(self, path: Path) -> None:
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


class TrainForm(AppModalScreen[TrainConfig | None]):
    """The main options of a new run, each checked as it is typed; returns the new configuration."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

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
                    error = Label("", id=f"field-{option.name}-error", classes="field-error")
                    error.display = False
                    yield error
            with Horizontal(id="form-buttons"):
                yield Button("Start training", variant="primary", id="start")
                yield Button("Cancel", id="cancel")

    def _field(self, option: Option) -> Input | Select:
        """A select for a choice, else a text field checked as it is typed."""
        value = getattr(self.config, option.name)
        if option.choices:
            return Select([(c, c) for c in option.choices], value=value, allow_blank=False, id=f"field-{option.name}")
        return Input(f"{value:g}", id=f"field-{option.name}")

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
            try:
                values[option.name] = option.read(self.query_one(f"#field-{option.name}", Input).value)
            except ConfigError as exc:
                self.errors[option.name] = str(exc)
        return values

    def _check(self) -> None:
        self.values()
        for name in (option.name for option in self.fields if not option.choices):
            self.query_one(f"#field-{name}", Input).set_class(name in self.errors, "-invalid")
            error = self.query_one(f"#field-{name}-error", Label)
            error.update(self.errors.get(name, ""))
            error.display = name in self.errors
        self.query_one("#start", Button).disabled = bool(self.errors)

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
