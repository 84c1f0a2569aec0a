"""Training configuration: the options table and one frozen, validated dataclass built from it.

:data:`OPTIONS` lists each training option once: how text becomes its value, its check, its
command-line flag and help, its label in the train-again form, its short name where runs are
shown side by side, and the architectures that use it. The command line, the form, the run
record, the runs table, the comparison and :meth:`TrainConfig.describe` all read it, so a new
option is a :class:`TrainConfig` field, one entry here and its tests.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

ARCHITECTURES = ("mlp", "cnn")
PRECISIONS = ("auto", "float32", "bfloat16", "float16")
BACKENDS = ("tensorflow", "jax", "auto")


class ConfigError(ValueError):
    """A configuration value is out of range; the message names the option."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides how a model is built and trained.

    Attributes:
        arch: ``"mlp"`` (the reference model) or ``"cnn"``.
        epochs: Passes over the training set.
        batch_size: Images per weight update.
        hidden_units: Width of the hidden dense layer: the MLP's only hidden layer, the
            CNN's dense layer after the convolutions.
        dropout: Dropout rate after the hidden layer, in ``[0, 1)``.
        learning_rate: Adam's learning rate.
        seed: Seeds Python, NumPy and TensorFlow for repeatable runs.
        train_limit: Train on only the first N training images (quick runs).
        holdout: Keep the last N training images out of training and validate on them after
            every epoch instead of on the test set (None: validate on the test set), so that
            options chosen by their validation accuracy (a sweep) are not chosen on the images
            they are scored on.
        validate: Evaluate on the test set after every epoch.
        steps_per_execution: Batches Keras runs per call into the graph; changes
            speed only, never the math.
        precision: ``auto`` (bfloat16 for the CNN on a CPU that computes it natively,
            float16 for the CNN on NVIDIA tensor cores, float32 otherwise), or one of
            ``float32``, ``bfloat16``, ``float16`` forced. The output layer and the loss
            stay float32.
        backend: The Keras backend: ``tensorflow``, ``jax``, ``auto`` (the fastest installed
            for ``arch``), or None for ``KERAS_BACKEND``, else TensorFlow.
        data: Where MNIST lives (``None``: the usual search order, then download).
        save: Write the trained model here (a ``.keras`` file).
        precision_ran: What the trainer resolved ``precision`` to, e.g. ``"bfloat16 (auto: AMX)"``;
            set on the configuration a run's ``Started`` event carries, None before.
        backend_ran: Likewise for the backend, e.g. ``"jax (auto)"``.
    """

    arch: str = "mlp"
    epochs: int = 10
    batch_size: int = 32
    hidden_units: int = 128
    dropout: float = 0.2
    learning_rate: float = 1e-3
    seed: int | None = None
    train_limit: int | None = None
    holdout: int | None = None
    validate: bool = True
    steps_per_execution: int = 50
    precision: str = "auto"
    backend: str | None = None
    data: Path | None = field(default=None, compare=False)
    save: Path | None = field(default=None, compare=False)
    precision_ran: str | None = field(default=None, compare=False)
    backend_ran: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        for option in OPTIONS:
            value = getattr(self, option.name)
            if value is None and UNSET_BY_DEFAULT.get(option.name, False):
                continue  # not set: the trainer's own choice
            if option.check is not None:
                option.check(value)
        check_int("steps per execution", self.steps_per_execution, 1)

    def with_changes(self, **changes: Any) -> TrainConfig:
        """Return a copy with some fields changed (validated again); a changed copy has not run yet."""
        return replace(self, **{"precision_ran": None, "backend_ran": None, **changes})

    def describe(self) -> dict[str, object]:
        """The options that matter to a person, for the configuration panel, in table order.

        Options the architecture does not use are left out. Precision and backend appear
        once the trainer has resolved them, as what ran (``bfloat16 (auto: AMX)``); before
        that they are only a request.
        """
        shown: dict[str, object] = {}
        for option in OPTIONS:
            if not option.column or not option.described or not option.applies_to(self.arch):
                continue
            if option.ran is None:
                shown[option.name] = getattr(self, option.name)
            elif (ran := getattr(self, option.ran)) is not None:
                shown[option.name] = ran
        return shown


# ---------------------------------------------------------------------- checks and parsers


def check_arch(value: object) -> str:
    if value not in ARCHITECTURES:
        raise ConfigError(f"unknown architecture {value!r} (choose from {', '.join(ARCHITECTURES)})")
    return str(value)


def check_choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ConfigError(f"unknown {name} {value!r} (choose from {', '.join(choices)})")
    return str(value)


def check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be a whole number (got {value!r})")
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum} (got {value})")
    return value


def check_dropout(value: object) -> float:
    if not isinstance(value, (int, float)) or math.isnan(value) or not 0 <= value < 1:
        raise ConfigError(f"dropout must be at least 0 and below 1 (got {value})")
    return float(value)


def check_learning_rate(value: object) -> float:
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ConfigError(f"learning rate must be a number above 0 (got {value})")
    return float(value)


def check_save_suffix(value: object) -> object:
    if Path(str(value)).suffix != ".keras":
        raise ConfigError(f"save path must end in .keras (got {str(value)!r})")
    return value


def check_save_path(path: Path) -> Path:
    """A path a model can be saved to: ends in ``.keras``, in a directory that exists."""
    if path.suffix != ".keras":
        raise ConfigError(f"the file name must end in .keras (got {str(path)!r})")
    if not path.parent.is_dir():
        raise ConfigError(f"directory does not exist: {path.parent}")
    return path


def whole_number(text: str) -> int:
    """Text typed by a person -> an int; :class:`ConfigError` when it is not one."""
    try:
        return int(text.strip())
    except ValueError:
        raise ConfigError(f"expected a whole number, got {text.strip()!r}") from None


def number(text: str) -> float:
    """Text typed by a person -> a float; :class:`ConfigError` when it is not one."""
    try:
        return float(text.strip())
    except ValueError:
        raise ConfigError(f"expected a number, got {text.strip()!r}") from None


def existing_path(text: str) -> Path:
    """A path that exists (``~`` expanded)."""
    path = Path(text).expanduser()
    if not path.exists():
        raise ConfigError(f"no such file or directory: {text}")
    return path


def save_path(text: str) -> Path:
    """A path a model can be saved to (``~`` expanded): see :func:`check_save_path`."""
    return check_save_path(Path(text).expanduser())


# ---------------------------------------------------------------------- the options table


@dataclass(frozen=True)
class Option:
    """One training option: a :class:`TrainConfig` field, how people set it and where runs show it.

    Attributes:
        name: The :class:`TrainConfig` field.
        help: The command line's help for it; ``%(default)s`` is its default.
        parse: Text a person typed -> a value (raises :class:`ConfigError`); choices and
            switches take the text as it is.
        check: Raises :class:`ConfigError` for a value that is out of range; TrainConfig runs
            it on every value, the command line and the form on what a person types.
        metavar: The placeholder in ``--help`` (``N``, ``RATE``).
        choices: The values a choice allows (the command line offers them, the form a select).
        flag: The command-line flag, when it is not ``--`` and the name with dashes.
        group: The section of ``--help`` that lists it.
        label: Its label in the train-again form; empty where the form does not edit it.
        column: Its short name in the runs table's Options column and the comparison; empty
            for what does not describe a run (file paths), which no run shows.
        archs: The architectures that use it; runs of the others never show it.
        recorded: A column of its own in ``mnist-tui runs --csv/--json`` and shown in the runs
            table's Options column where it is not the default.
        described: Shown in the configuration panel (:meth:`TrainConfig.describe`).
        ran: The field holding what the trainer resolved this request to; the panel shows
            that, once the run has started.
    """

    name: str
    help: str
    parse: Callable[[str], object] = str
    check: Callable[[object], object] | None = None
    metavar: str | None = None
    choices: tuple[str, ...] = ()
    flag: str = ""
    group: str = "model and training"
    label: str = ""
    column: str = ""
    archs: tuple[str, ...] = ARCHITECTURES
    recorded: bool = True
    described: bool = True
    ran: str | None = None

    @property
    def cli_flag(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")

    def applies_to(self, arch: str) -> bool:
        """Whether the architecture uses this option (a run of another one never shows it)."""
        return arch in self.archs

    def read(self, text: str) -> object:
        """Text a person typed -> a checked value; :class:`ConfigError` says what is wrong.

        Shared by the command line and the train-again form, so both accept and refuse the same things.
        """
        value = self.parse(text)
        if self.check is not None:
            self.check(value)
        return value


def _at_least(noun: str, minimum: int) -> Callable[[object], object]:
    return lambda value: check_int(noun, value, minimum)


OPTIONS: tuple[Option, ...] = (
    Option(
        "data",
        "directory with the four MNIST IDX files (.gz or not), or a Keras mnist.npz (default: $MNIST_TUI_DATA, then the caches, then download)",
        parse=existing_path,
        metavar="PATH",
        group="data",
    ),
    Option(
        "arch",
        "mlp: the reference dense network; cnn: a small convolutional network (default: %(default)s)",
        check=check_arch,
        choices=ARCHITECTURES,
        label="Architecture",
        column="arch",
        recorded=False,  # the record and the runs table give it a column of its own
    ),
    Option(
        "epochs",
        "passes over the training set (default: %(default)s)",
        parse=whole_number,
        check=_at_least("epochs", 1),
        metavar="N",
        label="Epochs",
        column="epochs",
    ),
    Option(
        "batch_size",
        "images per weight update (default: %(default)s)",
        parse=whole_number,
        check=_at_least("batch size", 1),
        metavar="N",
        label="Batch size",
        column="batch",
    ),
    Option(
        "hidden_units",
        "width of the hidden dense layer: the mlp's only hidden layer, the cnn's dense layer after the convolutions (default: %(default)s)",
        parse=whole_number,
        check=_at_least("hidden units", 1),
        metavar="N",
        label="Hidden units",
        column="hidden",
    ),
    Option(
        "dropout",
        "dropout rate, 0 <= RATE < 1 (default: %(default)s)",
        parse=number,
        check=check_dropout,
        metavar="RATE",
        label="Dropout",
        column="dropout",
    ),
    Option(
        "learning_rate",
        "Adam learning rate, > 0 (default: %(default)s)",
        parse=number,
        check=check_learning_rate,
        metavar="LR",
        label="Learning rate",
        column="lr",
    ),
    Option(
        "seed",
        "seed every random number generator, for repeatable runs",
        parse=whole_number,
        check=_at_least("seed", 0),
        metavar="N",
        label="Seed",
        column="seed",
    ),
    Option(
        "train_limit",
        "train on only the first N training images (quick experiments)",
        parse=whole_number,
        check=_at_least("train limit", 1),
        metavar="N",
        group="data",
        label="Training limit",
        column="limit",
    ),
    Option(
        "holdout",
        "validate on the last N training images, kept out of training, instead of the test set"
        " (choose options in a sweep without looking at the test set; 10000 is usual)",
        parse=whole_number,
        check=_at_least("holdout", 1),
        metavar="N",
        group="data",
        column="holdout",
    ),
    Option(
        "validate",
        "skip scoring the test set after every epoch (faster)",
        flag="--no-validation",
        column="validate",
        described=False,
    ),
    Option(
        "precision",
        "auto: bfloat16 for the cnn on CPUs with AMX or AVX512-BF16, float16 for the cnn on NVIDIA tensor cores, else float32; the output layer stays float32 (default: %(default)s)",
        check=lambda value: check_choice("precision", value, PRECISIONS),
        choices=PRECISIONS,
        column="precision",
        recorded=False,
        ran="precision_ran",
    ),
    Option(
        "backend",
        "the Keras backend; auto: the fastest installed for --arch (default: $KERAS_BACKEND, else tensorflow)",
        check=lambda value: check_choice("backend", value, BACKENDS),
        choices=BACKENDS,
        column="backend",
        recorded=False,
        ran="backend_ran",
    ),
    Option(
        "save",
        "save the trained model there (and its history as PATH.history.json)",
        parse=save_path,
        check=check_save_suffix,
        metavar="PATH.keras",
        group="saved models",
    ),
)
"""Every training option, in the order ``--help``, the form, the run record and the comparison list them."""

NON_OPTIONS = ("steps_per_execution", "precision_ran", "backend_ran")
"""The TrainConfig fields no person sets: a speed knob kept at its tuned value, and what a run resolved."""

UNSET_BY_DEFAULT = {f.name: f.default is None for f in fields(TrainConfig)}
"""Fields whose default is None: None there means "not set" and passes every check."""

DEFAULTS = TrainConfig()


def option(name: str) -> Option:
    """The table's entry for a TrainConfig field (KeyError for a field that is not an option)."""
    for entry in OPTIONS:
        if entry.name == name:
            return entry
    raise KeyError(name)


def cli_options() -> tuple[Option, ...]:
    """Every option, in table order: each one has a command-line flag."""
    return OPTIONS


def form_options() -> list[Option]:
    """The options the train-again form edits, in table order."""
    return [entry for entry in OPTIONS if entry.label]


def compared_options() -> list[Option]:
    """The options that describe a run (those with a short name), in table order."""
    return [entry for entry in OPTIONS if entry.column]


def recorded_options() -> list[Option]:
    """The options with a column of their own in a run's record, in table order."""
    return [entry for entry in compared_options() if entry.recorded]


def default_options() -> dict[str, object]:
    """Every option's default value, by field name."""
    return {entry.name: getattr(DEFAULTS, entry.name) for entry in OPTIONS}
