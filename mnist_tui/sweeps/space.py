"""A sweep's search space: a short readable syntax, defaults per architecture, and trial -> TrainConfig.

The syntax is whitespace-separated ``name=values`` items, one per option searched::

    lr=1e-4..1e-2:log hidden=32..512:log dropout=0..0.5 batch=32,64,128

``lo..hi`` is a range (``:log`` samples it on a log scale), ``a,b,c`` a list to choose from,
and a single value fixes the option. A name is an option's field name (``learning_rate``),
its short column name (``lr``) or its flag without dashes (``learning-rate``). Every value is
read and checked by the options table (:mod:`mnist_tui.config`), so a sweep accepts exactly
what the command line does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ..config import ConfigError, Option, TrainConfig, option

SEARCHABLE = ("arch", "epochs", "batch_size", "hidden_units", "dropout", "learning_rate")
"""The options a sweep may search; the others (data, limit, seed, ...) are fixed by the command line."""

DEFAULT_SPACES = {
    "mlp": "lr=1e-4..1e-2:log hidden=32..512:log dropout=0..0.5 batch=32,64,128",
    "cnn": "lr=1e-4..3e-3:log hidden=32..256:log dropout=0..0.5 batch=32,64,128",
}
"""The space searched when none is given, per architecture: ranges known to hold good models."""


class SpaceError(ConfigError):
    """The search space's text cannot be read; the message names the item."""


class Suggests(Protocol):
    """What a space asks of a trial (Optuna's ``Trial`` has these methods)."""

    def suggest_float(self, name: str, low: float, high: float, *, log: bool = False) -> float: ...

    def suggest_int(self, name: str, low: int, high: int, *, log: bool = False) -> int: ...

    def suggest_categorical(self, name: str, choices: Any) -> Any: ...


@dataclass(frozen=True)
class Param:
    """One searched option: a range (``low``..``high``, maybe log) or a list of ``choices``."""

    name: str
    """The TrainConfig field."""
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    choices: tuple[Any, ...] = ()
    integer: bool = False

    @property
    def column(self) -> str:
        """The short name runs are shown with (``lr``)."""
        return option(self.name).column or self.name

    def suggest(self, trial: Suggests) -> Any:
        if self.choices:
            return self.choices[0] if len(self.choices) == 1 else trial.suggest_categorical(self.name, self.choices)
        assert self.low is not None and self.high is not None
        if self.integer:
            return trial.suggest_int(self.name, int(self.low), int(self.high), log=self.log)
        return trial.suggest_float(self.name, float(self.low), float(self.high), log=self.log)

    def text(self) -> str:
        """The item back as text: ``lr=0.0001..0.01:log``."""
        if self.choices:
            return f"{self.column}={','.join(str(c) for c in self.choices)}"
        return f"{self.column}={self.low:g}..{self.high:g}" + (":log" if self.log else "")


def _find_option(name: str) -> Option:
    wanted = name.strip().lower().replace("-", "_")
    for field in SEARCHABLE:
        entry = option(field)
        if wanted in (entry.name, entry.column):
            return entry
    names = ", ".join(option(f).column or f for f in SEARCHABLE)
    raise SpaceError(f"cannot search {name!r} (a sweep searches {names})")


def _read(entry: Option, text: str) -> Any:
    try:
        return entry.read(text) if not entry.choices else _choice(entry, text)
    except ConfigError as exc:
        raise SpaceError(f"{entry.column or entry.name}: {exc}") from None


def _choice(entry: Option, text: str) -> str:
    if text not in entry.choices:
        raise ConfigError(f"unknown value {text!r} (choose from {', '.join(entry.choices)})")
    return text


def parse_item(item: str) -> Param:
    """One ``name=values`` item -> a :class:`Param`; :class:`SpaceError` says what is wrong."""
    name, sep, values = item.partition("=")
    if not sep or not name or not values:
        raise SpaceError(f"expected name=values, got {item!r} (e.g. lr=1e-4..1e-2:log or batch=32,64)")
    entry = _find_option(name)
    integer = entry.parse.__name__ == "whole_number"
    if ".." in values:
        if entry.choices:
            raise SpaceError(f"{entry.column}: a list, not a range (e.g. {entry.column}={','.join(entry.choices)})")
        body, _, scale = values.partition(":")
        if scale not in ("", "log"):
            raise SpaceError(f"{entry.column}: unknown scale {scale!r} (only :log)")
        lo_text, _, hi_text = body.partition("..")
        low, high = _read(entry, lo_text), _read(entry, hi_text)
        if not low < high:
            raise SpaceError(f"{entry.column}: the range's low end must be below its high end (got {body})")
        if scale == "log" and low <= 0:
            raise SpaceError(f"{entry.column}: a log range must start above 0 (got {low})")
        return Param(entry.name, low=low, high=high, log=scale == "log", integer=integer)
    if ":" in values:
        raise SpaceError(f"{entry.column}: a scale goes with a range (lo..hi:log), got {values!r}")
    choices = tuple(dict.fromkeys(_read(entry, text) for text in values.split(",")))
    return Param(entry.name, choices=choices, integer=integer)


def parse_space(text: str) -> tuple[Param, ...]:
    """A whole space; an option named twice or an empty space is refused."""
    params: dict[str, Param] = {}
    for item in text.split():
        param = parse_item(item)
        if param.name in params:
            raise SpaceError(f"{param.column} is given twice in the search space")
        params[param.name] = param
    if not params:
        raise SpaceError("the search space is empty (e.g. --space 'lr=1e-4..1e-2:log')")
    return tuple(params.values())


def default_space(arch: str) -> tuple[Param, ...]:
    return parse_space(DEFAULT_SPACES.get(arch, DEFAULT_SPACES["mlp"]))


def space_text(params: tuple[Param, ...]) -> str:
    """The space as it would be typed (what a sweep stores, so ``--resume`` searches the same)."""
    return " ".join(param.text() for param in params)


def searched(params: tuple[Param, ...]) -> tuple[Param, ...]:
    """The params that vary (a one-value list only fixes its option)."""
    return tuple(p for p in params if not (p.choices and len(p.choices) == 1))


def suggest(params: tuple[Param, ...], trial: Suggests) -> dict[str, Any]:
    """Ask ``trial`` for a value of each param, by TrainConfig field."""
    return {param.name: param.suggest(trial) for param in params}


def trial_config(base: TrainConfig, values: Mapping[str, Any]) -> TrainConfig:
    """``base`` (what the command line fixed) with a trial's values, checked by the options table."""
    return base.with_changes(**dict(values))
