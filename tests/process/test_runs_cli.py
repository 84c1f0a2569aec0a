"""``mnist-tui runs``, ``--run``, ``--no-record`` and headless recording, on a store in tmp_path.

The commands run in this process (:func:`cli`) unless the test is about the process itself:
what it imports, how it asks in a terminal, a real run of TensorFlow.
"""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import shutil
import subprocess
import sys

import pytest
from rich.console import Console

from mnist_tui.commands.train import parse_args
from mnist_tui.config import TrainConfig
from mnist_tui.events import Notice
from mnist_tui.headless import HeadlessReporter
from mnist_tui.runs import FINISHED, open_store
from tests.support import fakes
from tests.support.cli import Ran, run_cli
from tests.support.store import fill_store, record, script


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    home = tmp_path_factory.mktemp("store")
    fill_store(home)
    return home


@pytest.fixture
def home(filled, tmp_path):
    copy = tmp_path / "store"
    shutil.copytree(filled, copy)
    return copy


@pytest.fixture
def cli(capsys, monkeypatch, utc):
    """``cli(*args, home=STORE)``: ``mnist-tui ARGS`` in this process on the store ``home``, in UTC."""

    def run(*args: str, home) -> Ran:
        monkeypatch.setenv("MNIST_TUI_HOME", str(home))
        return run_cli(capsys, *args)

    return run


def mnist_tui(*args: str, home=None, stdin=None, python_flags: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """``mnist-tui ARGS`` in a subprocess of its own on the store ``home``, in UTC."""
    env = {**os.environ, "MNIST_TUI_HOME": str(home), "TZ": "UTC"}
    return subprocess.run(
        [sys.executable, *python_flags, "-m", "mnist_tui", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        stdin=stdin if stdin is not None else subprocess.DEVNULL,
    )


def one_error_line(result: Ran | subprocess.CompletedProcess, text: str) -> None:
    assert "Traceback" not in result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("mnist-tui") and "error:" in lines[0] and text in lines[0], (
        result.stderr
    )


def test_runs_prints_a_plain_table_into_a_pipe(filled, cli):
    result = cli("runs", home=filled)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["ID", "Name", "When", "Arch"]
    assert [line.split()[0] for line in lines[1:]] == ["8", "7", "6", "5", "4", "3", "2", "1"]
    assert "\x1b[" not in result.stdout and "─" not in result.stdout  # no colours, no box lines
    assert "model missing" in lines[2] and "interrupted" in lines[3] and "lr=10" in lines[5]
    assert all(line == line.rstrip() for line in lines)


def test_runs_csv_has_a_row_per_run(filled, cli):
    result = cli("runs", "--csv", home=filled)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [int(row["id"]) for row in rows] == [8, 7, 6, 5, 4, 3, 2, 1]
    first = rows[-1]
    assert first["status"] == "finished" and float(first["test_accuracy"]) == pytest.approx(0.9781)
    assert first["epochs"] == "10" and first["learning_rate"] == "0.001" and first["best_epoch"] == "10"
    assert rows[3]["validate"] == "False" and rows[3]["best_val_accuracy"] == ""  # no validation, no best
    assert rows[1]["model_missing"] == "True"


def test_runs_json_has_an_object_per_run(filled, cli):
    result = cli("runs", "--json", home=filled)
    assert result.returncode == 0, result.stderr
    runs = json.loads(result.stdout)
    assert [run["id"] for run in runs] == [8, 7, 6, 5, 4, 3, 2, 1]
    assert runs[4]["status"] == "failed" and runs[4]["message"].startswith("Training diverged")
    assert runs[4]["test_accuracy"] is None and runs[6]["arch"] == "cnn" and runs[6]["epochs"] == 3
    assert runs[7]["started_at"].startswith("2025-12-02T12:00:00")


def test_an_empty_store(tmp_path, cli):
    assert "No runs recorded yet" in cli("runs", home=tmp_path).stdout
    result = cli("runs", "--csv", home=tmp_path)
    assert result.stdout.startswith("id,name,status,") and "test_accuracy" in result.stdout
    assert json.loads(cli("runs", "--json", home=tmp_path).stdout) == []


def test_runs_show_prints_one_run_and_its_epochs(filled, cli):
    result = cli("runs", "show", "3", home=filled)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "3 · mlp-3 · stopped" in out and "lr=0.01" in out and "97.02%" in out
    epochs = [line.split() for line in out.splitlines() if line.split()[:1] in (["1"], ["2"], ["3"])]
    assert [e[0] for e in epochs] == ["1", "2", "3"] and epochs[-1][-1] == "best"
    assert "model missing" in cli("runs", "show", "7", home=filled).stdout


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["runs", "show", "99"], 1, "there is no run 99"),
        (["runs", "show", "x"], 2, "expected a whole number"),
        (["runs", "rm", "99", "--yes"], 1, "there is no run 99"),
        (["runs", "rm", "1"], 2, "pass --yes"),  # no terminal to ask in
        (["--run", "99"], 1, "there is no run 99"),
        (["--run", "4"], 1, "run 4 has no test predictions to open (it failed: Training diverged"),
        (["--run", "0"], 2, "run id must be at least 1"),
    ],
)
def test_bad_input_is_one_line(home, args, status, message, cli):
    result = cli(*args, home=home)
    assert result.returncode == status
    one_error_line(result, message)
    assert len(open_store(home).list_runs()) == 8  # nothing deleted


