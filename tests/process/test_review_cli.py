"""``mnist-tui images --where``, ``labels --where`` and ``tags`` (list, CSV, export), in-process on tiny data."""

from __future__ import annotations

import csv
import gzip
import io

import numpy as np
import pytest

from mnist_tui.config import TrainConfig
from mnist_tui.data import load_idx_dir, parse_idx, read_maybe_gzip
from mnist_tui.datasets import Dataset
from mnist_tui.runs import open_store
from mnist_tui.runs.tags import TagBook
from tests.support.cli import run_cli
from tests.support.data import tiny_arrays, write_idx_dir

N = 20


@pytest.fixture
def setup(tmp_path, monkeypatch):
    """Tiny MNIST (20 test images), a store of the test's own with one run's probabilities."""
    monkeypatch.setattr(Dataset, "size_of", lambda self, split: {"train": 60, "test": N}[split])
    monkeypatch.setenv("MNIST_TUI_HOME", str(tmp_path / "store"))
    arrays = tiny_arrays(n_test=N)
    data = write_idx_dir(tmp_path / "mnist", arrays)
    labels = arrays[3].astype(np.int64)
    probabilities = np.full((N, 10), 0.02)
    predicted = labels.copy()
    predicted[[3, 7]] = (labels[[3, 7]] + 1) % 10  # two mistakes
    probabilities[np.arange(N), predicted] = 0.82
    store = open_store()
    run_id = store.create_run(TrainConfig(epochs=1))
    store.save_probabilities(run_id, probabilities, labels)
    return data, run_id, labels, TagBook(store, size=N)


def test_images_where_lists_what_the_query_selects(setup, capsys):
    data, run_id, labels, book = setup
    book.add([7], "mislabelled")
    status, out, _ = run_cli(
        capsys, "images", "--run", str(run_id), "--data", str(data), "--where", "mistakes", "--csv"
    )
    assert status == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [int(r["index"]) for r in rows] == [3, 7]
    assert rows[1]["tags"] == "mislabelled" and rows[1]["label"] == str(labels[7])
    assert float(rows[0]["conf"]) == pytest.approx(0.82) and float(rows[0]["score"]) == pytest.approx(0.98)
    status, out, _ = run_cli(capsys, "images", "--run", str(run_id), "--data", str(data), "--where", "tag mislabelled")
    assert status == 0 and "1 test images where tag mislabelled" in out and "mislabelled" in out.splitlines()[-1]


def test_a_bad_query_is_one_line_with_a_caret_and_no_loading(setup, capsys):
    data, run_id, *_ = setup
    status, out, err = run_cli(capsys, "images", "--run", "999", "--where", "label 7 and conf < high")
    assert status == 2 and out == ""
    assert err.splitlines() == [
        "mnist-tui images: error: --where: column 20: expected a number from 0 to 1 (or a percentage) after conf, got 'high'",
        "  label 7 and conf < high",
        "  " + " " * 19 + "^",
    ]
    status, _, err = run_cli(capsys, "labels", "--run", str(run_id), "--where", "pred")
    assert status == 2 and "mnist-tui labels: error: --where: column 5" in err


def test_labels_where_filters_the_ranking(setup, capsys):
    data, run_id, *_ = setup
    status, out, _ = run_cli(
        capsys, "labels", "--run", str(run_id), "--data", str(data), "--csv", "--where", "mistakes"
    )
    assert status == 0
    assert [int(r["index"]) for r in csv.DictReader(io.StringIO(out))] == [3, 7]


def test_tags_lists_and_exports_a_corrected_copy_that_round_trips(setup, capsys, tmp_path):
    data, run_id, labels, book = setup
    book.add([3, 5], "mislabelled", run_id=run_id)
    book.relabel([3], (int(labels[3]) + 1) % 10, run_id=run_id)
    status, out, _ = run_cli(capsys, "tags", "--csv", "--data", str(data))
    assert status == 0
    assert out.splitlines() == [
        "index,label,your_label,tags",
        f"3,{labels[3]},{(labels[3] + 1) % 10},mislabelled",
        f"5,{labels[5]},,mislabelled",
    ]
    target = tmp_path / "out" / "t10k-labels-idx1-ubyte.gz"
    target.parent.mkdir()
    status, out, _ = run_cli(capsys, "tags", "--data", str(data), "--export", str(target))
    assert status == 0 and "1 corrected" in out
    exported = parse_idx(read_maybe_gzip(target), str(target), "labels")
    original = load_idx_dir(data, splits=("test",)).y_test
    assert exported[3] == (labels[3] + 1) % 10
    assert np.array_equal(np.delete(exported, 3), np.delete(original, 3))  # the rest as they were
    assert gzip.decompress((data / "t10k-labels-idx1-ubyte.gz").read_bytes())[8:] == original.tobytes()  # untouched
    changes = list(
        csv.DictReader(io.StringIO((tmp_path / "out" / "t10k-labels-idx1-ubyte.gz.changes.csv").read_text()))
    )
    assert [(r["index"], r["your_label"], r["run"]) for r in changes] == [("3", str((labels[3] + 1) % 10), str(run_id))]
    # again: refused without --overwrite, the file as it was
    before = target.read_bytes()
    status, _, err = run_cli(capsys, "tags", "--data", str(data), "--export", str(target))
    assert status == 1 and "exists; pass --overwrite" in err and target.read_bytes() == before
    book.unrelabel([3])
    status, out, _ = run_cli(capsys, "tags", "--data", str(data), "--export", str(target), "--overwrite")
    assert status == 0 and "0 corrected" in out
    # the dataset's own file is never a target
    status, _, err = run_cli(
        capsys, "tags", "--data", str(data), "--export", str(data / "t10k-labels-idx1-ubyte.gz"), "--overwrite"
    )
    assert status == 1 and "the dataset's own labels file" in err


def test_tags_with_nothing_tagged(setup, capsys):
    data, *_ = setup
    status, out, _ = run_cli(capsys, "tags", "--data", str(data))
    assert status == 0 and out.startswith("No tagged or relabelled test images yet")
