"""The run store and the recorder on their own: no Keras, no Textual, stores in tmp_path."""

from __future__ import annotations

import errno
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from mnist_tui.config import TrainConfig
from mnist_tui.events import EpochEnd, Failed, Finished, Notice, Stage
from mnist_tui.runs import (
    FAILED,
    FINISHED,
    INTERRUPTED,
    RUNNING,
    STOPPED,
    Recorder,
    StoreError,
    UnknownRun,
    open_store,
    schema,
)
from mnist_tui.runs import format as fmt
from mnist_tui.runs import store as store_module
from mnist_tui.runs.recorder import MAX_POINTS, Downsampler
from tests.support import fakes
from tests.support.store import NOW, Clock, SavedModel, record, script

# ---------------------------------------------------------------------- recording


def test_a_run_is_recorded_from_start_to_finish(tmp_path):
    clock = Clock()
    events = script(model=SavedModel())
    store = open_store(tmp_path, clock=clock)
    seen: list = []
    recorder = Recorder(store, seen.append, fakes.CONFIG)
    assert recorder.start() == 1
    assert store.get_run(1).status == RUNNING  # a row from the very start
    for event in events:
        recorder(event)
        clock.t += 1
        if isinstance(event, EpochEnd):
            assert store.get_run(1).epochs_done == event.epoch  # committed before it is passed on
    assert seen == events  # every event forwarded, in order, nothing added
    run = store.get_run(1)
    assert (run.status, run.name, run.arch, run.epochs_done, run.mistakes) == (FINISHED, "mlp-1", "mlp", 10, 25)
    assert run.test_accuracy == pytest.approx(0.875) and run.test_loss == pytest.approx(0.071)
    assert run.best.epoch == 10 and run.best.val_accuracy == pytest.approx(fakes.epoch(10).val_accuracy)
    assert run.params == 101_770 and run.train_size == 60_000 and run.summary == fakes.SUMMARY
    assert run.versions["mnist-tui"] and "tensorflow" in run.versions
    assert run.pid == os.getpid() and run.started_at == NOW and run.ended_at > NOW
    assert len(run.data_fingerprint) == 16
    assert run.has_model and not run.model_missing and run.size_bytes > 1000
    assert 0 < len(run.batch_losses) <= MAX_POINTS and run.batch_every > 1
    np.testing.assert_array_equal(store.load_probabilities(1), fakes.fake_predictions().probabilities)
    assert store.load_probabilities(1).dtype == np.float32


@pytest.mark.parametrize(
    ("outcome", "status", "message"),
    [("stopped", STOPPED, None), ("failed", FAILED, "Training diverged"), ("interrupted", INTERRUPTED, None)],
)
def test_every_ending_is_recorded(tmp_path, outcome, status, message):
    recorder, seen = record(tmp_path, script(epochs=2, outcome=outcome))
    run = open_store(tmp_path).get_run(recorder.run_id)
    assert run.status == status and run.epochs_done == 2 and run.ended_at is not None
    assert (run.message or "").startswith(message or "")
    assert run.has_predictions == (outcome == "stopped")
    assert not run.model_missing
    assert not any(isinstance(e, Notice) for e in seen)


def test_a_run_that_fails_while_loading_is_recorded(tmp_path):
    recorder, _ = record(tmp_path, [Stage("Loading data"), Failed("The directory is empty.")])
    run = open_store(tmp_path).get_run(recorder.run_id)
    assert run.status == FAILED and run.message == "The directory is empty." and run.epochs_done == 0


def test_the_batch_loss_curve_is_downsampled_by_averaging():
    sampler = Downsampler(limit=8)
    for value in range(100):
        sampler.add(float(value))
    values = sampler.values()
    assert len(values) <= 8 and sampler.every == 16
    assert values[0] == pytest.approx(np.mean(range(16)))  # each point is the mean of `every` batches
    long = Downsampler()
    for _ in range(1_000_003):
        long.add(1.0)
    assert MAX_POINTS // 2 <= len(long.values()) <= MAX_POINTS and np.all(long.values() == 1.0)


