"""Tiny MNIST-shaped data made on the fly, and where the real data is."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
"""The project's root (where pyproject.toml is)."""

SHARED_MNIST = Path(os.environ.get("MNIST_TUI_DATA") or ROOT.parent / "shared" / "data" / "mnist")
"""The real MNIST files: ``$MNIST_TUI_DATA`` as the app reads it, else ``../shared/data/mnist``."""


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
