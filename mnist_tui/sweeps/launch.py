"""A sweep started from the app: the ``mnist-tui sweep`` command line for what the sweep form asks, run as a process.

The app never trains and never imports TensorFlow: it runs the very command a person would
type (:func:`sweep_command`, which the command line's own ``--workers`` also starts its extra
workers with), in a process group of its own so that quitting the app ends the sweep and
every worker it started (:func:`mnist_tui.worker.processes.start_command`).
"""

from __future__ import annotations

import os
import sys
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..config import DEFAULTS, TrainConfig, cli_options
from .space import parse_space


def sweep_command(*args: str) -> list[str]:
    """``mnist-tui sweep ARGS`` run by this Python (the same installation, whichever way it was started)."""
    return [sys.executable, "-m", "mnist_tui", "sweep", *args]


def default_name() -> str:
    """A new sweep's name when none is given: ``sweep-DATE-TIME``."""
    return time.strftime("sweep-%Y%m%d-%H%M%S")


def config_flags(config: TrainConfig, skip: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """The command-line flags that give ``config``: one per option that is not its default, none for ``skip``."""
    flags: list[str] = []
    for option in cli_options():
        if option.name in skip or option.name == "save":
            continue
        value = getattr(config, option.name)
        if value is None or value == getattr(DEFAULTS, option.name):
            continue
        if isinstance(value, bool):  # a switch: its flag turns the default around
            flags.append(option.cli_flag)
        else:
            flags += [option.cli_flag, repr(value) if isinstance(value, float) else str(value)]
    return flags


@dataclass(frozen=True)
class SweepRequest:
    """A sweep the form asks for: what ``mnist-tui sweep`` is given.

    Every option the space does not search is fixed to ``base``'s value (the current run's
    options); ``seed`` makes the sampled sequence repeatable (None: a new one).
    """

    name: str
    space: str
    base: TrainConfig
    trials: int | None = 20
    timeout: int | None = None
    prune: str = "median"
    workers: int | str = 1
    seed: int | None = None

    def fixed(self) -> list[str]:
        """The flags that fix the options the space leaves alone (``--epochs 1 --train-limit 1000``)."""
        searched = {param.name for param in parse_space(self.space)}
        return config_flags(self.base.with_changes(seed=self.seed, save=None), skip=searched)

    def argv(self) -> list[str]:
        """The arguments of ``mnist-tui sweep`` (``--headless``: its table goes to the sweep's log, not a screen)."""
        args = ["--name", self.name, "--space", self.space, "--prune", self.prune, "--workers", str(self.workers)]
        if self.trials is not None:
            args += ["--trials", str(self.trials)]
        if self.timeout is not None:
            args += ["--timeout", str(self.timeout)]
        return [*args, *self.fixed(), "--headless"]


def log_path(home: Path, name: str) -> Path:
    """Where a sweep started from the app writes what ``mnist-tui sweep`` prints (its table, its errors)."""
    return Path(home) / "sweeps" / f"{name}.log"


def last_line(path: Path | None, default: str = "") -> str:
    """The last line of ``path`` that says something (an error's one line), else ``default``."""
    if path is None:
        return default
    try:
        with open(path, encoding="utf-8", errors="replace") as lines:
            kept = deque((line.strip() for line in lines if line.strip()), maxlen=1)
    except OSError:
        return default
    return kept[0].removeprefix("mnist-tui: error: ") if kept else default


class Process(Protocol):
    """What the app asks of a started sweep's process."""

    @property
    def exitcode(self) -> int | None: ...


@dataclass(frozen=True)
class StartedSweep:
    """A sweep the app started: its name, its process, and the file its output goes to."""

    name: str
    process: Any
    log: Path | None = None

    def running(self) -> bool:
        return self.process.exitcode is None

    def why_ended(self) -> str:
        """Its own last words (``a sweep named 'x' exists``), else how the process ended."""
        from ..worker.processes import describe_exit

        return last_line(self.log, default=f"the sweep process {describe_exit(self.process.exitcode)}")


def launch_sweep(request: SweepRequest, home: Path) -> StartedSweep:
    """Run ``mnist-tui sweep`` for ``request`` on the run store in ``home``, its output into the sweep's log."""
    from ..worker.processes import start_command

    log = log_path(home, request.name)
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "MNIST_TUI_HOME": str(home)}
    live = start_command(sweep_command(*request.argv()), output=log, env=env)
    return StartedSweep(request.name, live.process, log)
