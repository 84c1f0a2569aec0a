"""Where a sweep's Optuna study lives, how it is created or loaded, and its trials' dead workers.

Local workers share a study through an Optuna journal file in the run store (Optuna advises
against SQLite for parallel workers); workers on several machines through a server database
(``--storage postgresql://...``, Optuna's RDB storage) with heartbeats, so the trial of a worker
that was killed is failed by the next worker that looks, not left running for ever. A journal
has no heartbeat: a worker records its host and pid on each trial, and any worker on the same
host fails the running trials whose process is gone.
"""

from __future__ import annotations

import json
import os
import random
import re
import socket
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import FrozenTrial, TrialState

from ..config import ConfigError, TrainConfig
from ..files import process_alive
from .space import Param, parse_space, space_text

PRUNERS = ("median", "hyperband", "none")
HEARTBEAT_S = 5
"""A worker on a database storage says it is alive this often..."""
GRACE_S = 20
"""...and a running trial silent this long is failed (its worker was killed)."""
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,59}$")
DATABASE_SCHEMES = ("postgresql", "mysql", "sqlite")


class SweepError(ConfigError):
    """A sweep cannot be created, found or loaded; the message is one line for a person."""


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise SweepError(
            f"a sweep's name is 1 to 60 letters, digits, '.', '_' or '-', starting with one (got {name!r})"
        )
    return name


def is_database(storage: str) -> bool:
    return storage.split(":", 1)[0].split("+", 1)[0] in DATABASE_SCHEMES


def journal_path(home: Path, name: str) -> Path:
    """The journal file of sweep ``name`` in the run store ``home``."""
    return Path(home) / "sweeps" / f"{check_name(name)}.journal"


def open_storage(storage: str) -> BaseStorage:
    """A database URL -> Optuna's RDB storage with heartbeats; anything else is a journal file's path."""
    quiet_optuna()
    try:
        if is_database(storage):
            return _database_storage(storage)
        path = Path(storage)
        path.parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(str(path)))
    except (ImportError, ModuleNotFoundError) as exc:
        raise SweepError(f"cannot use {redact(storage)}: {exc} (pip install 'mnist-tui[postgres]')") from None
    except Exception as exc:  # SQLAlchemy's and the driver's errors: one line for a person
        raise SweepError(f"cannot open the sweep storage {redact(storage)}: {first_line(exc)}") from None


SCHEMA_TRIES = 6
"""Attempts at opening a database storage whose tables another worker is creating at that moment."""
SCHEMA_RACE_CODES = ("23505", "42P07")
"""PostgreSQL's unique violation (in its catalog) and duplicate table: what the loser of that race gets."""


def _database_storage(url: str) -> RDBStorage:
    """Optuna's RDB storage on ``url``, tried again when another worker was creating its tables at the same moment.

    The first workers on an empty PostgreSQL database create Optuna's tables together, and
    ``CREATE TABLE IF NOT EXISTS`` is not atomic there: all but one may fail on a duplicate
    key in the catalog. Once the tables are made, opening them again succeeds.
    """
    from sqlalchemy.exc import DBAPIError

    def make() -> RDBStorage:
        return RDBStorage(
            url, heartbeat_interval=HEARTBEAT_S, grace_period=GRACE_S, engine_kwargs={"pool_pre_ping": True}
        )

    for attempt in range(1, SCHEMA_TRIES):
        try:
            return make()
        except DBAPIError as exc:
            code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
            if code not in SCHEMA_RACE_CODES:
                raise
        time.sleep(random.uniform(0.05, 0.2) * attempt)  # apart, so that the next tries do not collide again
    return make()  # the last try: its error is the one said


def redact(storage: str) -> str:
    """A storage URL without its password, fit to print."""
    return re.sub(r"//([^:/@]+):[^@/]*@", r"//\1:***@", storage)


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


