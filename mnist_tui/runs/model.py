"""What the store knows about a run, as plain frozen dataclasses, and whether its process still lives."""

from __future__ import annotations

import math
import os
import socket
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from ..config import default_options, recorded_options
from ..files import process_alive

RUNNING = "running"
FINISHED = "finished"
STOPPED = "stopped"  # stopped early by the person; the model is kept and scored
FAILED = "failed"
INTERRUPTED = "interrupted"  # the process went away (killed, quit mid-run, power loss)
STATUSES = (RUNNING, FINISHED, STOPPED, FAILED, INTERRUPTED)

OTHER_HOST_STALE_S = 24 * 3600
"""A run recorded as running on another host (a store on a shared or synced disk) reads as
interrupted once it has written nothing for this long: its pid cannot be checked from here,
and no epoch takes a day."""


@dataclass(frozen=True)
class Epoch:
    """One epoch's metrics (``val_*`` are ``None`` when the run skipped validation)."""

    epoch: int
    loss: float | None
    accuracy: float | None
    val_loss: float | None
    val_accuracy: float | None
    seconds: float | None
    elapsed: float | None
    steps: int | None = None
    """Batches trained when a stop cut this epoch short; ``None`` for a whole epoch."""

    @property
    def partial(self) -> bool:
        return self.steps is not None


