"""What the sweep screen shows, as plain data: a snapshot of a study, its axes, brushes and importances.

Read from the study's storage by whoever shows it (polled while the sweep runs, in any
process: the workers only write to the storage), or scripted by tests.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .space import Param
from .table import TrialRow, format_param, rows_of

if TYPE_CHECKING:  # the UI imports this module: Optuna loads only when a sweep is read
    from .study import SweepSpec


@dataclass(frozen=True)
class SweepView:
    """A sweep as it stands: its spec, every trial, and the parameters' importances."""

    spec: SweepSpec
    rows: tuple[TrialRow, ...]
    importances: dict[str, float] = field(default_factory=dict)
    """Parameter -> share of the objective's variation (PED-ANOVA), summing to about 1; empty below 4 trials."""

    @property
    def running(self) -> bool:
        return any(row.state == "running" for row in self.rows)


def importances(study) -> dict[str, float]:
    """Optuna's PED-ANOVA importances (no dependency beyond Optuna; about 25 ms at 200 trials); {} when too few trials."""
    import optuna
    from optuna.importance import PedAnovaImportanceEvaluator
    from optuna.trial import TrialState

    if len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))) < 4:
        return {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return dict(optuna.importance.get_param_importances(study, evaluator=PedAnovaImportanceEvaluator()))
        except (ValueError, RuntimeError, ZeroDivisionError):  # e.g. every trial scored the same
            return {}


def load_view(name: str, storage: str) -> SweepView:
    """The sweep ``name`` read from its storage now (raises :class:`~mnist_tui.sweeps.study.SweepError`)."""
    from .study import load_study, open_storage

    study, spec = load_study(name, open_storage(storage))
    return SweepView(spec, tuple(rows_of(study.get_trials(deepcopy=False))), importances(study))


# ---------------------------------------------------------------------- parallel coordinates


@dataclass(frozen=True)
class AxisData:
    """One vertical axis: each trial's position on it in [0, 1] (NaN: no value), and its end labels."""

    name: str
    positions: np.ndarray
    low: str
    high: str


def param_axis(param: Param, rows: Sequence[TrialRow]) -> AxisData:
    values = [row.params.get(param.name) for row in rows]
    if param.choices:
        index = {choice: i for i, choice in enumerate(param.choices)}
        span = max(len(param.choices) - 1, 1)
        positions = np.array([index[v] / span if v in index else np.nan for v in values], float)
        if len(param.choices) == 1:
            positions = np.where(np.isnan(positions), np.nan, 0.5)
        return AxisData(param.column, positions, str(param.choices[0]), str(param.choices[-1]))
    assert param.low is not None and param.high is not None
    lo, hi = float(param.low), float(param.high)
    raw = np.array([np.nan if v is None else float(v) for v in values], float)
    if param.log:
        positions = (np.log(raw) - math.log(lo)) / (math.log(hi) - math.log(lo))
    else:
        positions = (raw - lo) / (hi - lo)
    return AxisData(param.column, positions, format_param(param.name, param.low), format_param(param.name, param.high))


def score_axis(rows: Sequence[TrialRow]) -> AxisData:
    scores = np.array([np.nan if row.score is None else row.score for row in rows], float)
    finite = scores[np.isfinite(scores)]
    if not finite.size:
        return AxisData("accuracy", scores, "", "")
    lo, hi = float(finite.min()), float(finite.max())
    positions = (scores - lo) / (hi - lo) if hi > lo else np.where(np.isfinite(scores), 0.5, np.nan)
    return AxisData("accuracy", positions, f"{lo:.1%}", f"{hi:.1%}")


def axes(space: Sequence[Param], rows: Sequence[TrialRow]) -> list[AxisData]:
    """One axis per searched parameter, then the objective's (each trial's score)."""
    return [*(param_axis(p, rows) for p in space if not (p.choices and len(p.choices) == 1)), score_axis(rows)]


BRUSHES: tuple[tuple[float, float] | None, ...] = (None, (0.5, 1.0), (0.75, 1.0), (0.0, 0.5), (0.0, 0.25))
"""The ranges ``b`` cycles through on the chosen axis: all, top half, top quarter, bottom half, bottom quarter."""


def passing(all_axes: Sequence[AxisData], brushes: dict[int, tuple[float, float]]) -> np.ndarray:
    """Which trials lie inside every brushed range (all of them when nothing is brushed)."""
    n = len(all_axes[0].positions) if all_axes else 0
    keep = np.ones(n, bool)
    for index, (lo, hi) in brushes.items():
        if index < len(all_axes):
            p = all_axes[index].positions
            keep &= np.isfinite(p) & (p >= lo - 1e-9) & (p <= hi + 1e-9)
    return keep