def test_run_and_model_exclude_each_other(home, tmp_path, cli):
    model = tmp_path / "m.keras"
    model.write_bytes(b"x")
    result = cli("--run", "1", "--model", str(model), home=home)
    assert result.returncode == 2
    one_error_line(result, "not allowed with argument")


def test_a_store_that_cannot_be_opened_is_one_line(tmp_path, cli):
    (tmp_path / "file").write_text("")
    for args in (["runs"], ["runs", "show", "1"], ["--run", "1"]):
        result = cli(*args, home=tmp_path / "file" / "store")
        assert result.returncode == 1
        one_error_line(result, "cannot open the run store")


def test_a_garbage_store_is_moved_aside_and_said(tmp_path, cli):
    (tmp_path / "runs.db").write_bytes(b"garbage" * 1000)
    result = cli("runs", "--json", home=tmp_path)
    assert result.returncode == 0 and json.loads(result.stdout) == []
    assert "not a database; moved it to runs.db.corrupt-" in result.stderr
    assert [p.read_bytes() for p in tmp_path.glob("runs.db.corrupt-*")] == [b"garbage" * 1000]


def test_rm_deletes_after_yes(home, cli):
    result = cli("runs", "rm", "1", "2", "2", "--yes", home=home)
    assert result.returncode == 0, result.stderr
    assert "Deleted run 1 (mlp-1)." in result.stdout and "Deleted run 2 (cnn-2)." in result.stdout
    assert [r.id for r in open_store(home).list_runs()] == [8, 7, 6, 5, 4, 3]
    assert not (home / "runs" / "1").exists()
    live, _ = record(home, script(epochs=1, outcome="running"), close=False)  # this process records it now
    result = cli("runs", "rm", str(live.run_id), "--yes", home=home)
    assert result.returncode == 1
    one_error_line(result, f"run {live.run_id} is still training")


@pytest.mark.parametrize(("answer", "deleted"), [(b"n\n", False), (b"y\n", True)])
def test_rm_asks_in_a_terminal(home, answer, deleted):
    master, slave = pty.openpty()
    os.write(master, answer)
    try:
        result = mnist_tui("runs", "rm", "5", home=home, stdin=slave)
    finally:
        os.close(slave)
        os.close(master)
    assert ("Deleted run 5" in result.stdout) == deleted and ("Nothing deleted" in result.stdout) != deleted
    assert result.returncode == (0 if deleted else 1)
    assert (5 in [r.id for r in open_store(home).list_runs()]) != deleted


def test_headless_run_prints_the_summary(filled, cli):
    result = cli("--headless", "--run", "2", home=filled)
    assert result.returncode == 0, result.stderr
    assert "2 · cnn-2 · finished" in result.stdout and "99.12%" in result.stdout


@pytest.mark.parametrize(
    "args", [["runs"], ["runs", "--json"], ["runs", "show", "1"], ["runs", "rm", "6", "--yes"], ["--run", "1"]]
)
def test_run_commands_never_import_tensorflow(home, args):
    result = mnist_tui(*args, home=home, python_flags=("-X", "importtime"))
    imported = {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines() if "|" in line}
    assert "mnist_tui" in imported  # the check can see what was imported
    assert not imported & {"tensorflow", "keras", "jax", "torch"}


def test_options_for_recording():
    assert parse_args([]).record and parse_args([]).run is None
    options = parse_args(["--no-record", "--run", "12"])
    assert not options.record and options.run == 12


# ---------------------------------------------------------------------- headless


def reporter_output(*events) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    reporter = HeadlessReporter(Console(file=out, width=200), Console(file=err, width=200))
    for event in events:
        reporter(event)
    reporter.stop_bars()
    return out.getvalue(), err.getvalue()


