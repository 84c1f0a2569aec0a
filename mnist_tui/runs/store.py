"""The run store: one SQLite database plus one folder per run, NumPy and the standard library only.

Layout under :func:`default_home`::

    runs.db                 the database (WAL mode: two processes can record at once)
    runs/<id>/model.keras   the trained model
    runs/<id>/predictions.npz   the test-set probabilities (and labels, to check them against)

Every public method raises :class:`StoreError` (one line, fit to show a person) for
anything that goes wrong with the database or the files.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ..config import TrainConfig
from ..datasets import MNIST, Dataset
from ..files import remove_temporaries
from . import schema
from .disk import atomic_write_bytes, default_home, folder_size
from .model import INTERRUPTED, RUNNING, Epoch, Run, is_alive

DB_NAME = "runs.db"
MODEL_NAME = "model.keras"
PREDICTIONS_NAME = "predictions.npz"
BUSY_TIMEOUT_S = 5.0
"""How long a write waits for another process's transaction before the store gives up on it."""


class StoreError(Exception):
    """The run store cannot do what was asked; the message is one line for a person."""


class UnknownRun(StoreError):
    """No run has that id."""


def library_versions() -> dict[str, str | None]:
    """Versions of what trains a model, read from package metadata (never imports TensorFlow)."""
    from importlib import metadata

    from .. import __version__

    def version(name: str) -> str | None:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    return {
        "mnist-tui": __version__,
        "python": ".".join(map(str, __import__("sys").version_info[:3])),
        "numpy": np.__version__,
        "tensorflow": version("tensorflow"),
        "keras": version("keras"),
    }


def reason(exc: BaseException) -> str:
    """An OS or SQLite error as a short phrase: ``No space left on device``, ``database is locked``."""
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return text.strip().splitlines()[0][:200]


def config_json(config: TrainConfig) -> str:
    return json.dumps({k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items()})


def open_store(home: Path | None = None, *, clock=time.time) -> RunStore:
    """Open (creating or migrating as needed) the store in ``home`` (default: :func:`default_home`).

    A file that is not an SQLite database is moved aside as ``runs.db.corrupt-<time>``
    and a fresh store started; :attr:`RunStore.notices` says so. Raises
    :class:`StoreError` when the store cannot be opened or created. Opening sweeps the
    run folders of what a killed process left half-written (:meth:`RunStore.sweep_temporaries`).
    """
    store = RunStore(default_home() if home is None else Path(home), clock=clock)
    store.sweep_temporaries()
    return store


