"""Shared fixtures: tiny MNIST-shaped data made on the fly, and the real data when it is beside the project."""

from __future__ import annotations

import gzip
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest

# Tests never draw over a real terminal and never show TensorFlow's chatter.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Runs recorded by tests (and by the app and headless runs they start) never reach the
# person's own run store.
os.environ["MNIST_TUI_HOME"] = tempfile.mkdtemp(prefix="mnist-tui-test-home-")

ROOT = Path(__file__).resolve().parent.parent
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"


def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    """Encode a uint8 array as an IDX file (images: 3-D, labels: 1-D)."""
    array = np.asarray(array, dtype=np.uint8)
    if magic is None:
        magic = 2051 if array.ndim == 3 else 2049
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


def tiny_arrays(n_train: int = 60, n_test: int = 20, seed: int = 0):
    rng = np.random.default_rng(seed)
    x_train = rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8)
    y_train = rng.integers(0, 10, size=n_train, dtype=np.uint8)
    x_test = rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8)
    y_test = rng.integers(0, 10, size=n_test, dtype=np.uint8)
    return x_train, y_train, x_test, y_test


def write_idx_dir(directory: Path, arrays=None, *, gz: bool = True, dotted: bool = False) -> Path:
    """Write the four IDX files for ``arrays`` into ``directory``."""
    from mnist_tui.datasets import MNIST

    directory.mkdir(parents=True, exist_ok=True)
    arrays = arrays or tiny_arrays()
    for spec, array in zip(MNIST.files, arrays):
        name = spec.name.replace("-idx", ".idx") if dotted else spec.name
        raw = idx_bytes(array)
        if gz:
            (directory / (name + ".gz")).write_bytes(gzip.compress(raw))
        else:
            (directory / name).write_bytes(raw)
    return directory


@pytest.fixture
def tiny_dir(tmp_path: Path) -> Path:
    return write_idx_dir(tmp_path / "mnist")


@pytest.fixture
def real_mnist() -> Path:
    if not SHARED_MNIST.is_dir():
        pytest.skip("real MNIST not found beside the project (../shared/data/mnist)")
    return SHARED_MNIST


async def wait_until(pilot, condition, tries: int = 100) -> None:
    """Let the app run until ``condition()`` holds (at most ``tries`` pauses of 50 ms)."""
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition never held")
