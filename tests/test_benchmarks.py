"""The benchmark scripts run end to end on tiny settings, so that they cannot rot. No timing is asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.keras

ROOT = Path(__file__).resolve().parents[1]


def test_benchmarks_run_on_tiny_settings(real_mnist):
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--data", str(real_mnist), "--epochs", "1",
         "--train-limit", "300", "--rounds", "1", "--presses", "12"],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    out = result.stdout
    for way in ("plain", "headless", "app"):
        assert any(line.startswith(way) for line in out.splitlines()), out
    assert "headless / plain:" in out and "app / headless:" in out
    assert "first frame:" in out and "nan" not in out.split("Start-up")[1].split("Browsing")[0]
    assert out.count("all real keys") == 2  # idle and while training
