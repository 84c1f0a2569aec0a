"""``kill -9`` a real headless run mid-way, then ``--headless --resume ID``: the same run ends, exactly as if never killed."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest

from mnist_tui.runs import FINISHED, checkpoints, open_store

pytestmark = pytest.mark.keras

ARGS = ("--headless", "--epochs", "6", "--train-limit", "1200", "--seed", "7", "--batch-size", "64")


def start(home, real_mnist, *args: str) -> subprocess.Popen:
    env = {**os.environ, "MNIST_TUI_HOME": str(home), "TZ": "UTC"}
    return subprocess.Popen(
        [sys.executable, "-m", "mnist_tui", "--data", str(real_mnist), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def epochs_recorded(home) -> int:
    try:
        with sqlite3.connect(home / "runs.db", timeout=1) as db:
            return db.execute("SELECT count(*) FROM epochs").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_a_killed_run_resumes_to_the_same_weights(real_mnist, tmp_path):
    killed, whole = tmp_path / "killed", tmp_path / "whole"
    reference = start(whole, real_mnist, *ARGS)  # the uninterrupted run, alongside
    victim = start(killed, real_mnist, *ARGS)
    try:
        deadline = time.monotonic() + 60
        while epochs_recorded(killed) < 3 and victim.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        victim.kill()  # SIGKILL: no handler runs, nothing is tidied
        victim.communicate()
        assert 3 <= epochs_recorded(killed) < 6, "the run was not killed mid-way"
        out, err = reference.communicate(timeout=90)
        assert reference.returncode == 0, out + err
    finally:
        for process in (reference, victim):
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert open_store(killed).get_run(1).status == "interrupted"
    reached = checkpoints.read(killed / "runs" / "1").epoch
    assert 2 <= reached < 6

    resumed = start(killed, real_mnist, "--headless", "--resume", "1")
    out, err = resumed.communicate(timeout=90)
    assert resumed.returncode == 0, out + err
    assert f"Resuming after epoch {reached} of 6" in out

    run, twin = open_store(killed).get_run(1), open_store(whole).get_run(1)
    assert run.status == FINISHED and len(run.resumed_at) == 1
    assert [e.epoch for e in run.epochs] == [1, 2, 3, 4, 5, 6]
    assert [e.loss for e in run.epochs] == pytest.approx([e.loss for e in twin.epochs], rel=1e-6)
    assert run.test_accuracy == pytest.approx(twin.test_accuracy, abs=1e-9)
    # one continuous batch-loss curve: as long as the uninterrupted run's, and the same
    assert run.batch_losses is not None and twin.batch_losses is not None
    np.testing.assert_allclose(run.batch_losses, twin.batch_losses, rtol=1e-6)
    mine, theirs = checkpoints.read(run.folder), checkpoints.read(twin.folder)
    assert mine.epoch == 6 and all(np.array_equal(a, b) for a, b in zip(mine.model_variables, theirs.model_variables))


def test_resume_refuses_a_finished_run_and_a_missing_checkpoint(real_mnist, tmp_path):
    from mnist_tui.config import TrainConfig
    from mnist_tui.runs import Recorder

    store = open_store(tmp_path)
    run_id = Recorder(store, lambda event: None, TrainConfig()).start()
    store.end(run_id, "interrupted")
    env = {**os.environ, "MNIST_TUI_HOME": str(tmp_path)}

    def resume(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "mnist_tui", "--headless", *args], capture_output=True, text=True, env=env
        )

    missing = resume("--resume", str(run_id))
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1
    assert "no checkpoint" in missing.stderr and "Traceback" not in missing.stderr
    (tmp_path / "runs" / str(run_id) / "checkpoint.npz").write_bytes(b"PK\x03\x04 truncated")
    damaged = resume("--resume", str(run_id))
    assert damaged.returncode == 1 and "damaged" in damaged.stderr
    unknown = resume("--resume", "99")
    assert unknown.returncode == 1 and "no run 99" in unknown.stderr
    assert "cannot be used with --no-record" in resume("--resume", "1", "--no-record").stderr