@pytest.mark.parametrize(("epochs", "text"), [(1, "1 epoch, batch"), (3, "3 epochs, batch")])
def test_the_headless_header_counts_epochs_in_english(epochs, text):
    config = TrainConfig(epochs=epochs)
    out, _ = reporter_output(fakes.started(config))
    assert text in out


def test_headless_says_store_notices_in_one_line():
    _, err = reporter_output(Notice("This run is not being recorded: cannot open the run store /x: Permission denied."))
    assert err == "mnist-tui: This run is not being recorded: cannot open the run store /x: Permission denied.\n"


class Scripted:
    """Stands in for KerasTrainer in run_headless: plays a scripted run."""

    def __init__(self, config: TrainConfig, **options) -> None:  # options: where to checkpoint, what to resume
        self.events = script(config, epochs=2)

    def run(self, sink, control) -> None:
        for event in self.events:
            sink(event)


@pytest.mark.parametrize("record", [True, False])
def test_headless_records_unless_told_not_to(tmp_path, monkeypatch, capfd, record):
    from mnist_tui import headless

    monkeypatch.setenv("MNIST_TUI_HOME", str(tmp_path / "store"))
    monkeypatch.setattr(headless, "KerasTrainer", Scripted)
    status = headless.run_headless(TrainConfig(epochs=2), log_file=tmp_path / "log", record=record)
    out, err = capfd.readouterr()
    assert status == 0 and "Test accuracy" in out and not err
    runs = open_store(tmp_path / "store").list_runs()
    if record:
        assert "Recorded as run 1 (mnist-tui runs show 1)" in out
        assert [(r.status, r.epochs_done, r.has_model, r.has_predictions) for r in runs] == [(FINISHED, 2, True, True)]
    else:
        assert "Recorded" not in out and runs == []


def test_headless_goes_on_when_the_store_cannot_open(tmp_path, monkeypatch, capfd):
    from mnist_tui import headless

    (tmp_path / "file").write_text("")
    monkeypatch.setenv("MNIST_TUI_HOME", str(tmp_path / "file" / "store"))
    monkeypatch.setattr(headless, "KerasTrainer", Scripted)
    status = headless.run_headless(TrainConfig(epochs=2), log_file=tmp_path / "log")
    out, err = capfd.readouterr()
    assert status == 0 and "Test accuracy" in out and "Recorded" not in out
    assert err.count("\n") == 1 and err.startswith(
        "mnist-tui: This run is not being recorded: cannot open the run store"
    )


@pytest.mark.keras
def test_a_real_headless_run_is_recorded(headless_run):
    result = headless_run.result
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 epochs, batch 64" in result.stdout and "Recorded as run 1" in result.stdout
    run = open_store(headless_run.store).get_run(1)
    assert (run.status, run.epochs_done, run.train_size, run.test_size) == (FINISHED, 2, 640, 10_000)
    assert run.has_model and run.model_path.stat().st_size > 100_000
    assert open_store(headless_run.store).load_probabilities(1).shape == (10_000, 10)
    assert run.versions["tensorflow"] and run.versions["keras"] and run.data_fingerprint
    print(f"a recorded mlp run on disk: model {run.model_path.stat().st_size:,} B, folder {run.size_bytes:,} B")


def test_a_run_killed_with_sigkill_reads_as_interrupted(tmp_path, cli):
    code = (
        "import time; from mnist_tui.config import TrainConfig; from mnist_tui.runs import Recorder, open_store;"
        "recorder = Recorder(open_store(), lambda event: None, TrainConfig()); print(recorder.start(), flush=True);"
        "time.sleep(60)"
    )
    env = {**os.environ, "MNIST_TUI_HOME": str(tmp_path)}
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout.readline().strip() == "1"
        assert json.loads(cli("runs", "--json", home=tmp_path).stdout)[0]["status"] == "running"
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
    assert json.loads(cli("runs", "--json", home=tmp_path).stdout)[0]["status"] == "interrupted"


def test_runs_that_never_trained_are_listed_with_all(home, cli):
    record(home, script(outcome="failed", epochs=0))  # run 9: failed before its first epoch
    listed = cli("runs", home=home)
    assert listed.returncode == 0, listed.stderr
    assert [line.split()[0] for line in listed.stdout.splitlines()[1:-1]] == ["8", "7", "6", "5", "4", "3", "2", "1"]
    assert listed.stdout.splitlines()[-1] == "(1 run that never trained is not listed: mnist-tui runs --all lists them)"
    everything = cli("runs", "--all", home=home)
    assert everything.stdout.splitlines()[1].split()[0] == "9"
    assert len(json.loads(cli("runs", "--json", home=home).stdout)) == 9  # exports keep every run
