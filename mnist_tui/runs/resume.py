"""Which recorded runs can go on, and how: resume an interrupted run, train a finished one further.

No Keras and no Textual: the CLI, the app and a sweep driver call :func:`plan_resume` or
:func:`plan_further` to check a run and read its checkpoint (a :class:`ResumeError` says
why not, in one line), then hand the plan to a trainer (``KerasTrainer(plan.config,
checkpoint_dir=plan.checkpoint_dir, resume=plan.checkpoint, further=plan.further)``)
and a recorder (``Recorder(..., resume_id=plan.resume_id, parent_id=plan.parent_id)``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from ..config import ConfigError, TrainConfig
from . import checkpoints
from .checkpoints import Checkpoint, CheckpointError
from .model import FAILED, FINISHED, INTERRUPTED, RUNNING, STOPPED, Run
from .store import RunStore

RECENT_S = 24 * 3600
"""An interrupted run this recent is mentioned when the app starts."""


class ResumeError(Exception):
    """This run cannot go on; the message says why (one line, for a person)."""


@dataclass(frozen=True)
class ResumePlan:
    """What a trainer and a recorder need to continue a recorded run."""

    run: Run
    config: TrainConfig
    checkpoint: Checkpoint
    checkpoint_dir: Path
    """Where the run being trained writes its checkpoints (a new run's folder is set once it exists)."""
    further: bool = False
    """Train a finished run further as a new run (its parent), rather than resume it."""

    @property
    def resume_id(self) -> int | None:
        return None if self.further else self.run.id

    @property
    def parent_id(self) -> int | None:
        return self.run.id if self.further else None


def recorded_config(run: Run, **changes: object) -> TrainConfig:
    """The configuration a run was recorded with (what ran is cleared; ``save`` dropped: the store keeps the model)."""
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    values = {k: v for k, v in run.config.items() if k in fields}
    if values.get("data"):
        values["data"] = Path(str(values["data"]))
    values.update(save=None, precision_ran=None, backend_ran=None, **changes)
    try:
        return TrainConfig(**values)
    except (ConfigError, TypeError) as exc:
        raise ResumeError(f"run {run.id}'s recorded options are not usable: {exc}") from None


def resumable(run: Run) -> tuple[int, int] | None:
    """``(K, N)`` when ``run`` was interrupted and can resume from epoch K of N; else ``None``."""
    if run.status not in (INTERRUPTED, FAILED):
        return None
    described = checkpoints.describe(run.folder)
    if described is None or (run.status == FAILED and "diverged" in (run.message or "")):
        return None
    return described


def plan_resume(store: RunStore, run_id: int, *, backend: str | None = None) -> ResumePlan:
    """Check that run ``run_id`` can resume and read its checkpoint.

    Args:
        store: The run store.
        run_id: The interrupted run.
        backend: Another Keras backend to go on with (``None``: the one it trained on).

    Raises:
        ResumeError: the run is unknown, still training, finished, or its checkpoint is missing or unusable.
    """
    run = _get(store, run_id)
    if run.status == RUNNING:
        raise ResumeError(f"run {run_id} is still training (process {run.pid} on {run.host})")
    if run.status in (FINISHED, STOPPED):
        raise ResumeError(
            f"run {run_id} is {run.status}; to train it more, use --continue {run_id} --epochs N (a new run)"
        )
    checkpoint = _read(run)
    config = recorded_config(run, backend=backend or checkpoint.backend)
    return ResumePlan(run, config, checkpoint, run.folder)


def plan_further(store: RunStore, run_id: int, epochs: int, *, backend: str | None = None) -> ResumePlan:
    """Check that run ``run_id`` finished with a checkpoint, for ``epochs`` more epochs as a new run.

    Raises:
        ResumeError: the run is unknown, not finished, or its checkpoint is missing or unusable.
    """
    run = _get(store, run_id)
    if run.status not in (FINISHED, STOPPED):
        hint = f"; resume it with --resume {run_id}" if resumable(run) else ""
        raise ResumeError(f"run {run_id} is {run.status}, not finished{hint}")
    checkpoint = _read(run)
    config = recorded_config(run, epochs=epochs, backend=backend or checkpoint.backend)
    return ResumePlan(run, config, checkpoint, run.folder, further=True)


def recent_interrupted(runs: list[Run], now: float, within: float = RECENT_S) -> Run | None:
    """The newest run interrupted in the last ``within`` seconds that can resume, if any."""
    for run in runs:
        ended = run.ended_at or run.updated_at
        if run.status == INTERRUPTED and now - ended <= within and resumable(run) is not None:
            return run
    return None


def _get(store: RunStore, run_id: int) -> Run:
    from .store import StoreError

    try:
        return store.get_run(run_id)
    except StoreError as exc:
        raise ResumeError(str(exc)) from None


def _read(run: Run) -> Checkpoint:
    try:
        return checkpoints.read(run.folder)
    except CheckpointError as exc:
        raise ResumeError(f"run {run.id} cannot go on: {exc}") from None


def plan_from_options(resume: int | None, further: int | None, epochs: int, backend: str | None) -> ResumePlan | str:
    """``--resume ID`` or ``--continue ID --epochs N`` as a plan, or why not (one line)."""
    from .store import StoreError, open_store

    try:
        store = open_store()
        try:
            if resume is not None:
                return plan_resume(store, resume, backend=backend)
            assert further is not None
            return plan_further(store, further, epochs, backend=backend)
        finally:
            store.close()
    except (StoreError, ResumeError) as exc:
        return str(exc)
