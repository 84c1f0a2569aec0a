"""Two sweep workers share a study in a real PostgreSQL server; a SIGKILLed worker's trial is failed by its heartbeat.

The server is started in a temporary directory (``initdb``, ``pg_ctl``) and listens only on a
Unix socket there (``listen_addresses=''``). PostgreSQL refuses to run as root: as root (CI),
the directory is given to the ``postgres`` user and the server run through ``runuser``.
Skipped, saying why, where PostgreSQL 15's binaries or the ``postgres`` extra are absent.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.support.data import ROOT, SHARED_MNIST

pytestmark = pytest.mark.keras


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@pytest.fixture(scope="module")
def server():
    bin_dir = postgres_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb)")
    pytest.importorskip("psycopg", reason="the postgres extra is not installed (pip install -e '.[postgres]')")
    as_root = os.geteuid() == 0
    if as_root and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: PostgreSQL cannot be started")
    # not under pytest's tmp_path: its parents are private to root, and the server runs as postgres
    top = Path(tempfile.mkdtemp(prefix="mnist-tui-pg-"))
    data, socket_dir = top / "data", top / "run"
    socket_dir.mkdir()
    prefix: list[str] = []
    if as_root:
        shutil.chown(top, "postgres")
        shutil.chown(socket_dir, "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    user = "postgres" if as_root else os.environ.get("USER", "postgres")

    def run(*command: str) -> None:
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=60)

    run(str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", user, "--no-sync")
    options = f"-k {socket_dir} -c listen_addresses='' -p 5432 -c fsync=off"
    run(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(top / "log"), "-w", "start")
    try:
        yield f"postgresql://{user}@/postgres?host={socket_dir}"
    finally:
        subprocess.run([*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], timeout=60)
        shutil.rmtree(top, ignore_errors=True)


@pytest.fixture(scope="module")
def tiny_data() -> Path:
    if not SHARED_MNIST.is_dir():
        pytest.skip(f"the real MNIST files are not in {SHARED_MNIST}")
    return SHARED_MNIST


def worker(home: Path, *args: str) -> subprocess.Popen:
    """``mnist-tui sweep ARGS`` in a process of its own, with a run store of its own (another machine's)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MNIST_TUI_HOME": str(home), "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.Popen(
        [sys.executable, "-m", "mnist_tui", "sweep", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def schema_made(url: str) -> bool:
    """Whether Optuna's tables are there and stamped: reading the study before that would make
    this test create them too, racing the worker that is creating them (a duplicate-type error)."""
    import psycopg

    with psycopg.connect(url) as conn:
        if conn.execute("SELECT to_regclass('alembic_version')").fetchone()[0] is None:
            return False
        return conn.execute("SELECT count(*) FROM alembic_version").fetchone()[0] > 0


def study_trials(url: str, name: str):
    import optuna

    if not schema_made(url):
        return None
    try:
        return optuna.load_study(study_name=name, storage=url).get_trials(deepcopy=False)
    except KeyError:
        return None


HANGING_WORKER = """
import sys, threading
from mnist_tui.events import EpochEnd
from mnist_tui.runs import open_store
from mnist_tui.sweeps.driver import SweepDriver
from mnist_tui.sweeps.study import load_study, open_storage

class Hangs:  # one epoch, then trains for ever: the worker is killed in the middle of its trial
    def __init__(self, config):
        self.config = config
    def run(self, sink, control):
        sink(EpochEnd(1, self.config.epochs, 0.5, 0.8, 0.5, 0.8, 1.0, 1.0))
        threading.Event().wait()

study, spec = load_study("shared", open_storage(sys.argv[1]), worker=7)
SweepDriver(study, spec, open_store(), Hangs).run()
"""


def test_two_workers_share_a_study_and_a_killed_workers_trial_fails(server, tiny_data, tmp_path) -> None:
    import optuna
    from optuna.trial import TrialState

    from mnist_tui.runs import open_store
    from mnist_tui.runs.trials import sweep_trials
    from mnist_tui.sweeps.study import fail_dead_trials

    first = worker(
        tmp_path / "a", "--storage", server, "--name", "shared", "--trials", "4", "--epochs", "1", "--prune", "none",
        "--space", "lr=1e-3..1e-2:log hidden=8..32", "--data", str(tiny_data), "--train-limit", "256",
        "--batch-size", "64", "--seed", "1",
    )  # fmt: skip
    wait_for(lambda: study_trials(server, "shared") is not None, 60, "the first worker's study")
    second = worker(tmp_path / "b", "--join", "shared", "--storage", server)
    for process in (first, second):
        out, err = process.communicate(timeout=240)
        assert process.returncode == 0, err

    trials = study_trials(server, "shared")
    assert sorted(t.number for t in trials) == list(range(4))
    assert {t.state for t in trials} == {TrialState.COMPLETE}  # none lost, none failed
    assert len({t.user_attrs["pid"] for t in trials}) == 2, "both workers ran trials"
    recorded = [(t.sweep, t.number) for home in ("a", "b") for t in sweep_trials(open_store(tmp_path / home), "shared")]
    assert sorted(recorded) == [("shared", n) for n in range(4)]  # each trial recorded once, by the worker that ran it

    # one more worker (the sweep is done: --trials 4, so raise the budget), killed in the middle of its trial
    optuna.load_study(study_name="shared", storage=server).set_user_attr("trials", 5)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MNIST_TUI_HOME": str(tmp_path / "c")}
    doomed = subprocess.Popen([sys.executable, "-c", HANGING_WORKER, server], env=env)
    running = wait_for(
        lambda: [t for t in study_trials(server, "shared") if t.state == TrialState.RUNNING and t.intermediate_values],
        60,
        "the doomed worker's first epoch",
    )
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(10)
    # its heartbeat stops: after the grace period its trial is failed, not running for ever
    storage = optuna.storages.RDBStorage(server, heartbeat_interval=1, grace_period=2)
    study = optuna.load_study(study_name="shared", storage=storage)
    time.sleep(3)
    failed = fail_dead_trials(study)
    assert [t.number for t in failed] == [running[0].number] == [4]
    assert study.trials[4].state == TrialState.FAIL


def test_workers_starting_together_on_an_empty_database_all_open_it(server) -> None:
    # PostgreSQL's CREATE TABLE IF NOT EXISTS is not atomic: two sessions creating Optuna's
    # tables at once in an empty database collide on the catalog (a duplicate key in pg_type),
    # as two machines' first `mnist-tui sweep` on a new database would. Every one must open it.
    import threading

    import psycopg

    from mnist_tui.sweeps.study import SweepError, open_storage

    outcomes: list[str] = []
    for round_ in range(3):
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE together_{round_}")
        url = server.replace("/postgres?", f"/together_{round_}?")
        start = threading.Barrier(4)

        def open_it() -> None:
            start.wait()
            try:
                open_storage(url)
            except SweepError as exc:
                outcomes.append(str(exc))
            else:
                outcomes.append("opened")

        threads = [threading.Thread(target=open_it) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert outcomes == ["opened"] * 12
