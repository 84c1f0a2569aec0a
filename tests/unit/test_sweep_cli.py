"""``mnist-tui sweep`` and ``mnist-tui sweeps`` in-process, with a scripted trainer in place of Keras."""

from __future__ import annotations

import json

import pytest

from mnist_tui.cli import main
from mnist_tui.commands import sweep as sweep_command
from tests.support.sweeps import FakeSweepTrainer


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_TUI_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(sweep_command, "keras_trainers", lambda spec: FakeSweepTrainer)
    return tmp_path / "home"


def test_headless_sweep_prints_a_row_per_trial_and_the_best(home, capsys) -> None:
    assert main(["sweep", "--trials", "5", "--epochs", "3", "--seed", "2", "--name", "s1", "--headless"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Sweep s1: lr=0.0001..0.01:log hidden=32..512:log")
    header = out[1].split()
    assert header[:2] == ["trial", "state"] and "accuracy" in header and "run" in header
    rows = [line.split() for line in out[2:7]]
    assert [r[0] for r in rows] == ["0", "1", "2", "3", "4"]
    assert all(len(line) < 120 for line in out[1:7])  # one line per trial, never wrapped into a pipe
    assert out[7].startswith("5 trials:") and out[8].startswith("Best: trial ")


def test_the_command_line_fixes_an_option_the_space_searches(home, capsys) -> None:
    assert main(["sweep", "--trials", "2", "--epochs", "2", "--learning-rate", "0.003", "--name", "fixed"]) == 0
    capsys.readouterr()
    assert main(["sweeps", "fixed", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert len(records) == 2 and "lr" not in records[0] and {"hidden", "dropout", "batch"} <= set(records[0])
    from mnist_tui.runs import open_store

    runs = open_store(home).list_runs()
    assert {run.config["learning_rate"] for run in runs} == {0.003}
    assert sorted(run.name for run in runs) == ["fixed #0", "fixed #1"]


def test_resume_goes_on_and_sweeps_lists_and_exports(home, capsys) -> None:
    assert main(["sweep", "--trials", "2", "--epochs", "2", "--seed", "1", "--name", "r"]) == 0
    assert main(["sweep", "--resume", "r"]) == 0  # nothing left: 2 of 2 done
    capsys.readouterr()
    assert main(["sweeps"]) == 0
    listing = capsys.readouterr().out
    assert "r " in listing and "2" in listing
    assert main(["sweeps", "r", "--csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("trial,state,lr,hidden,dropout,batch,accuracy") and len(lines) == 3


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["sweep", "--space", "lr=1..0.1"], "low end must be below"),
        (["sweep", "--space", "speed=1..2"], "cannot search 'speed'"),
        (["sweep", "--name", "../x"], "a sweep's name is"),
        (["sweep", "--resume", "nope"], "there is no sweep 'nope'"),
        (["sweep", "--join", "x", "--epochs", "3"], "give only the name"),
        (["sweep", "--trials", "0"], "trials must be at least 1"),
        (
            ["sweep", "--storage", "postgresql://nobody@127.0.0.1:9/none", "--name", "pg"],
            "cannot open the sweep storage",
        ),
        (["sweeps", "nope"], "there is no sweep 'nope'"),
        (["sweeps", "--csv"], "export one sweep's trials"),
    ],
)
def test_bad_input_is_one_line_and_a_non_zero_exit(home, capsys, argv, says) -> None:
    try:
        status = main(argv)
    except SystemExit as exit:
        status = exit.code
    assert status != 0
    err = capsys.readouterr().err.strip()
    assert says in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_a_name_is_never_reused(home, capsys) -> None:
    assert main(["sweep", "--trials", "1", "--epochs", "1", "--name", "once"]) == 0
    assert main(["sweep", "--trials", "1", "--epochs", "1", "--name", "once"]) == 1
    assert "exists (--resume once" in capsys.readouterr().err
