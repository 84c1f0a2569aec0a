"""A sweep's trials as plain rows: for the headless table, the sweep screen and the CSV/JSON export.

Built from Optuna's frozen trials (any storage), so a sweep reads the same from every worker.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .space import Param

if TYPE_CHECKING:  # the UI imports this module: Optuna loads only when a sweep is read
    from optuna.trial import FrozenTrial

STATE_NAMES = {"RUNNING": "running", "COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed", "WAITING": "waiting"}
"""Optuna's trial states by name, as the sweep says them."""


@dataclass(frozen=True)
class TrialRow:
    """One trial: what it tried, how it went, epoch by epoch."""

    number: int
    state: str
    params: dict[str, Any]
    curve: tuple[float, ...] = ()
    """Validation accuracy after each epoch so far."""
    value: float | None = None
    """The objective (test accuracy; the mean over seeds with ``--repeat``), for a complete trial."""
    seconds: float | None = None
    run_id: int | None = None
    note: str = ""
    """Why it was pruned or failed."""
    spread: float | None = None
    """The standard deviation over seeds (``--repeat``), else None."""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def best(self) -> float | None:
        """The best validation accuracy it reached (its value, for a complete trial)."""
        finite = [v for v in self.curve if math.isfinite(v)]
        if self.value is not None:
            finite.append(self.value)
        return max(finite) if finite else None

    @property
    def score(self) -> float | None:
        """What ranks a trial: its value when complete, else its best epoch (pruned ones stay comparable)."""
        return self.value if self.value is not None else self.best


def row_of(trial: FrozenTrial) -> TrialRow:
    curve = tuple(float(v) for _, v in sorted(trial.intermediate_values.items()))
    seconds = None
    if trial.datetime_start is not None and trial.datetime_complete is not None:
        seconds = (trial.datetime_complete - trial.datetime_start).total_seconds()
    state = STATE_NAMES.get(trial.state.name, trial.state.name.lower())
    value = float(trial.value) if state == "complete" and trial.value is not None else None
    attrs = trial.user_attrs
    return TrialRow(
        number=trial.number,
        state=state,
        params=dict(trial.params),
        curve=curve,
        value=value,
        seconds=seconds,
        run_id=attrs.get("run_id"),
        note=str(attrs.get("note", "")),
        spread=attrs.get("spread"),
    )


def rows_of(trials: Iterable[FrozenTrial]) -> list[TrialRow]:
    return sorted((row_of(t) for t in trials), key=lambda r: r.number)


def best_so_far(rows: Sequence[TrialRow]) -> list[float]:
    """The best complete value after each trial, in trial order (NaN before the first)."""
    best, out = -math.inf, []
    for row in rows:
        if row.value is not None:
            best = max(best, row.value)
        out.append(best if math.isfinite(best) else math.nan)
    return out


def best_rows(rows: Sequence[TrialRow], k: int = 2) -> list[TrialRow]:
    """The ``k`` best complete trials, best first (the best and the runner-up)."""
    done = [r for r in rows if r.value is not None]
    return sorted(done, key=lambda r: (-(r.value or 0.0), r.number))[:k]


def format_param(name: str, value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if name != "dropout" else f"{value:.2f}"
    return str(value)


def record(row: TrialRow, params: Sequence[Param]) -> dict[str, Any]:
    """A row as a flat record for ``--csv`` / ``--json``: the params as their own columns."""
    out: dict[str, Any] = {"trial": row.number, "state": row.state}
    for param in params:
        out[param.column] = row.params.get(param.name)
    out.update(
        {
            "accuracy": row.value,
            "spread": row.spread,
            "best_epoch_accuracy": row.best,
            "epochs": len(row.curve),
            "seconds": None if row.seconds is None else round(row.seconds, 3),
            "run_id": row.run_id,
            "note": row.note,
        }
    )
    return out
