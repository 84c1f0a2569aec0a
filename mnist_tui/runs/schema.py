"""The run store's schema and its migrations, one step per ``PRAGMA user_version``.

A database at version 0 is a new or empty file. Each step takes the database from
version ``n`` to ``n + 1`` inside the caller's transaction; a database written by a
newer mnist-tui (a version above :data:`VERSION`) is refused, never touched.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

V1 = """
CREATE TABLE runs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused, so a folder name stays unique
    name             TEXT NOT NULL,
    status           TEXT NOT NULL,       -- running, finished, stopped, failed, interrupted
    started_at       REAL NOT NULL,       -- Unix time
    updated_at       REAL NOT NULL,       -- last write while running: a heartbeat for other hosts
    ended_at         REAL,
    pid              INTEGER,
    host             TEXT,
    arch             TEXT NOT NULL,
    config           TEXT NOT NULL,       -- JSON of the TrainConfig
    epochs_planned   INTEGER,
    steps_per_epoch  INTEGER,
    params           INTEGER,
    train_size       INTEGER,
    test_size        INTEGER,
    summary          TEXT,
    versions         TEXT,                -- JSON: python, numpy, tensorflow, keras, mnist-tui
    data_fingerprint TEXT,
    message          TEXT,                -- why a run failed
    test_loss        REAL,
    test_accuracy    REAL,
    mistakes         INTEGER,
    seconds          REAL,
    batch_losses     BLOB,                -- float32, downsampled to a few hundred points
    batch_every      INTEGER NOT NULL DEFAULT 1  -- batches averaged into each point
);
CREATE TABLE epochs (
    run_id       INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    epoch        INTEGER NOT NULL,
    loss         REAL,
    accuracy     REAL,
    val_loss     REAL,
    val_accuracy REAL,
    seconds      REAL,
    elapsed      REAL,
    PRIMARY KEY (run_id, epoch)
);
CREATE INDEX runs_status ON runs(status);
"""


def _v0_to_v1(db: sqlite3.Connection) -> None:
    for statement in V1.split(";"):
        if statement.strip():
            db.execute(statement)


def _v1_to_v2(db: sqlite3.Connection) -> None:
    # batches trained in an epoch a stop cut short (NULL: the whole epoch)
    db.execute("ALTER TABLE epochs ADD COLUMN steps INTEGER")


def _add_resume(db: sqlite3.Connection) -> None:
    # JSON list of the Unix times the run was resumed at (NULL: never)
    db.execute("ALTER TABLE runs ADD COLUMN resumed_at TEXT")
    # the run a run trained further (NULL: it started from scratch)
    db.execute("ALTER TABLE runs ADD COLUMN parent_id INTEGER")


TAGS = """
CREATE TABLE IF NOT EXISTS tags (
    dataset  TEXT NOT NULL,          -- the dataset's name (mnist): tags belong to its images, not to a run
    split    TEXT NOT NULL,          -- test or train
    idx      INTEGER NOT NULL,       -- the image's index in that split
    tag      TEXT NOT NULL,
    made_at  REAL NOT NULL,          -- Unix time
    run_id   INTEGER,                -- whose view it was made from (no foreign key: a deleted run keeps its tags)
    PRIMARY KEY (dataset, split, idx, tag)
);
CREATE TABLE IF NOT EXISTS relabels (
    dataset  TEXT NOT NULL,
    split    TEXT NOT NULL,
    idx      INTEGER NOT NULL,
    label    INTEGER NOT NULL,       -- the label the person believes is right
    made_at  REAL NOT NULL,
    run_id   INTEGER,
    PRIMARY KEY (dataset, split, idx)
);
CREATE TABLE IF NOT EXISTS queries (
    name     TEXT PRIMARY KEY,       -- a query the person named, to reopen it
    text     TEXT NOT NULL,
    made_at  REAL NOT NULL
)
"""


def _add_tags(db: sqlite3.Connection) -> None:
    for statement in TAGS.split(";"):
        if statement.strip():
            db.execute(statement)


SWEEPS = """
CREATE TABLE IF NOT EXISTS sweeps (
    name       TEXT PRIMARY KEY,
    storage    TEXT NOT NULL,      -- where Optuna keeps the study: a journal file, or a database URL
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS trials (
    run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    sweep  TEXT NOT NULL,
    number INTEGER NOT NULL,       -- Optuna's trial number within the sweep
    state  TEXT NOT NULL,          -- running, complete, pruned, failed
    note   TEXT                    -- why it was pruned or failed
);
CREATE INDEX IF NOT EXISTS trials_sweep ON trials(sweep, number);
"""


def _add_sweeps(db: sqlite3.Connection) -> None:
    # a sweep's trials are ordinary runs; these tables only say which sweep and trial each one is
    for statement in SWEEPS.split(";"):
        if statement.strip():
            db.execute(statement)


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_v0_to_v1, _v1_to_v2, _add_resume, _add_tags, _add_sweeps]
"""``MIGRATIONS[n]`` takes a database from version ``n`` to ``n + 1``."""


class NewerSchema(Exception):
    """The database was written by a newer mnist-tui."""


def current_version() -> int:
    return len(MIGRATIONS)


def migrate(db: sqlite3.Connection) -> int:
    """Bring ``db`` up to date in one ``BEGIN IMMEDIATE`` transaction; returns the version it had.

    Two processes opening a new store at once both end at the current version: the
    second waits for the first's lock (busy timeout), then reads the new version and
    has nothing left to do.
    """
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version == current_version():
        return version
    db.execute("BEGIN IMMEDIATE")
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > current_version():
            raise NewerSchema(f"schema version {version}; this mnist-tui knows up to {current_version()}")
        for step in MIGRATIONS[version:]:
            step(db)
        db.execute(f"PRAGMA user_version = {current_version()}")
    except BaseException:
        try:
            db.execute("ROLLBACK")
        except sqlite3.Error:
            pass
        raise
    db.execute("COMMIT")
    return version
