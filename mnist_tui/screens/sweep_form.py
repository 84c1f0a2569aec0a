"""The sweep form: what ``mnist-tui sweep`` asks, each field checked as it is typed by the command line's own readers.

The search space is read by :func:`mnist_tui.sweeps.space.parse_space` (the syntax of
``--space``), prefilled with the architecture's default space; every option the space does
not search is fixed to the current run's value, shown as the flags the sweep gets.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select, Static

from ..config import ConfigError, TrainConfig, check_int, option, whole_number
from ..sweeps.launch import SweepRequest
from ..sweeps.space import DEFAULT_SPACES, SEARCHABLE, parse_space
from .base import AppModalScreen, field_error, show_field_errors


def _whole(name: str, minimum: int = 1) -> Callable[[str], int | None]:
    """A whole number of at least ``minimum``; blank: not given."""

    def read(text: str) -> int | None:
        return check_int(name, whole_number(text), minimum) if text.strip() else None

    return read


def _workers(text: str) -> int | str:
    text = text.strip()
    return text if text == "auto" else check_int("workers", whole_number(text), 1)


def _seed(text: str) -> int | None:
    return option("seed").read(text) if text.strip() else None  # type: ignore[return-value]


def _holdout(text: str) -> int | None:
    return option("holdout").read(text) if text.strip() else None  # type: ignore[return-value]


class SweepForm(AppModalScreen[SweepRequest | None]):
    """Ask for a sweep: its name, space, budget, pruner, workers, seed and holdout; returns the request.

    Args:
        config: The current run's options: each one the space does not search is fixed to it.
        name: The name offered (``sweep-DATE-TIME``).
        taken: The names of the sweeps in the run store (a new sweep needs a name of its own).
    """

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, config: TrainConfig, name: str, taken: frozenset[str] | set[str] = frozenset()) -> None:
        super().__init__()
        self.config = config
        self.default_name = name
        self.taken = frozenset(taken)
        self.errors: dict[str, str] = {}
        self.readers: dict[str, Callable[[str], object]] = {
            "name": self._read_name,
            "space": lambda text: parse_space(text) and " ".join(text.split()),
            "trials": _whole("trials"),
            "timeout": _whole("timeout"),
            "workers": _workers,
            "seed": _seed,
            "holdout": _holdout,
        }

    def compose(self) -> ComposeResult:
        names = " ".join(option(name).column or name for name in SEARCHABLE)
        seed = "" if self.config.seed is None else str(self.config.seed)
        from ..sweeps.study import PRUNERS  # the command line's --prune choices (Optuna loads with the form)

        with Vertical(id="sweep-form") as box:
            box.border_title = f"Sweep the options of {self.config.arch}"
            box.border_subtitle = "enter start · escape cancel"
            yield from self._row("name", "Name", Input(self.default_name, max_length=60))
            yield Label("Search space", classes="field-label")
            yield Input(DEFAULT_SPACES.get(self.config.arch, DEFAULT_SPACES["mlp"]), id="field-space")
            yield field_error("space")
            yield Label(f"name=lo..hi, lo..hi:log (a log scale) or a,b,c; names: {names}", id="space-hint")
            yield from self._row("trials", "Trials", Input("20", placeholder="blank: until the timeout"))
            yield from self._row("timeout", "Timeout (s)", Input("", placeholder="blank: none"))
            yield from self._row(
                "prune", "Pruner", Select([(p, p) for p in PRUNERS], value=PRUNERS[0], allow_blank=False)
            )
            yield from self._row("workers", "Workers", Input("1", placeholder="a number or auto"))
            yield from self._row("seed", "Seed", Input(seed, placeholder="blank: a new sequence each sweep"))
            holdout = "" if self.config.holdout is None else str(self.config.holdout)
            yield from self._row(
                "holdout", "Holdout", Input(holdout, placeholder="blank: choose on the test set; 10000 keeps it out")
            )
            yield Static(id="sweep-fixed")
            with Horizontal(id="form-buttons"):
                yield Button("Start sweep", variant="primary", id="start")
                yield Button("Cancel", id="cancel")

    def _row(self, name: str, label: str, field: Input | Select) -> ComposeResult:
        if field.id is None:
            field.id = f"field-{name}"
        with Horizontal(classes="field"):
            yield Label(label, classes="field-label")
            yield field
        if isinstance(field, Input):
            yield field_error(name)

    def on_mount(self) -> None:
        self.query_one("#field-space", Input).focus()
        self._check()

    def _read_name(self, text: str) -> str:
        from ..sweeps.study import check_name  # Optuna's import, paid when the form is first used

        name = check_name(text.strip())
        if name in self.taken:
            raise ConfigError(f"a sweep named {name!r} exists: choose another name")
        return name

    def values(self) -> dict[str, object]:
        """Every field read and checked; fills :attr:`errors` with what is wrong."""
        values: dict[str, object] = {"prune": self.query_one("#field-prune", Select).value}
        self.errors = {}
        for name, read in self.readers.items():
            try:
                values[name] = read(self.query_one(f"#field-{name}", Input).value)
            except ConfigError as exc:
                self.errors[name] = str(exc)
        if "trials" in values and "timeout" in values and values["trials"] is None and values["timeout"] is None:
            self.errors["trials"] = "give a number of trials, a timeout or both"
        return values

    def request(self) -> SweepRequest | None:
        """The sweep the fields ask for, or None while any is wrong."""
        values = self.values()
        if self.errors:
            return None
        return SweepRequest(
            name=str(values["name"]),
            space=str(values["space"]),
            base=self.config.with_changes(save=None, holdout=values["holdout"]),
            trials=values["trials"],  # type: ignore[arg-type]
            timeout=values["timeout"],  # type: ignore[arg-type]
            prune=str(values["prune"]),
            workers=values["workers"],  # type: ignore[arg-type]
            seed=values["seed"],  # type: ignore[arg-type]
        )

    def _check(self) -> None:
        values = self.values()
        show_field_errors(self, self.readers, self.errors)
        if "space" not in self.errors:  # what the space leaves alone, as the flags the sweep gets
            seed = values.get("seed", self.config.seed)
            base = self.config.with_changes(holdout=values.get("holdout", self.config.holdout))
            flags = SweepRequest("", str(values["space"]), base, seed=seed).fixed()  # type: ignore[arg-type]
            text = Text.assemble(("Fixed for every trial: ", "bold"), " ".join(flags) or "the defaults")
            self.query_one("#sweep-fixed", Static).update(text)

    @on(Input.Changed)
    @on(Select.Changed)
    def _changed(self) -> None:
        self._check()

    @on(Input.Submitted)
    @on(Button.Pressed, "#start")
    def _start(self) -> None:
        request = self.request()
        if request is None:
            self._check()
            return
        self.dismiss(request)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)
