"""Training configuration: one frozen, validated dataclass shared by the CLI, the UI and the trainer."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

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
        hidden_units: Width of the hidden dense layer.
        dropout: Dropout rate after the hidden layer, in ``[0, 1)``.
        learning_rate: Adam's learning rate.
        seed: Seeds Python, NumPy and TensorFlow for repeatable runs.
        train_limit: Train on only the first N training images (quick runs).
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
    validate: bool = True
    steps_per_execution: int = 50
    precision: str = "auto"
    backend: str | None = None
    data: Path | None = field(default=None, compare=False)
    save: Path | None = field(default=None, compare=False)
    precision_ran: str | None = field(default=None, compare=False)
    backend_ran: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        check_arch(self.arch)
        check_choice("precision", self.precision, PRECISIONS)
        if self.backend is not None:
            check_choice("backend", self.backend, BACKENDS)
        for name, (_, check) in TYPED_OPTIONS.items():
            check(getattr(self, name))
        check_int("steps per execution", self.steps_per_execution, 1)
        if self.train_limit is not None:
            check_int("train limit", self.train_limit, 1)
        if self.save is not None and Path(self.save).suffix != ".keras":
            raise ConfigError(f"save path must end in .keras (got {str(self.save)!r})")

    def with_changes(self, **changes: object) -> TrainConfig:
        """Return a copy with some fields changed (validated again); a changed copy has not run yet."""
        return replace(self, **{"precision_ran": None, "backend_ran": None, **changes})

    def describe(self) -> dict[str, object]:
        """The options that matter to a person, for the configuration panel.

        Precision and backend appear once the trainer has resolved them, as what ran
        (``bfloat16 (auto: AMX)``); before that they are only a request.
        """
        shown = asdict(self)
        for key in ("data", "save", "steps_per_execution", "validate", "precision", "backend"):
            shown.pop(key)
        shown["precision"] = shown.pop("precision_ran")
        shown["backend"] = shown.pop("backend_ran")
        if self.precision_ran is None:
            shown.pop("precision")
        if self.backend_ran is None:
            shown.pop("backend")
        if self.arch == "cnn":
            shown.pop("hidden_units")
        return shown


def check_arch(value: str) -> str:
    if value not in ARCHITECTURES:
        raise ConfigError(f"unknown architecture {value!r} (choose from {', '.join(ARCHITECTURES)})")
    return value


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


def check_dropout(value: float) -> float:
    if not isinstance(value, (int, float)) or math.isnan(value) or not 0 <= value < 1:
        raise ConfigError(f"dropout must be at least 0 and below 1 (got {value})")
    return float(value)


def check_learning_rate(value: float) -> float:
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ConfigError(f"learning rate must be a number above 0 (got {value})")
    return float(value)


# The options a person types (on the command line or in the train-again form): how the
# text becomes a value, and the check it must pass. TrainConfig runs the same checks.
TYPED_OPTIONS: dict[str, tuple[Callable[[str], object], Callable[[object], object]]] = {
    "epochs": (int, lambda v: check_int("epochs", v, 1)),
    "batch_size": (int, lambda v: check_int("batch size", v, 1)),
    "hidden_units": (int, lambda v: check_int("hidden units", v, 1)),
    "dropout": (float, check_dropout),
    "learning_rate": (float, check_learning_rate),
}


def parse_value(text: str, convert: Callable[[str], object], check: Callable[[object], object]) -> object:
    """Text typed by a person -> a checked value; :class:`ConfigError` says what is wrong.

    Shared by the command line and the train-again form, so both accept and refuse the same things.
    """
    try:
        value = convert(text.strip())
    except ValueError:
        kind = "a whole number" if convert is int else "a number"
        raise ConfigError(f"expected {kind}, got {text.strip()!r}") from None
    check(value)
    return value


def check_save_path(path: Path) -> Path:
    """A path a model can be saved to: ends in ``.keras``, in a directory that exists."""
    if path.suffix != ".keras":
        raise ConfigError(f"the file name must end in .keras (got {str(path)!r})")
    if not path.parent.is_dir():
        raise ConfigError(f"directory does not exist: {path.parent}")
    return path
