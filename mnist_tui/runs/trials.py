"""Which recorded runs are a sweep's trials, and where each sweep's Optuna study lives.

Kept beside :mod:`.store` (and on its connection and lock) rather than in it: a trial is an
ordinary run, and these two tables only add its sweep, trial number and state.
"""

from __future__ import annotations

from dataclasses import dataclass

from .store import RunStore, StoreError

TRIAL_RUNNING = "running"
TRIAL_COMPLETE = "complete"
TRIAL_PRUNED = "pruned"
TRIAL_FAILED = "failed"
TRIAL_STATES = (TRIAL_RUNNING, TRIAL_COMPLETE, TRIAL_PRUNED, TRIAL_FAILED)


@dataclass(frozen=True)
class TrialRecord:
    """One trial of a sweep as the run store knows it."""

    run_id: int
    sweep: str
    number: int
    state: str
    note: str | None = None


@dataclass(frozen=True)
class SweepRecord:
    """A sweep: its name, its study's storage and what the run store holds of it."""

    name: str
    storage: str
    created_at: float
    trials: int
    """Trials recorded as runs (any state)."""
    best: float | None
    """The best test accuracy among its complete trials."""


def add_sweep(store: RunStore, name: str, storage: str) -> None:
    """Remember a sweep's storage (a second call for the same name keeps the first)."""
    with store._write() as db:
        db.execute(
            "INSERT OR IGNORE INTO sweeps (name, storage, created_at) VALUES (?, ?, ?)", (name, storage, store.clock())
        )


def sweep_storage(store: RunStore, name: str) -> str | None:
    """Where the sweep ``name`` keeps its study, or None for a sweep this store has never seen."""
    with store._read() as db:
        row = db.execute("SELECT storage FROM sweeps WHERE name = ?", (name,)).fetchone()
    return None if row is None else str(row[0])


def list_sweeps(store: RunStore) -> list[SweepRecord]:
    """Every sweep, newest first, with its trial count and best complete trial's test accuracy."""
    with store._read() as db:
        rows = db.execute(
            "SELECT s.name, s.storage, s.created_at, COUNT(t.run_id),"
            " MAX(CASE WHEN t.state = ? THEN r.test_accuracy END)"
            " FROM sweeps s LEFT JOIN trials t ON t.sweep = s.name LEFT JOIN runs r ON r.id = t.run_id"
            " GROUP BY s.name ORDER BY s.created_at DESC, s.name",
            (TRIAL_COMPLETE,),
        ).fetchall()
    return [SweepRecord(*row) for row in rows]


def set_trial(store: RunStore, run_id: int, sweep: str, number: int, state: str, note: str | None = None) -> None:
    """Tag run ``run_id`` as trial ``number`` of ``sweep`` in ``state`` (written again as the state changes)."""
    if state not in TRIAL_STATES:
        raise StoreError(f"unknown trial state {state!r}")
    with store._write() as db:
        db.execute(
            "INSERT OR REPLACE INTO trials (run_id, sweep, number, state, note) VALUES (?, ?, ?, ?, ?)",
            (run_id, sweep, number, state, note),
        )
        if note and state in (TRIAL_PRUNED, TRIAL_FAILED):
            db.execute("UPDATE runs SET message = ? WHERE id = ?", (note, run_id))


def sweep_trials(store: RunStore, sweep: str) -> list[TrialRecord]:
    """The trials of ``sweep`` recorded in this store, by trial number."""
    with store._read() as db:
        rows = db.execute(
            "SELECT run_id, sweep, number, state, note FROM trials WHERE sweep = ? ORDER BY number, run_id", (sweep,)
        ).fetchall()
    return [TrialRecord(*row) for row in rows]


def trial_of(store: RunStore, run_id: int) -> TrialRecord | None:
    """The sweep and trial a run is, or None for a run that is no trial."""
    with store._read() as db:
        row = db.execute("SELECT run_id, sweep, number, state, note FROM trials WHERE run_id = ?", (run_id,)).fetchone()
    return None if row is None else TrialRecord(*row)
