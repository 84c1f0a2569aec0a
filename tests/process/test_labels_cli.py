"""``mnist-tui labels`` as a user runs it: only the test set, a wrong file refused before TensorFlow, a quiet terminal."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from mnist_tui.datasets import MNIST
from tests.support.data import ROOT, tiny_arrays, write_idx_dir

DEAD_MIRROR = "http://127.0.0.1:9/"
"""Nothing listens there: a download attempt fails loudly ("could not download ...")."""

TINY_CLI = """
import sys
from mnist_tui.datasets import Dataset
Dataset.size_of = lambda self, split: {"train": 60, "test": 20}[split]  # the test's tiny MNIST
from mnist_tui.cli import main
status = main(sys.argv[1:])
print("imported:", [m for m in ("tensorflow", "keras") if m in sys.modules])
sys.exit(status)
"""


def isolated_env(tmp_path: Path) -> dict[str, str]:
    """No MNIST anywhere (no $MNIST_TUI_DATA, empty caches), a dead mirror, a store and a log of the test's own."""
    env = {k: v for k, v in os.environ.items() if k != "MNIST_TUI_DATA"}
    env.update(
        HOME=str(tmp_path / "home"),
        KERAS_HOME=str(tmp_path / "keras"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        MNIST_TUI_HOME=str(tmp_path / "store"),
        MNIST_TUI_MIRRORS=DEAD_MIRROR,
    )
    return env


def labels(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", TINY_CLI, "labels", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=isolated_env(tmp_path),
        timeout=240,
    )


def cache_with_only(tmp_path: Path, arrays, split: str) -> Path:
    """Only ``split``'s two files, in the app's cache: where MNIST is looked for before a download."""
    everything = write_idx_dir(tmp_path / "all", arrays)
    cache = tmp_path / "cache" / "mnist-tui"
    cache.mkdir(parents=True)
    for spec in MNIST.files:
        if spec.split == split:
            (cache / spec.gz_name).write_bytes((everything / spec.gz_name).read_bytes())
    return cache


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, body in members.items():
            archive.writestr(name, body)
    return path


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        (
            "notes.keras",
            lambda p: p.write_text("not a model at all"),
            "a .keras file is a zip archive; this is not one",
        ),
        ("model.h5", lambda p: p.write_bytes(b"\x89HDF\r\n"), "its name must end in .keras"),
        ("data.keras", lambda p: write_zip(p, {"x.npy": b"0"}), "a zip archive without config.json or metadata.json"),
        ("missing.keras", lambda p: None, "no such model file"),
    ],
)
def test_a_file_that_is_not_a_keras_model_is_refused_before_tensorflow(tmp_path, name, make, message):
    path = tmp_path / name
    make(path)
    started = time.monotonic()
    result = labels(tmp_path, "--model", str(path))
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.startswith(f"mnist-tui labels: error: {path}: ") and result.stderr.count("\n") == 1
    assert message in result.stderr, result.stderr
    assert "imported: []" in result.stdout  # refused before TensorFlow loaded
    assert time.monotonic() - started < 30


def test_a_run_without_saved_labels_reads_only_the_test_files(tmp_path):
    from mnist_tui.config import TrainConfig
    from mnist_tui.runs import open_store

    arrays = tiny_arrays(n_train=60, n_test=20, seed=3)
    cache_with_only(tmp_path, arrays, "test")
    store = open_store(tmp_path / "store")
    run_id = store.create_run(TrainConfig(epochs=1))
    probabilities = np.full((20, 10), 0.1, np.float32)
    # an older run's file: probabilities only, the labels come from MNIST's test files
    np.savez(store.predictions_path(run_id), probabilities=probabilities)
    store.close()

    result = labels(tmp_path, "--run", str(run_id), "--csv", "--top", "3")
    assert result.returncode == 0, result.stderr
    assert "could not download" not in result.stderr
    assert result.stdout.startswith("rank,index,label")
    assert not any((tmp_path / "cache" / "mnist-tui").glob("train-*"))


@pytest.mark.keras
def test_a_model_is_ranked_from_the_test_files_alone_with_a_quiet_terminal(tmp_path):
    import keras

    arrays = tiny_arrays(n_train=60, n_test=20, seed=4)
    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(10, "softmax")])
    path = tmp_path / "tiny.keras"
    model.save(path)

    # without --data: the test files in the cache are enough, the training files are never fetched
    cache_with_only(tmp_path, arrays, "test")
    result = labels(tmp_path, "--model", str(path), "--csv", "--top", "5")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("rank,index,label") and len(result.stdout.splitlines()) == 1 + 5 + 1
    assert result.stderr == ""  # no download attempt, and none of TensorFlow's start-up lines

    # with --data: nothing of TensorFlow's on the terminal either; it is in the log
    data = write_idx_dir(tmp_path / "mnist", arrays)
    result = labels(tmp_path, "--model", str(path), "--data", str(data), "--top", "5")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "most suspicious labels of 20 test images" in result.stdout
    assert (tmp_path / "cache" / "mnist-tui" / "mnist-tui.log").exists()