@dataclass(frozen=True)
class SweepSpec:
    """What a sweep searches and how: stored with its study, so ``--join`` and ``--resume`` need only the name."""

    name: str
    space: tuple[Param, ...]
    base: TrainConfig
    """The fixed options every trial starts from (the command line's)."""
    seed: int | None = None
    prune: str = "median"
    trials: int | None = None
    """How many trials the sweep runs in all (None: until ``timeout`` or a stop)."""
    timeout: float | None = None
    """Seconds each worker may run trials for (None: no limit)."""
    repeat: int = 1
    """Runs per configuration, seeds ``seed``, ``seed + 1``, ...: the objective is their mean."""

    def to_attrs(self) -> dict[str, Any]:
        base = {
            k: v for k, v in json.loads(_config_json(self.base)).items() if k not in ("precision_ran", "backend_ran")
        }
        return {
            "space": space_text(self.space),
            "base": base,
            "seed": self.seed,
            "prune": self.prune,
            "trials": self.trials,
            "timeout": self.timeout,
            "repeat": self.repeat,
        }

    @classmethod
    def from_attrs(cls, name: str, attrs: dict[str, Any]) -> SweepSpec:
        try:
            base = dict(attrs["base"])
            for key in ("data", "save"):
                if base.get(key) is not None:
                    base[key] = Path(base[key])
            return cls(
                name=name,
                space=parse_space(attrs["space"]),
                base=TrainConfig(**base),
                seed=attrs.get("seed"),
                prune=attrs.get("prune", "median"),
                trials=attrs.get("trials"),
                timeout=attrs.get("timeout"),
                repeat=int(attrs.get("repeat", 1)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SweepError(f"sweep {name!r} was stored by another mnist-tui and cannot be read: {exc}") from None


def _config_json(config: TrainConfig) -> str:
    from ..runs.store import config_json

    return config_json(config)


MEDIAN_STARTUP_TRIALS = 3
"""The median pruner prunes once this many trials are complete (Optuna's default is 5).

A median needs a middle value, so 3 is the fewest that one odd trial cannot drag; 5 would
leave a quarter of a 20-trial sweep (the default) unpruned by construction, and replayed on two
seeds' sweeps its saving of epochs was 11 and 24 points smaller (benchmarks/README.md, Sweeps)."""
MEDIAN_WARMUP_EPOCHS = 0
"""Epochs a trial trains before the median pruner may stop it: none, it may stop after epoch 1.

The driver reports epoch ``n`` as step ``n`` (1-based), so Optuna's ``n_warmup_steps=0`` and ``1``
both allow pruning after the first epoch. One epoch of the MLP on MNIST already ranks its options:
replayed on two seeds' sweeps, waiting for epoch 2 or 3 saved 6 to 16 points less and
spared no best trial (benchmarks/README.md, Sweeps)."""
HYPERBAND_REDUCTION = 3
"""Hyperband keeps the best third of a bracket's trials at each rung (epochs 1, 3, 9, ...)."""


def most_epochs(spec: SweepSpec) -> int:
    """The most epochs any trial of ``spec`` trains: the space's top when it searches epochs, else the fixed value."""
    for param in spec.space:
        if param.name == "epochs":
            values = param.choices or (param.high,)
            return max(int(v) for v in values if v is not None)
    return spec.base.epochs


def make_pruner(kind: str, epochs: int) -> optuna.pruners.BasePruner:
    """``median`` (:data:`MEDIAN_STARTUP_TRIALS`, :data:`MEDIAN_WARMUP_EPOCHS`), ``hyperband`` (1..epochs) or ``none``.

    Every epoch's validation accuracy is reported, at step ``epoch`` (1-based), so each
    pruner sees every epoch (``interval_steps=1``).
    """
    if kind == "median":
        return optuna.pruners.MedianPruner(
            n_startup_trials=MEDIAN_STARTUP_TRIALS, n_warmup_steps=MEDIAN_WARMUP_EPOCHS, interval_steps=1
        )
    if kind == "hyperband":
        return optuna.pruners.HyperbandPruner(
            min_resource=1, max_resource=max(epochs, 1), reduction_factor=HYPERBAND_REDUCTION
        )
    if kind == "none":
        return optuna.pruners.NopPruner()
    raise SweepError(f"unknown pruner {kind!r} (choose from {', '.join(PRUNERS)})")


def quiet_optuna() -> None:
    """Optuna logs every trial at INFO and warns that heartbeats are experimental; the sweep says what happened itself."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def create_study(spec: SweepSpec, storage: BaseStorage) -> optuna.Study:
    """A new study for ``spec``; :class:`SweepError` when one of that name exists."""
    quiet_optuna()
    try:
        study = optuna.create_study(
            study_name=spec.name,
            storage=storage,
            direction="maximize",
            sampler=optuna.samplers.TPESampler(seed=spec.seed),
            pruner=make_pruner(spec.prune, most_epochs(spec)),
        )
    except optuna.exceptions.DuplicatedStudyError:
        raise SweepError(f"a sweep named {spec.name!r} exists (--resume {spec.name} goes on with it)") from None
    for key, value in spec.to_attrs().items():
        study.set_user_attr(key, value)
    return study


def load_study(name: str, storage: BaseStorage, *, worker: int = 0) -> tuple[optuna.Study, SweepSpec]:
    """The study ``name`` and its spec, with a sampler seeded for this worker.

    Each worker and each resumption seeds its sampler from the sweep's seed plus the number
    of trials already in the study, so two workers never draw the same random start and a
    sweep run again from scratch with the same seed draws the same sequence.
    """
    quiet_optuna()
    try:
        summary = optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        raise SweepError(f"there is no sweep {name!r} in this storage (mnist-tui sweeps lists them)") from None
    spec = SweepSpec.from_attrs(name, summary.user_attrs)
    seed = None if spec.seed is None else spec.seed + len(summary.trials) + 1000 * worker
    study = optuna.load_study(
        study_name=name,
        storage=storage,
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=make_pruner(spec.prune, most_epochs(spec)),
    )
    return study, spec


def trial_owner() -> dict[str, Any]:
    """What a worker writes on each trial it runs: who to ask whether it is still alive."""
    return {"host": socket.gethostname(), "pid": os.getpid()}


def dead_local_trials(study: optuna.Study) -> list[FrozenTrial]:
    """Running trials whose worker ran on this host and whose process is gone."""
    host = socket.gethostname()
    return [
        trial
        for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        if trial.user_attrs.get("host") == host
        and trial.user_attrs.get("pid") not in (None, os.getpid())
        and not process_alive(int(trial.user_attrs["pid"]))
    ]


def fail_dead_trials(study: optuna.Study) -> list[FrozenTrial]:
    """Fail the running trials whose worker is gone; returns them.

    On a database storage Optuna's heartbeat finds them (any host); on a journal, the host and
    pid each trial carries do (this host only).
    """
    failed: list[FrozenTrial] = []
    storage = study._storage
    if isinstance(storage, RDBStorage):
        before = {t.number for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))}
        optuna.storages.fail_stale_trials(study)
        after = {t.number for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))}
        stale = before - after
        return [t for t in study.get_trials(deepcopy=False) if t.number in stale and t.state == TrialState.FAIL]
    for trial in dead_local_trials(study):
        try:
            storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
        except Exception:  # another worker got there first
            continue
        failed.append(trial)
    return failed


def counted(study: optuna.Study) -> int:
    """Trials that count towards the sweep's total: complete, pruned or still running (failed ones are retried)."""
    states = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING)
    return len(study.get_trials(deepcopy=False, states=states))
