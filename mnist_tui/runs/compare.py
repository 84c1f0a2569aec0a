"""Comparing recorded runs: the options that set them apart, their best epochs, and the test
images one run gets right and another wrong. NumPy and the standard library only."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..config import compared_options, default_options
from . import format as fmt
from .model import Epoch, Run
from .store import RunStore, StoreError, reason


class _ShortNames(Mapping[str, str]):
    """Configuration key -> short name of every option a comparison looks at, in table order.

    Read from the options table on every use, so it never lags behind the table.
    """

    def _names(self) -> dict[str, str]:
        return {option.name: option.column for option in compared_options()}

    def __getitem__(self, key: str) -> str:
        return self._names()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())


OPTION_KEYS: Mapping[str, str] = _ShortNames()
"""Configuration keys a comparison looks at, with their short names, in the order they are shown."""

NOT_SET = object()


def option_value(run: Run, key: str) -> object:
    """The run's value for a configuration key (the default where the run did not record it).

    An option the run's architecture does not use reads as :data:`NOT_SET`.
    """
    if key == "arch":
        return run.arch
    if any(option.name == key and not option.applies_to(run.arch) for option in compared_options()):
        return NOT_SET
    return run.config.get(key, default_options().get(key))


def differing_options(runs: Sequence[Run]) -> list[str]:
    """The configuration keys whose values are not the same in every run, in :data:`OPTION_KEYS` order."""
    keys = []
    for key in OPTION_KEYS:
        values = [option_value(run, key) for run in runs]
        if any(value is NOT_SET for value in values) and not all(value is NOT_SET for value in values):
            keys.append(key)
        elif len({repr(value) for value in values}) > 1:
            keys.append(key)
    return keys


def format_option(value: object) -> str:
    """An option's value as a table cell: ``0.01``, ``128``, ``yes``, ``–`` (not set or not meaningful)."""
    if value is NOT_SET or value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def apart(run: Run, keys: Sequence[str]) -> str:
    """What sets the run apart among those compared: ``lr=0.01 batch=128`` for the differing ``keys``."""
    parts = []
    for key in keys:
        value = option_value(run, key)
        if value is NOT_SET:
            continue
        parts.append(str(value) if key == "arch" else fmt.option_text(OPTION_KEYS[key], value))
    return " ".join(parts)


def lowest_val_loss(run: Run) -> Epoch | None:
    """The epoch with the lowest val_loss (the first of equals), or ``None`` without validation."""
    scored = [e for e in run.epochs if e.val_loss is not None and math.isfinite(e.val_loss)]
    return min(scored, key=lambda e: (e.val_loss, e.epoch)) if scored else None


def metric(run: Run, name: str) -> list[float]:
    """One metric per epoch (``loss``, ``val_loss``, ...); NaN where an epoch has none."""
    values = [getattr(epoch, name) for epoch in run.epochs]
    return [math.nan if value is None else float(value) for value in values]


# ---------------------------------------------------------------------- flipped images


@dataclass(frozen=True)
class Scored:
    """A run's test-set outcome: the labels it was scored against and its probabilities."""

    labels: np.ndarray
    probabilities: np.ndarray

    @property
    def correct(self) -> np.ndarray:
        return self.probabilities.argmax(axis=1) == self.labels


def load_scored(store: RunStore, run_id: int) -> Scored:
    """Read a run's test probabilities and the labels saved with them.

    Raises:
        StoreError: the run has no predictions, or they cannot be read.
    """
    probabilities = store.load_probabilities(run_id)
    path = store.predictions_path(run_id)
    try:
        with np.load(path) as saved:
            labels = np.asarray(saved["labels"]).astype(np.int64)
    except (OSError, ValueError, KeyError) as exc:
        raise StoreError(f"cannot read the labels in {path}: {reason(exc)}") from None
    if labels.shape != (len(probabilities),):
        raise StoreError(f"{path} holds {labels.size} labels for {len(probabilities)} predictions")
    return Scored(labels, probabilities)


def flipped(labels: np.ndarray, first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The images one set of probabilities gets right and the other wrong, both ways.

    Args:
        labels: ``(n,)`` true labels.
        first: ``(n, classes)`` probabilities of one run.
        second: ``(n, classes)`` probabilities of the other.

    Returns:
        Indices, ascending: right in ``first`` and wrong in ``second``; then the other way.
    """
    right_first = np.asarray(first).argmax(axis=1) == labels
    right_second = np.asarray(second).argmax(axis=1) == labels
    return np.flatnonzero(right_first & ~right_second), np.flatnonzero(right_second & ~right_first)


@dataclass(frozen=True, eq=False)
class FlippedSet:
    """Test images that run ``right`` gets right and run ``wrong`` gets wrong."""

    right: int
    wrong: int
    indices: np.ndarray

    @property
    def label(self) -> str:
        return f"run {self.right} right, run {self.wrong} wrong"

    def __len__(self) -> int:
        return len(self.indices)


def flipped_sets(run_ids: Sequence[int], scored: dict[int, Scored | str]) -> tuple[list[FlippedSet], list[str]]:
    """The flipped images between the first run and each other one, both ways.

    Args:
        run_ids: The runs, the first one the reference.
        scored: Each run's outcome, or a sentence saying why there is none.

    Returns:
        The sets (two per pair, the reference run right first), and one-line notes
        about the pairs that cannot be compared.
    """
    sets: list[FlippedSet] = []
    notes: list[str] = []
    first = run_ids[0]
    for run_id in run_ids:
        if isinstance(scored.get(run_id), str):
            notes.append(str(scored[run_id]))
    reference = scored.get(first)
    if not isinstance(reference, Scored):
        return sets, notes
    for other_id in run_ids[1:]:
        other = scored.get(other_id)
        if not isinstance(other, Scored):
            continue
        if other.labels.shape != reference.labels.shape or not np.array_equal(other.labels, reference.labels):
            notes.append(f"runs {first} and {other_id} were scored on different test images")
            continue
        first_only, other_only = flipped(reference.labels, reference.probabilities, other.probabilities)
        sets += [FlippedSet(first, other_id, first_only), FlippedSet(other_id, first, other_only)]
    return sets, notes


def counts_line(sets: Sequence[FlippedSet]) -> str:
    """``run 3 right, run 5 wrong: 41 · run 5 right, run 3 wrong: 28``."""
    return " · ".join(f"{s.label}: {len(s):,}" for s in sets)