def test_the_model_file_missing_is_shown(tmp_path):
    recorder, _ = record(tmp_path, script(epochs=1))
    store = open_store(tmp_path)
    store.model_path(recorder.run_id).unlink()
    run = store.list_runs()[0]
    assert run.model_missing and fmt.status(run) == "model missing"
    assert run.epochs_done == 1 and run.test_accuracy is not None  # its metrics are all still there


def test_rename_and_delete(tmp_path):
    record(tmp_path, script(epochs=1))
    recorder, _ = record(tmp_path, script(epochs=1))
    store = open_store(tmp_path)
    store.rename(recorder.run_id, "  wide   net ")
    assert store.get_run(recorder.run_id).name == "wide net"
    with pytest.raises(StoreError, match="empty"):
        store.rename(recorder.run_id, "  ")
    folder = store.run_dir(1)
    assert folder.is_dir()
    store.delete(1)
    assert not folder.exists() and [r.id for r in store.list_runs()] == [2]
    with pytest.raises(UnknownRun, match="no run 1"):
        store.get_run(1)
    recorder, _ = record(tmp_path, script(epochs=1))
    assert recorder.run_id == 3  # ids are never reused, so folders never mix


def test_a_run_still_training_cannot_be_deleted(tmp_path):
    recorder, _ = record(tmp_path, script(epochs=1, outcome="running"), close=False)
    with pytest.raises(StoreError, match="still training"):
        open_store(tmp_path).delete(recorder.run_id)


# ---------------------------------------------------------------------- interrupted


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_run_whose_process_is_gone_reads_as_interrupted(tmp_path):
    recorder, _ = record(tmp_path, script(epochs=2, outcome="running"), close=False)
    store = open_store(tmp_path)
    assert store.get_run(recorder.run_id).status == RUNNING  # this process is alive
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE runs SET pid = ? WHERE id = ?", (dead_pid(), recorder.run_id))
    run = store.list_runs()[0]
    assert run.status == INTERRUPTED and run.epochs_done == 2
    with sqlite3.connect(store.path) as db:  # written down, so a reused pid cannot revive it
        assert db.execute("SELECT status FROM runs").fetchone()[0] == INTERRUPTED


def test_a_run_on_another_host_is_interrupted_once_silent_for_a_day(tmp_path):
    clock = Clock()
    recorder, _ = record(tmp_path, script(epochs=1, outcome="running"), clock=clock, close=False)
    store = open_store(tmp_path, clock=clock)
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE runs SET host = 'elsewhere', pid = 1")
    clock.t = NOW + 3600
    assert store.get_run(recorder.run_id).status == RUNNING
    clock.t = NOW + 25 * 3600
    assert store.get_run(recorder.run_id).status == INTERRUPTED


def test_a_reused_pid_does_not_keep_a_run_alive(tmp_path):
    clock = Clock(time.time() - 3600)  # the run started an hour ago
    recorder, _ = record(tmp_path, script(epochs=1, outcome="running"), clock=clock, close=False)
    store = open_store(tmp_path, clock=clock)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with sqlite3.connect(store.path) as db:
            db.execute("UPDATE runs SET pid = ?", (sleeper.pid,))
        # a live process that started after the run did cannot be the run's
        assert store.get_run(recorder.run_id).status == INTERRUPTED
    finally:
        sleeper.kill()
        sleeper.wait()


# ---------------------------------------------------------------------- schema


def test_a_version_0_file_is_migrated_in_place(tmp_path):
    (tmp_path / "runs.db").write_bytes(b"")  # an empty file is an SQLite database at version 0
    with sqlite3.connect(tmp_path / "runs.db") as db:
        db.execute("CREATE TABLE notes (text TEXT)")  # whatever else the file holds is kept
        db.execute("INSERT INTO notes VALUES ('keep me')")
    store = open_store(tmp_path)
    assert not store.notices
    assert store._db.execute("PRAGMA user_version").fetchone()[0] == schema.current_version()
    assert store._db.execute("SELECT text FROM notes").fetchone()[0] == "keep me"
    store.close()
    recorder, _ = record(tmp_path, script(epochs=1))
    assert open_store(tmp_path).get_run(recorder.run_id).status == FINISHED


