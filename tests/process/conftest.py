"""Process tests: real trainer and model processes, the CLI in subprocesses, the app in a pseudo-terminal, the benchmarks' smoke runs."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.data import SHARED_MNIST

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # `pytest -m process` runs this tier alone (as `pytest tests/process` does)
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.process)


@dataclass(frozen=True)
class HeadlessRun:
    """One real ``mnist-tui --headless`` run: 2 epochs of the MLP on 640 images, saved and recorded.

    Several tests read the same run (its output, its saved model, its record in the store)
    rather than each training a model of its own in a TensorFlow process: ``folder`` holds
    ``m.keras`` (``--save``), ``m.history.json`` beside it, ``log`` (``--log-file``) and the
    run store ``store`` it was recorded in.
    """

    folder: Path
    result: subprocess.CompletedProcess

    @property
    def model(self) -> Path:
        return self.folder / "m.keras"

    @property
    def store(self) -> Path:
        return self.folder / "store"


HEADLESS_RUN = ("--epochs", "2", "--batch-size", "64", "--train-limit", "640", "--seed", "1")
"""The shared run's options, beside ``--data``, ``--save`` and ``--log-file``."""


@pytest.fixture(scope="session")
def headless_run(tmp_path_factory: pytest.TempPathFactory) -> HeadlessRun:
    """The shared real headless run (tests that read it are chained onto one worker: tests/support/schedule.py)."""
    if not SHARED_MNIST.is_dir():
        pytest.skip(f"real MNIST not found in {SHARED_MNIST} (set MNIST_TUI_DATA to its folder)")
    folder = tmp_path_factory.mktemp("headless-run")
    command = [sys.executable, "-m", "mnist_tui", "--headless", "--data", str(SHARED_MNIST), *HEADLESS_RUN]
    command += ["--save", str(folder / "m.keras"), "--log-file", str(folder / "log")]
    env = {**os.environ, "MNIST_TUI_HOME": str(folder / "store")}
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    return HeadlessRun(folder, result)
