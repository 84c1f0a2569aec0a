"""A sweep started from the app: the command line it runs reads back into the same sweep, and the process group ends with the app."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from mnist_tui.commands.sweep import parse_sweep_args
from mnist_tui.config import DEFAULTS, TrainConfig
from mnist_tui.sweeps.launch import SweepRequest, config_flags, launch_sweep, sweep_command
from mnist_tui.worker import processes


def test_the_command_line_reads_the_request_back() -> None:
    base = TrainConfig(arch="cnn", epochs=2, train_limit=1000, hidden_units=64, learning_rate=3e-4, validate=True)
    request = SweepRequest(
        "s1", "lr=1e-4..1e-2:log dropout=0..0.5", base, trials=None, timeout=90, prune="none", workers="auto", seed=5
    )
    args = parse_sweep_args(request.argv())
    assert (args.name, args.space, args.trials, args.timeout, args.prune) == ("s1", request.space, None, 90, "none")
    # what the space searches is not fixed (the run's 3e-4 would take lr out of the search)
    assert args.fixed == {"arch": "cnn", "epochs": 2, "train_limit": 1000, "hidden_units": 64, "seed": 5}
    assert args.workers >= 1 and not args.join


def test_every_option_off_its_default_becomes_a_flag() -> None:
    config = TrainConfig(validate=False, precision="float32", dropout=0.125, data=Path("/tmp"))
    flags = config_flags(config)
    assert flags == ["--data", "/tmp", "--dropout", "0.125", "--no-validation", "--precision", "float32"]
    assert config_flags(DEFAULTS) == [] and config_flags(config, {"dropout", "data"})[:1] == ["--no-validation"]


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(") ")[1].startswith("Z")  # a zombie: ended, not yet reaped by its parent


def test_quitting_ends_the_command_and_every_process_it_started(tmp_path) -> None:
    pids = tmp_path / "pids"
    script = (
        "import subprocess, sys, time, pathlib;"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
        f"pathlib.Path({str(pids)!r}).write_text(str(child.pid));"
        "time.sleep(60)"
    )
    live = processes.start_command([sys.executable, "-c", script], output=tmp_path / "log")
    deadline = time.monotonic() + 20
    while not pids.exists() or not pids.read_text():
        assert time.monotonic() < deadline and live.process.exitcode is None
        time.sleep(0.05)
    worker = int(pids.read_text())
    assert live.process in processes.live_processes()
    processes.end_all(time.monotonic() + 0.5)
    deadline = time.monotonic() + 5
    while not (gone(live.process.pid) and gone(worker)):
        assert time.monotonic() < deadline, "a process of the command's group is still running"
        time.sleep(0.05)
    assert live.process not in processes.live_processes() and live.process.exitcode is not None


def test_a_sweep_that_cannot_start_says_why_in_its_log(tmp_path) -> None:
    request = SweepRequest("bad", "lr=1e-4..1e-2:log", TrainConfig(data=tmp_path / "nowhere"), trials=2)
    started = launch_sweep(request, tmp_path)
    deadline = time.monotonic() + 60
    while started.running():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert started.process.exitcode == 2
    assert "argument --data" in started.why_ended() and "nowhere" in started.why_ended()
    assert started.log == tmp_path / "sweeps" / "bad.log"


@pytest.mark.parametrize("args", [("--join", "x")])
def test_the_workers_the_command_line_starts_run_the_same_command(args) -> None:
    assert sweep_command(*args) == [sys.executable, "-m", "mnist_tui", "sweep", *args]
