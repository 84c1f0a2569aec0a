"""The benchmark scripts run end to end on tiny settings, so that they cannot rot. No timing is asserted."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.data import ROOT

pytestmark = pytest.mark.keras


def run_part(data, part: str, model) -> subprocess.CompletedProcess:
    """``benchmarks/run.py --only PART`` on tiny settings (start-up: one launch, as ``--rounds 0`` gives it;
    browsing: the saved ``model``)."""
    return subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "run.py"),
            "--data",
            str(data),
            "--epochs",
            "1",
            "--train-limit",
            "300",
            "--rounds",
            "0" if part == "startup" else "1",
            "--presses",
            "12",
            "--test-limit",
            "1000",
            "--only",
            part,
            *(["--model", str(model)] if part == "browse" else []),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )


def test_benchmarks_run_on_tiny_settings(real_mnist, headless_run):
    # Every part of the script, two at a time (each in its own fresh processes, as the script
    # runs them): the longest test of the suite, so it should not hold one core while the other
    # has finished everything else. Its output is read in the script's own order. Browsing
    # opens the shared headless run's model rather than training one of its own.
    parts = ("training", "peers", "startup", "browse")
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda part: run_part(real_mnist, part, headless_run.model), parts))
    for result in results:
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    out = "".join(result.stdout for result in results)
    for way in ("plain", "headless", "app"):
        assert any(line.startswith(way) for line in out.splitlines()), out
    assert "headless / plain:" in out and "app / headless:" in out
    assert "first frame:" in out and "nan" not in out.split("Start-up")[1].split("Browsing")[0]
    assert out.count("all keys") == 2  # idle and while training


def test_lever_benchmark_runs_on_tiny_settings(real_mnist):
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "levers.py"),
            "--data",
            str(real_mnist),
            "--epochs",
            "1",
            "--train-limit",
            "300",
            "--rounds",
            "1",
            "--only",
            "spe50+threads1/1",
            "mnist-tui",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    rows = [line.split()[0] for line in result.stdout.split("what changes")[1].splitlines()[1:] if line]
    assert rows == ["plain", "spe50+threads1/1", "mnist-tui"], result.stdout


def test_ui_cost_benchmark_runs_on_tiny_settings():
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "ui_cost.py"), "--seconds", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    live = next(line for line in result.stdout.splitlines() if line.startswith("live events"))
    assert int(live.split()[2]) >= 3  # batch events reached the screen (4 a second by default)


def test_process_benchmark_runs_on_tiny_settings(real_mnist):
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "process.py"),
            "--data",
            str(real_mnist),
            "--only",
            "predict",
            "--predictions",
            "20",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    rows = [line.split()[0] for line in result.stdout.split("max")[1].splitlines() if line]
    assert rows == ["model", "in"], result.stdout