def test_a_later_migration_keeps_the_runs(tmp_path, monkeypatch):
    recorder, _ = record(tmp_path, script(epochs=2))

    def add_tags(db):
        db.execute("ALTER TABLE runs ADD COLUMN tags TEXT NOT NULL DEFAULT ''")

    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, add_tags])
    store = open_store(tmp_path)
    assert store._db.execute("PRAGMA user_version").fetchone()[0] == len(schema.MIGRATIONS)
    run = store.get_run(recorder.run_id)
    assert run.epochs_done == 2 and run.status == FINISHED
    assert store._db.execute("SELECT tags FROM runs").fetchone()[0] == ""


def test_a_store_from_a_newer_version_is_refused_untouched(tmp_path):
    record(tmp_path, script(epochs=1))
    with sqlite3.connect(tmp_path / "runs.db") as db:
        db.execute("PRAGMA user_version = 99")
    before = (tmp_path / "runs.db").read_bytes()
    with pytest.raises(StoreError, match="newer mnist-tui"):
        open_store(tmp_path)
    assert (tmp_path / "runs.db").read_bytes() == before


# ---------------------------------------------------------------------- faults


def notices(seen: list) -> list[str]:
    return [e.message for e in seen if isinstance(e, Notice)]


def test_a_garbage_file_is_moved_aside_never_destroyed(tmp_path):
    garbage = b"this is not a database\n" * 100
    (tmp_path / "runs.db").write_bytes(garbage)
    events = script(epochs=1)
    recorder, seen = record(tmp_path, events)
    aside = list(tmp_path.glob("runs.db.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == garbage
    said = notices(seen)
    assert len(said) == 1 and aside[0].name in said[0] and "started a new one" in said[0]
    assert open_store(tmp_path).get_run(recorder.run_id).status == FINISHED  # the run is recorded all the same
    assert [e for e in seen if not isinstance(e, Notice)] == events


def test_a_store_that_cannot_be_created_leaves_the_run_unrecorded(tmp_path):
    (tmp_path / "file").write_text("a file where a directory should be")
    seen: list = []
    recorder = Recorder.open(seen.append, fakes.CONFIG, home=tmp_path / "file" / "store")
    events = script(epochs=2)
    for event in events:
        recorder(event)
    recorder.close()
    assert not recorder.recording
    said = notices(seen)
    assert len(said) == 1 and said[0].startswith("This run is not being recorded: cannot open the run store")
    assert [e for e in seen if not isinstance(e, Notice)] == events


def read_only_connect(self):
    """The store's database opened read-only, as on a read-only disk (root ignores file permissions)."""
    db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
    return db


def test_a_read_only_store_never_stops_the_run(tmp_path, monkeypatch):
    record(tmp_path, script(epochs=1))
    monkeypatch.setattr(store_module.RunStore, "_connect", read_only_connect)
    store = open_store(tmp_path)
    assert len(store.list_runs()) == 1  # still readable
    seen: list = []
    recorder = Recorder(store, seen.append, fakes.CONFIG)
    events = script(epochs=3)
    for event in events:
        recorder(event)
    recorder.close()
    said = notices(seen)
    assert len(said) == 1 and "Stopped recording this run" in said[0] and "readonly" in said[0].replace("-", "")
    assert [e for e in seen if not isinstance(e, Notice)] == events


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only directories")
def test_a_read_only_directory_never_stops_the_run(tmp_path):  # pragma: no cover - not as root
    record(tmp_path, script(epochs=1))
    for path in [tmp_path, *tmp_path.iterdir()]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        seen: list = []
        recorder = Recorder.open(seen.append, fakes.CONFIG, home=tmp_path)
        for event in script(epochs=1):
            recorder(event)
        assert len(notices(seen)) == 1
    finally:
        for path in [tmp_path, *tmp_path.iterdir()]:
            path.chmod(0o755 if path.is_dir() else 0o644)


def test_a_full_disk_stops_recording_with_one_notice(tmp_path, monkeypatch):
    store = open_store(tmp_path)
    writes = []

    def full(*args, **kwargs):
        writes.append(args)
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(store, "record_epoch", full)
    seen: list = []
    recorder = Recorder(store, seen.append, fakes.CONFIG)
    events = script(epochs=4)
    for event in events:
        recorder(event)
    said = notices(seen)
    assert said == ["Stopped recording run 1: run store: database or disk is full."]
    assert len(writes) == 1  # no more tries once it failed
    assert [e for e in seen if not isinstance(e, Notice)] == events
    assert not recorder.recording


def test_a_full_disk_at_the_end_keeps_the_metrics(tmp_path, monkeypatch):
    def no_space(path, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(store_module, "atomic_write_bytes", no_space)
    recorder, seen = record(
        tmp_path, script(epochs=2, model=SavedModel(OSError(errno.ENOSPC, "No space left on device")))
    )
    assert notices(seen) == [
        f"Run {recorder.run_id} is recorded without its test predictions and its model: No space left on device."
    ]
    run = open_store(tmp_path).get_run(recorder.run_id)
    assert run.status == FINISHED and run.test_accuracy is not None and run.epochs_done == 2
    assert not run.has_predictions and run.model_missing
    with pytest.raises(StoreError, match="no test predictions"):
        open_store(tmp_path).load_probabilities(recorder.run_id)


def test_a_store_locked_too_long_stops_recording(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_S", 0.2)
    store = open_store(tmp_path)
    seen: list = []
    recorder = Recorder(store, seen.append, fakes.CONFIG)
    recorder.start()
    other = sqlite3.connect(store.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        for event in script(epochs=2):
            recorder(event)
    finally:
        other.execute("ROLLBACK")
    said = notices(seen)
    assert len(said) == 1 and "database is locked" in said[0]


# ---------------------------------------------------------------------- two processes


def train_in_child(home: str, barrier, label: int) -> None:
    """A scripted run in a process of its own, its epochs interleaved with the other's."""
    config = TrainConfig(epochs=6, seed=label)
    store = open_store(Path(home))
    recorder = Recorder(store, lambda event: None, config)
    for event in script(config, batches=True):
        if isinstance(event, EpochEnd):
            barrier.wait(timeout=30)
        recorder(event)
    recorder.close()


def test_two_processes_record_at_once(tmp_path):
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    children = [context.Process(target=train_in_child, args=(str(tmp_path), barrier, n)) for n in (1, 2)]
    for child in children:
        child.start()
    for child in children:
        child.join(60)
    assert [child.exitcode for child in children] == [0, 0]
    runs = open_store(tmp_path).list_runs()
    assert sorted(r.config["seed"] for r in runs) == [1, 2]
    assert all(r.status == FINISHED and r.epochs_done == 6 and r.has_model for r in runs)


# ---------------------------------------------------------------------- location, imports, speed


def test_where_the_store_lives(monkeypatch, tmp_path):
    monkeypatch.delenv("MNIST_TUI_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert store_module.default_home() == tmp_path / "xdg" / "mnist-tui"
    monkeypatch.setenv("MNIST_TUI_HOME", str(tmp_path / "home"))
    assert store_module.default_home() == tmp_path / "home"
    monkeypatch.delenv("MNIST_TUI_HOME")
    monkeypatch.delenv("XDG_DATA_HOME")
    assert store_module.default_home() == Path.home() / ".local" / "share" / "mnist-tui"


def test_the_store_imports_numpy_and_the_standard_library_only():
    code = (
        "import sys; import mnist_tui.runs; from mnist_tui.runs import format, library_versions; library_versions();"
        "bad = [m for m in ('tensorflow', 'keras', 'textual', 'rich') if m in sys.modules]; print(bad); sys.exit(bool(bad))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_listing_200_runs_is_fast(tmp_path):
    store = open_store(tmp_path)
    for n in range(200):
        recorder = Recorder(store, lambda event: None, TrainConfig(epochs=10, seed=n))
        for event in script(TrainConfig(epochs=10, seed=n), batches=False):
            recorder(event)
    start = time.perf_counter()
    runs = open_store(tmp_path).list_runs()
    elapsed = time.perf_counter() - start
    assert len(runs) == 200 and runs[0].id == 200 and all(r.best is not None for r in runs)
    assert elapsed < 1.0, f"opening the store and listing 200 runs took {elapsed:.3f} s"


def test_opening_the_store_sweeps_what_a_killed_writer_left(tmp_path):
    from mnist_tui.files import temporary_path

    record(tmp_path, script())
    folder = tmp_path / "runs" / "1"
    left = temporary_path(folder / "model.keras", dead_pid())
    left.write_bytes(b"half a model")
    writing = temporary_path(folder / "map-islands.npy", os.getpid())  # a live writer's file stays
    writing.write_bytes(b"being written")
    kept = folder / "notes.partial.txt"  # not a temporary name: never touched
    kept.write_text("mine")
    open_store(tmp_path).close()
    assert not left.exists() and writing.exists() and kept.exists()


# ---------------------------------------------------------------------- a run stopped mid-epoch


def stopped_run(tmp_path, *, epochs: int, step: int):
    """Record a run of ``epochs`` epochs stopped at ``step`` of the last one's 1,875 batches."""
    config = TrainConfig(epochs=epochs)
    predictions = fakes.fake_predictions()
    events = [
        fakes.started(config),
        *[fakes.epoch(i, epochs) for i in range(1, epochs)],
        *fakes.batches(epochs, (step - 1) // 100 * 100),
        fakes.stopped_at(epochs, step),
        fakes.epoch(epochs, epochs),  # Keras ends the epoch the stop cut short
        Finished({}, 0.1, predictions.accuracy, predictions, stopped_early=True, seconds=3.0, model=SavedModel()),
    ]
    recorder, _ = record(tmp_path, events)
    return open_store(tmp_path).get_run(recorder.run_id)


def test_an_epoch_cut_short_by_a_stop_is_recorded_as_partial(tmp_path):
    run = stopped_run(tmp_path, epochs=1, step=200)  # 200 of 1,875 batches: 10.7% of its only epoch
    assert run.status == STOPPED and run.epochs_done == 1
    assert run.last.steps == 200 and run.last.partial
    assert run.epochs_trained == pytest.approx(200 / 1875)
    assert fmt.epochs(run) == "0.1/1"  # not "1/1"
    # the batches between the last batch event (at 100) and the stop are in the recorded curve
    assert len(run.batch_losses) == 1 + 100 and run.batch_every == 1
    assert run.batch_losses[-1] == pytest.approx(fakes.stopped_at(1, 200).loss)


def test_a_partial_last_epoch_of_many_reads_in_tenths_or_with_a_plus_where_narrow(tmp_path):
    run = stopped_run(tmp_path, epochs=10, step=1000)
    assert [e.partial for e in run.epochs] == [False] * 9 + [True]
    assert fmt.epochs(run) == "9.5/10"
    assert fmt.epochs(run, width=5) == "9+/10"  # the runs table's column


def test_a_stop_at_the_end_of_an_epoch_leaves_it_whole(tmp_path):
    run = stopped_run(tmp_path, epochs=2, step=1875)
    assert not run.last.partial and fmt.epochs(run) == "2/2"


def test_a_version_1_store_gains_the_partial_epochs_column(tmp_path):
    recorder, _ = record(tmp_path, script(epochs=2))
    with sqlite3.connect(tmp_path / "runs.db") as db:  # back to version 1: epochs without steps
        db.execute("ALTER TABLE epochs DROP COLUMN steps")
        for column in ("resumed_at", "parent_id"):  # and what later steps add (_add_resume)
            db.execute(f"ALTER TABLE runs DROP COLUMN {column}")
        db.execute("PRAGMA user_version = 1")
    store = open_store(tmp_path)
    assert store._db.execute("PRAGMA user_version").fetchone()[0] == schema.current_version()
    run = store.get_run(recorder.run_id)
    assert run.epochs_done == 2 and not any(e.partial for e in run.epochs) and fmt.epochs(run) == "2/10"