def _journal_mode_wal(db: sqlite3.Connection) -> str:
    """Switch to write-ahead logging; returns the journal mode in force.

    Switching a new database needs an exclusive lock, and SQLite answers "database is
    locked" at once (without the busy timeout) while another process does the same:
    two terminals opening a new store at the same moment. Retry for the busy timeout.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            return db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _is_corrupt(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return not isinstance(exc, sqlite3.OperationalError) and ("not a database" in text or "malformed" in text)


class RunStore:
    """The runs recorded on this machine. Thread-safe: one connection behind a lock.

    Args:
        home: The store's directory (created when missing).
        clock: Unix time, injectable for tests.
    """

    def __init__(self, home: Path, *, clock=time.time) -> None:
        self.home = Path(home)
        self.path = self.home / DB_NAME
        self.clock = clock
        self.notices: list[str] = []
        """One-line messages about opening the store (a corrupt file moved aside)."""
        self._lock = threading.RLock()
        try:
            self.home.mkdir(parents=True, exist_ok=True)
            try:
                self._db = self._connect()
            except sqlite3.DatabaseError as exc:
                if not _is_corrupt(exc):
                    raise
                self._move_aside()
                self._db = self._connect()
        except schema.NewerSchema as exc:
            raise StoreError(f"the run store {self.path} was written by a newer mnist-tui ({exc})") from None
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open the run store {self.path}: {reason(exc)}") from None

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        try:
            db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            if _journal_mode_wal(db).lower() != "wal":
                raise sqlite3.OperationalError("the database cannot use write-ahead logging here")
            db.execute("PRAGMA synchronous = NORMAL")  # durable in WAL mode, only the last commit may be lost
            db.execute("PRAGMA foreign_keys = ON")
            schema.migrate(db)
        except BaseException:
            db.close()
            raise
        return db

    def _move_aside(self) -> None:
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(self.clock()))
        target = self.path.with_name(f"{DB_NAME}.corrupt-{stamp}")
        n = 1
        while target.exists():
            n += 1
            target = self.path.with_name(f"{DB_NAME}.corrupt-{stamp}-{n}")
        os.replace(self.path, target)
        for suffix in ("-wal", "-shm"):
            side = self.path.with_name(DB_NAME + suffix)
            if side.exists():
                os.replace(side, target.with_name(target.name + suffix))
        self.notices.append(
            f"The run store {self.path} was not a database; moved it to {target.name} and started a new one."
        )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ------------------------------------------------------------------ transactions

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    try:
                        self._db.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass  # SQLite already rolled back (a full disk does)
                    raise
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StoreError(f"run store {self.path}: {reason(exc)}") from exc

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._db
            except sqlite3.Error as exc:
                raise StoreError(f"run store {self.path}: {reason(exc)}") from exc

    # ------------------------------------------------------------------ recording

    def create_run(self, config: TrainConfig, *, versions: dict | None = None, parent_id: int | None = None) -> int:
        """Add a run with status ``running``, recorded as this process on this host; returns its id.

        ``parent_id``: the finished run this one trains further.
        """
        now = self.clock()
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO runs (name, status, started_at, updated_at, pid, host, arch, config, epochs_planned,"
                " versions, parent_id) VALUES ('', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    RUNNING,
                    now,
                    now,
                    os.getpid(),
                    socket.gethostname(),
                    config.arch,
                    config_json(config),
                    config.epochs,
                    json.dumps(versions or {}),
                    parent_id,
                ),
            )
            run_id = int(cursor.lastrowid or 0)
            db.execute("UPDATE runs SET name = ? WHERE id = ?", (f"{config.arch}-{run_id}", run_id))
        try:
            self.run_dir(run_id).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the run folder {self.run_dir(run_id)}: {reason(exc)}") from exc
        return run_id

    def reopen(self, run_id: int) -> None:
        """A resumed run is this process's and running again; the time is added to its ``resumed_at``.

        Raises :class:`StoreError` when it is running in a live process.
        """
        run = self.get_run(run_id)
        if run.status == RUNNING:
            raise StoreError(f"run {run_id} is still training (process {run.pid})")
        now = self.clock()
        with self._write() as db:
            db.execute(
                "UPDATE runs SET status = ?, pid = ?, host = ?, ended_at = NULL, message = NULL, updated_at = ?,"
                " resumed_at = ? WHERE id = ?",
                (RUNNING, os.getpid(), socket.gethostname(), now, json.dumps([*run.resumed_at, now]), run_id),
            )

    def rewind(self, run_id: int, epochs: list[Epoch], batch_losses: np.ndarray, batch_every: int) -> None:
        """Make the run's history exactly ``epochs`` and its batch-loss curve (a resume from a checkpoint).

        Epochs recorded after the checkpoint (trained, then lost with the process) go.
        """
        with self._write() as db:
            db.execute("DELETE FROM epochs WHERE run_id = ?", (run_id,))
            db.executemany(
                "INSERT INTO epochs (run_id, epoch, loss, accuracy, val_loss, val_accuracy, seconds, elapsed, steps)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (run_id, e.epoch, e.loss, e.accuracy, e.val_loss, e.val_accuracy, e.seconds, e.elapsed, e.steps)
                    for e in epochs
                ],
            )
            db.execute(
                "UPDATE runs SET batch_losses = ?, batch_every = ?, updated_at = ? WHERE id = ?",
                (np.asarray(batch_losses, np.float32).tobytes(), batch_every, self.clock(), run_id),
            )

    def update_started(
        self,
        run_id: int,
        config: TrainConfig,
        *,
        params: int,
        steps_per_epoch: int,
        train_size: int,
        test_size: int,
        summary: str,
    ) -> None:
        """What is known once the model is built."""
        with self._write() as db:
            db.execute(
                "UPDATE runs SET arch = ?, config = ?, epochs_planned = ?, params = ?, steps_per_epoch = ?,"
                " train_size = ?, test_size = ?, summary = ?, updated_at = ? WHERE id = ?",
                (
                    config.arch,
                    config_json(config),
                    config.epochs,
                    params,
                    steps_per_epoch,
                    train_size,
                    test_size,
                    summary,
                    self.clock(),
                    run_id,
                ),
            )

    def record_epoch(self, run_id: int, epoch: Epoch, batch_losses: np.ndarray, batch_every: int) -> None:
        """An epoch's metrics and the batch-loss curve so far, in one transaction."""
        with self._write() as db:
            db.execute(
                "INSERT OR REPLACE INTO epochs"
                " (run_id, epoch, loss, accuracy, val_loss, val_accuracy, seconds, elapsed, steps)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    epoch.epoch,
                    epoch.loss,
                    epoch.accuracy,
                    epoch.val_loss,
                    epoch.val_accuracy,
                    epoch.seconds,
                    epoch.elapsed,
                    epoch.steps,
                ),
            )
            db.execute(
                "UPDATE runs SET batch_losses = ?, batch_every = ?, updated_at = ? WHERE id = ?",
                (np.asarray(batch_losses, np.float32).tobytes(), batch_every, self.clock(), run_id),
            )

    def finish(
        self,
        run_id: int,
        status: str,
        *,
        test_loss: float,
        test_accuracy: float,
        mistakes: int,
        seconds: float,
        data_fingerprint: str,
        batch_losses: np.ndarray | None = None,
        batch_every: int = 1,
    ) -> None:
        """Complete a run that was scored on the test set (``finished`` or ``stopped``)."""
        with self._write() as db:
            db.execute(
                "UPDATE runs SET status = ?, ended_at = ?, updated_at = ?, test_loss = ?, test_accuracy = ?,"
                " mistakes = ?, seconds = ?, data_fingerprint = ? WHERE id = ?",
                (
                    status,
                    self.clock(),
                    self.clock(),
                    test_loss,
                    test_accuracy,
                    mistakes,
                    seconds,
                    data_fingerprint,
                    run_id,
                ),
            )
            if batch_losses is not None:
                db.execute(
                    "UPDATE runs SET batch_losses = ?, batch_every = ? WHERE id = ?",
                    (np.asarray(batch_losses, np.float32).tobytes(), batch_every, run_id),
                )

    def end(self, run_id: int, status: str, message: str | None = None) -> None:
        """End a run without test results (``failed``, ``interrupted``), if it is still running."""
        with self._write() as db:
            db.execute(
                "UPDATE runs SET status = ?, message = ?, ended_at = ?, updated_at = ? WHERE id = ? AND status = ?",
                (status, message, self.clock(), self.clock(), run_id, RUNNING),
            )

    def save_probabilities(self, run_id: int, probabilities: np.ndarray, labels: np.ndarray) -> Path:
        """Write the test-set probabilities (float32) and labels atomically; returns the file."""
        path = self.run_dir(run_id) / PREDICTIONS_NAME
        buffer = io.BytesIO()
        np.savez(buffer, probabilities=np.asarray(probabilities, np.float32), labels=np.asarray(labels, np.uint8))
        atomic_write_bytes(path, buffer.getvalue())
        return path

    # ------------------------------------------------------------------ reading

    def run_dir(self, run_id: int) -> Path:
        return self.home / "runs" / str(int(run_id))

    def sweep_temporaries(self) -> int:
        """Remove the temporary files in the run folders whose writing process is gone.

        A save or a cache write killed mid-way leaves ``.NAME.PID.partial…`` beside the
        file it was replacing (:mod:`mnist_tui.files`); a live writer's files stay.
        Returns how many were removed; a folder that cannot be read is skipped.
        """
        try:
            folders = [entry for entry in (self.home / "runs").iterdir() if entry.is_dir()]
        except OSError:
            return 0
        return sum(remove_temporaries(folder) for folder in folders)

    def model_path(self, run_id: int) -> Path:
        return self.run_dir(run_id) / MODEL_NAME

    def predictions_path(self, run_id: int) -> Path:
        return self.run_dir(run_id) / PREDICTIONS_NAME

    def list_runs(self) -> list[Run]:
        """Every run, newest first, with its epochs (not its batch curve or model summary)."""
        with self._read() as db:
            rows = db.execute(f"SELECT {LIST_COLUMNS} FROM runs ORDER BY id DESC").fetchall()
            epochs: dict[int, list[Epoch]] = {}
            for row in db.execute("SELECT * FROM epochs ORDER BY run_id, epoch"):
                epochs.setdefault(row[0], []).append(Epoch(*row[1:]))
        runs = [self._run(row, epochs.get(row[0], [])) for row in rows]
        self._settle_interrupted(runs)
        return runs

    def get_run(self, run_id: int) -> Run:
        """One run with everything recorded about it; :class:`UnknownRun` when there is none."""
        with self._read() as db:
            row = db.execute(
                f"SELECT {LIST_COLUMNS}, summary, batch_losses FROM runs WHERE id = ?", (run_id,)
            ).fetchone()
            if row is None:
                raise UnknownRun(f"there is no run {run_id} (mnist-tui runs lists them)")
            epochs = [
                Epoch(*r[1:]) for r in db.execute("SELECT * FROM epochs WHERE run_id = ? ORDER BY epoch", (run_id,))
            ]
        n = len(LIST_COLUMNS.split(","))
        run = self._run(row[:n], epochs, summary=row[n] or "", losses=row[n + 1])
        self._settle_interrupted([run])
        return run

    def _run(self, row: tuple, epochs: list[Epoch], summary: str = "", losses: bytes | None = None) -> Run:
        values = dict(zip(LIST_NAMES, row))
        folder = self.run_dir(values["id"])
        size, files = folder_size(folder)
        values["config"] = json.loads(values["config"] or "{}")
        values["versions"] = json.loads(values["versions"] or "{}")
        values["resumed_at"] = tuple(json.loads(values["resumed_at"] or "[]"))
        status = values["status"]
        if status == RUNNING and not is_alive(
            values["pid"], values["host"], values["started_at"], values["updated_at"], self.clock()
        ):
            status = INTERRUPTED
        values["status"] = status
        return Run(
            **values,
            epochs=tuple(epochs),
            folder=folder,
            size_bytes=size,
            has_model=MODEL_NAME in files,
            has_predictions=PREDICTIONS_NAME in files,
            summary=summary,
            batch_losses=np.frombuffer(losses, np.float32) if losses else None,
        )

    def _settle_interrupted(self, runs: list[Run]) -> None:
        """Write down the runs whose process is gone, so a reused pid never brings them back."""
        gone = [run.id for run in runs if run.status == INTERRUPTED and run.ended_at is None]
        if not gone:
            return
        try:
            for run_id in gone:
                self.end(run_id, INTERRUPTED, "the process that recorded this run is gone")
        except StoreError:
            pass  # a read-only or busy store still shows them as interrupted

    def load_probabilities(self, run_id: int, dataset: Dataset = MNIST) -> np.ndarray:
        """The run's ``(n, classes)`` float32 test-set probabilities; :class:`StoreError` when missing or unreadable."""
        path = self.predictions_path(run_id)
        try:
            with np.load(path) as saved:
                probabilities = np.asarray(saved["probabilities"], np.float32)
        except FileNotFoundError:
            raise StoreError(f"run {run_id} has no test predictions (it did not finish)") from None
        except (OSError, ValueError, KeyError) as exc:
            raise StoreError(f"cannot read {path}: {reason(exc)}") from None
        if probabilities.ndim != 2 or probabilities.shape[1] != dataset.num_classes:
            raise StoreError(
                f"{path} holds probabilities of shape {probabilities.shape}, not (n, {dataset.num_classes})"
            )
        return probabilities

    # ------------------------------------------------------------------ changing

    def rename(self, run_id: int, name: str) -> None:
        """Give a run a new name (one line, 1 to 60 characters)."""
        name = " ".join(name.split())
        if not name:
            raise StoreError("a run's name cannot be empty")
        if len(name) > 60:
            raise StoreError("a run's name can be at most 60 characters")
        with self._write() as db:
            if db.execute("UPDATE runs SET name = ? WHERE id = ?", (name, run_id)).rowcount == 0:
                raise UnknownRun(f"there is no run {run_id}")

    def delete(self, run_id: int) -> None:
        """Remove a run: its row, its epochs and its folder. A run still training is refused."""
        run = self.get_run(run_id)
        if run.status == RUNNING:
            raise StoreError(f"run {run_id} is still training; stop it first")
        with self._write() as db:
            db.execute("DELETE FROM epochs WHERE run_id = ?", (run_id,))
            db.execute("DELETE FROM runs WHERE id = ?", (run_id,))
        try:
            shutil.rmtree(run.folder)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StoreError(f"run {run_id} is deleted, but its folder {run.folder} is not: {reason(exc)}") from None


LIST_NAMES = (
    "id",
    "name",
    "status",
    "started_at",
    "updated_at",
    "ended_at",
    "pid",
    "host",
    "arch",
    "config",
    "epochs_planned",
    "steps_per_epoch",
    "params",
    "train_size",
    "test_size",
    "versions",
    "data_fingerprint",
    "message",
    "test_loss",
    "test_accuracy",
    "mistakes",
    "seconds",
    "batch_every",
    "resumed_at",
    "parent_id",
)
LIST_COLUMNS = ", ".join(LIST_NAMES)