@dataclass(frozen=True)
class Run:
    """A recorded run. Times are Unix seconds; ``status`` is one of :data:`STATUSES`."""

    id: int
    name: str
    status: str
    started_at: float
    updated_at: float
    ended_at: float | None
    pid: int | None
    host: str | None
    arch: str
    config: dict
    epochs_planned: int | None
    steps_per_epoch: int | None
    params: int | None
    train_size: int | None
    test_size: int | None
    versions: dict
    data_fingerprint: str | None
    message: str | None
    test_loss: float | None
    test_accuracy: float | None
    mistakes: int | None
    seconds: float | None
    batch_every: int
    epochs: tuple[Epoch, ...] = ()
    folder: Path = Path()
    size_bytes: int = 0
    has_model: bool = False
    has_predictions: bool = False
    summary: str = ""
    batch_losses: np.ndarray | None = None  # only from RunStore.get_run
    resumed_at: tuple[float, ...] = ()
    """When the run was resumed from a checkpoint (Unix seconds), oldest first."""
    parent_id: int | None = None
    """The finished run this one trained further (``None``: trained from scratch)."""

    @property
    def never_trained(self) -> bool:
        """Ended before its first epoch (a failed download, a quit while TensorFlow loaded).

        Such runs stay in the store but out of the default lists: a filter shows them.
        """
        return self.status in (FAILED, INTERRUPTED) and not self.epochs and not self.has_predictions

    @property
    def epochs_done(self) -> int:
        """Epochs trained, a last one cut short by a stop included (see :attr:`epochs_trained`)."""
        return len(self.epochs)

    @property
    def epochs_trained(self) -> float:
        """Epochs trained as a number: ``0.1`` for a run stopped at batch 100 of its first epoch's 938."""
        last = self.last
        if last is None or last.steps is None or not self.steps_per_epoch:
            return float(self.epochs_done)
        return self.epochs_done - 1 + last.steps / self.steps_per_epoch

    @property
    def best(self) -> Epoch | None:
        """The epoch with the highest val_accuracy (the first of equals), or ``None`` without validation."""
        scored = [e for e in self.epochs if e.val_accuracy is not None and not math.isnan(e.val_accuracy)]
        return max(scored, key=lambda e: (e.val_accuracy, -e.epoch)) if scored else None

    @property
    def last(self) -> Epoch | None:
        return self.epochs[-1] if self.epochs else None

    @property
    def model_path(self) -> Path:
        return self.folder / "model.keras"

    @property
    def model_missing(self) -> bool:
        """The run ended with a model, but its file is gone (or was never written)."""
        return self.status in (FINISHED, STOPPED) and not self.has_model

    @property
    def elapsed(self) -> float | None:
        """Training seconds: the run's own count once it finished, else the last epoch's clock."""
        if self.seconds is not None:
            return self.seconds
        return self.last.elapsed if self.last is not None else None

    @property
    def options(self) -> dict[str, object]:
        """The recorded options that differ from the defaults, by their short names.

        Options the run's architecture does not use are left out, and so is ``arch`` (it has
        a column of its own).
        """
        defaults = default_options()
        shown = {}
        for option in recorded_options():
            if option.applies_to(self.arch) and option.name in self.config:
                if self.config[option.name] != defaults[option.name]:
                    shown[option.column] = self.config[option.name]
        return shown

    @classmethod
    def record_fields(cls) -> list[str]:
        """The keys of :meth:`to_record`, in order (the CSV header of an empty store)."""
        blank = cls(
            0,
            "",
            RUNNING,
            0.0,
            0.0,
            None,
            None,
            None,
            "",
            {},
            None,
            None,
            None,
            None,
            None,
            {},
            None,
            None,
            None,
            None,
            None,
            None,
            1,
        )
        return list(blank.to_record())

    def to_record(self) -> dict[str, object]:
        """A flat dict of plain values for CSV and JSON: configuration, final and best metrics."""
        best, last = self.best, self.last
        record: dict[str, object] = {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "arch": self.arch,
            "started_at": iso_time(self.started_at),
            "ended_at": iso_time(self.ended_at),
        }
        for option in recorded_options():
            record[option.name] = self.config.get(option.name)
        record.update(
            epochs_done=self.epochs_done,
            best_val_accuracy=best.val_accuracy if best else None,
            best_epoch=best.epoch if best else None,
            final_loss=last.loss if last else None,
            final_accuracy=last.accuracy if last else None,
            final_val_loss=last.val_loss if last else None,
            final_val_accuracy=last.val_accuracy if last else None,
            test_loss=self.test_loss,
            test_accuracy=self.test_accuracy,
            mistakes=self.mistakes,
            seconds=self.elapsed,
            params=self.params,
            train_size=self.train_size,
            size_bytes=self.size_bytes,
            model=str(self.model_path) if self.has_model else None,
            model_missing=self.model_missing,
            data_fingerprint=self.data_fingerprint,
            tensorflow=self.versions.get("tensorflow"),
            keras=self.versions.get("keras"),
            mnist_tui=self.versions.get("mnist-tui"),
            message=self.message,
            parent_id=self.parent_id,
            resumed_at=";".join(iso_time(t) or "" for t in self.resumed_at) or None,
        )
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in record.items()}


def iso_time(timestamp: float | None) -> str | None:
    """Unix seconds as local ISO 8601 with its offset, ``2025-03-01T14:02:09+01:00``."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp).astimezone().isoformat(timespec="seconds")


def is_alive(pid: int | None, host: str | None, started_at: float, updated_at: float, now: float) -> bool:
    """Whether the process recorded for a running run still exists.

    On this host: the pid exists and (on Linux) started before the run did, so a pid
    reused by another program does not count. On another host: it wrote something in
    the last :data:`OTHER_HOST_STALE_S` seconds.
    """
    if host is not None and host != socket.gethostname():
        return now - updated_at < OTHER_HOST_STALE_S
    if pid is None or not process_alive(pid):
        return False
    if pid == os.getpid():
        return True
    started = process_start_time(pid)
    return started is None or started <= started_at + 2.0


def process_start_time(pid: int) -> float | None:
    """When ``pid`` started, in Unix seconds, from ``/proc`` (``None`` where that is not available)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            stat = file.read().decode(errors="replace")
        ticks = int(stat.rsplit(")", 1)[1].split()[19])  # field 22, counted after the command name
        with open("/proc/stat") as file:
            boot = next(int(line.split()[1]) for line in file if line.startswith("btime "))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None
