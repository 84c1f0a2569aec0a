"""The app with its real trainer process: a tiny Keras run, and TensorFlow never in the UI process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.support.data import ROOT

pytestmark = pytest.mark.keras


def test_a_real_run_through_the_trainer_process_keeps_tensorflow_out_of_the_ui(tmp_path, real_mnist):
    data = real_mnist
    out = tmp_path / "m.keras"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "XDG_CACHE_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "tests.process.ui_process_run", str(data), str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["modules"] == [], "the UI process imported " + ", ".join(report["modules"])
    assert report["test_images"] == 10_000
    assert report["draw_screen"] and report["prediction_sum"] == pytest.approx(1.0, abs=1e-4)
    assert report["why_shape"] == [1, 28, 28] and report["neighbours"] == 3
    assert report["saved"] and out.stat().st_size > 1000
    assert report["second_pid"] != report["first_pid"]
    assert report["first_ended"], "the replaced run's model process is still running"
    assert report["first_ended_as_the_second_started"], "two model processes at once during the new run"
    assert report["processes_left"] == 0
