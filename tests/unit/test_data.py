"""The MNIST data layer: IDX and .npz parsing, validation and the search order."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from mnist_tui import data
from mnist_tui.data import DataError, load_idx_dir, load_mnist, load_npz, load_path, parse_idx
from mnist_tui.datasets import MNIST
from tests.support.data import idx_bytes, tiny_arrays, write_idx_dir


def test_parse_idx_round_trip():
    images = np.arange(2 * 28 * 28, dtype=np.uint32).reshape(2, 28, 28).astype(np.uint8)
    parsed = parse_idx(idx_bytes(images), "x", "images")
    assert parsed.shape == (2, 28, 28) and parsed.dtype == np.uint8
    np.testing.assert_array_equal(parsed, images)
    labels = parse_idx(idx_bytes(np.array([3, 1, 4])), "y", "labels")
    assert labels.tolist() == [3, 1, 4]


@pytest.mark.parametrize(
    ("raw", "kind", "message"),
    [
        (idx_bytes(np.zeros((2, 28, 28)), magic=2049), "images", "magic number 2049, expected 2051"),
        (idx_bytes(np.zeros(3), magic=2051), "labels", "magic number 2051, expected 2049"),
        (idx_bytes(np.zeros((2, 27, 28))), "images", "images are 27x28, expected 28x28"),
        (idx_bytes(np.zeros((2, 28, 28)))[:-10], "images", "truncated or padded"),
        (idx_bytes(np.zeros((2, 28, 28))) + b"\0", "images", "truncated or padded"),
        (idx_bytes(np.array([1, 2, 10])), "labels", "labels must be 0..9, found 10"),
        (b"\0\0\x08", "labels", "too short for an IDX header"),
    ],
    ids=["images-magic", "labels-magic", "dimensions", "truncated", "padded", "label-range", "short"],
)
def test_parse_idx_rejects_broken_files(raw, kind, message):
    with pytest.raises(DataError, match="^bad.idx: .*" + message.replace("(", r"\(").replace(")", r"\)")):
        parse_idx(raw, "bad.idx", kind)


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("dotted", [True, False])
def test_load_idx_dir_accepts_every_spelling(tmp_path, gz, dotted):
    arrays = tiny_arrays()
    write_idx_dir(tmp_path, arrays, gz=gz, dotted=dotted)
    loaded = load_idx_dir(tmp_path, check_sizes=False)
    for got, want in zip((loaded.x_train, loaded.y_train, loaded.x_test, loaded.y_test), arrays):
        np.testing.assert_array_equal(got, want)


def test_load_idx_dir_checks_split_sizes(tiny_dir):
    with pytest.raises(DataError, match="train split has 60 images, expected 60,000"):
        load_idx_dir(tiny_dir)


def test_missing_file_is_named(tiny_dir):
    (tiny_dir / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="missing t10k-labels-idx1-ubyte.gz"):
        load_idx_dir(tiny_dir, check_sizes=False)


def test_count_mismatch(tmp_path):
    x_train, y_train, x_test, y_test = tiny_arrays()
    write_idx_dir(tmp_path, (x_train, y_train[:-1], x_test, y_test))
    with pytest.raises(DataError, match="train has 60 images but 59 labels"):
        load_idx_dir(tmp_path, check_sizes=False)


def test_truncated_gzip(tiny_dir):
    path = tiny_dir / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte.gz: truncated gzip file"):
        load_idx_dir(tiny_dir, check_sizes=False)


def test_corrupt_gzip(tiny_dir):
    path = tiny_dir / "train-images-idx3-ubyte.gz"
    raw = bytearray(path.read_bytes())
    raw[20:40] = b"\xff" * 20
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte.gz: (corrupt gzip stream|truncated)"):
        load_idx_dir(tiny_dir, check_sizes=False)


def test_load_path_errors(tmp_path):
    with pytest.raises(DataError, match="no such file or directory"):
        load_path(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="directory is empty"):
        load_path(tmp_path / "empty")


def save_npz(path: Path, **arrays) -> Path:
    np.savez(path, **arrays)
    return path


def test_npz_valid(tmp_path):
    x_train, y_train, x_test, y_test = tiny_arrays()
    path = save_npz(tmp_path / "mnist.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    loaded = load_npz(path, check_sizes=False)
    np.testing.assert_array_equal(loaded.x_test, x_test)
    # a directory holding mnist.npz works too
    assert load_path(tmp_path, check_sizes=False).y_train.tolist() == y_train.tolist()


def test_npz_missing_keys(tmp_path):
    x_train, y_train, _, _ = tiny_arrays()
    path = save_npz(tmp_path / "m.npz", x_train=x_train, y_train=y_train)
    with pytest.raises(DataError, match="missing arrays x_test, y_test"):
        load_npz(path, check_sizes=False)


def test_npz_wrong_shape(tmp_path):
    x_train, y_train, x_test, y_test = tiny_arrays()
    path = save_npz(tmp_path / "m.npz", x_train=x_train.reshape(60, 784), y_train=y_train, x_test=x_test, y_test=y_test)
    with pytest.raises(DataError, match=r"x_train has shape \(60, 784\)"):
        load_npz(path, check_sizes=False)


def test_npz_object_arrays_are_never_unpickled(tmp_path):
    x_train, y_train, x_test, y_test = tiny_arrays()
    objects = np.array([{"evil": 1}] * 60, dtype=object)
    path = save_npz(tmp_path / "m.npz", x_train=x_train, y_train=objects, x_test=x_test, y_test=y_test)
    with pytest.raises(DataError, match="object arrays"):
        load_npz(path, check_sizes=False)


def test_npz_not_a_zip(tmp_path):
    path = tmp_path / "m.npz"
    path.write_text("hello")
    with pytest.raises(DataError, match="not a valid .npz"):
        load_npz(path)


def test_npz_labels_out_of_range(tmp_path):
    x_train, y_train, x_test, y_test = tiny_arrays()
    y_train = y_train.astype(np.int64)
    y_train[3] = 12
    path = save_npz(tmp_path / "m.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    with pytest.raises(DataError, match="labels must be 0..9, found 12"):
        load_npz(path, check_sizes=False)


# --------------------------------------------------------------------------- search order


def full_size_npz(path: Path, marker: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    x_train = np.zeros((60_000, 28, 28), np.uint8)
    y_train = np.full(60_000, marker, np.uint8)
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_train[:10_000], y_test=y_train[:10_000])
    return path


def test_search_order(tmp_path, monkeypatch):
    env = {
        "KERAS_HOME": str(tmp_path / "keras"),
        "XDG_CACHE_HOME": str(tmp_path / "xdg"),
        data.MIRRORS_ENV: "http://127.0.0.1:9/",
    }
    # nothing anywhere, and no mirror answers -> one clear message naming --data
    with pytest.raises(DataError, match="pass --data DIR"):
        load_mnist(env=env, timeout=2)
    keras_file = full_size_npz(tmp_path / "keras" / "datasets" / "mnist.npz", marker=1)
    assert load_mnist(env=env).source == str(keras_file)
    explicit = full_size_npz(tmp_path / "explicit" / "mnist.npz", marker=2)
    assert load_mnist(env={**env, data.DATA_ENV: str(explicit)}).y_train[0] == 2
    other = full_size_npz(tmp_path / "other.npz", marker=3)
    # an explicit path wins over the environment variable
    assert load_mnist(other, env={**env, data.DATA_ENV: str(explicit)}).y_train[0] == 3


def test_app_cache_used_before_download(tmp_path):
    cache = tmp_path / "xdg" / "mnist-tui"
    x = np.zeros((60_000, 28, 28), np.uint8)
    y = np.zeros(60_000, np.uint8)
    write_idx_dir(cache, (x, y, x[:10_000], y[:10_000]))
    env = {
        "KERAS_HOME": str(tmp_path / "keras"),
        "XDG_CACHE_HOME": str(tmp_path / "xdg"),
        data.MIRRORS_ENV: "http://127.0.0.1:9/",
    }
    assert load_mnist(env=env).source == str(cache)


def test_test_split_alone_needs_only_the_test_files(tmp_path, monkeypatch):
    cache = tmp_path / "xdg" / "mnist-tui"
    x, y = np.zeros((10_000, 28, 28), np.uint8), np.full(10_000, 7, np.uint8)
    write_idx_dir(tmp_path / "four", (x[:1], y[:1], x, y))
    cache.mkdir(parents=True)
    for spec in MNIST.files:
        if spec.split == "test":
            (cache / spec.gz_name).write_bytes((tmp_path / "four" / spec.gz_name).read_bytes())
    env = {
        "KERAS_HOME": str(tmp_path / "keras"),
        "XDG_CACHE_HOME": str(tmp_path / "xdg"),
        data.MIRRORS_ENV: "http://127.0.0.1:9/",  # a download would fail loudly
    }
    loaded = load_mnist(env=env, splits=("test",), timeout=2)
    assert loaded.x_test.shape == (10_000, 28, 28) and loaded.y_test[0] == 7
    assert loaded.x_train.shape == (0, 28, 28) and loaded.y_train.shape == (0,)
    with pytest.raises(DataError, match="could not download train-images"):
        load_mnist(env=env, timeout=2)  # all splits: the training files are missing
    # with nothing cached, only the test files are downloaded
    asked = []
    monkeypatch.setattr(data, "download_mnist", lambda target, mirrors, files, **kw: asked.extend(files))
    with pytest.raises(DataError):
        load_mnist(env={**env, "XDG_CACHE_HOME": str(tmp_path / "empty")}, splits=("test",))
    assert [spec.gz_name for spec in asked] == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


def test_test_split_alone_from_a_directory_and_an_npz(tmp_path):
    arrays = tiny_arrays()
    directory = write_idx_dir(tmp_path / "mnist", arrays)
    for spec in MNIST.files:
        if spec.split == "train":
            (directory / spec.gz_name).unlink()
    loaded = load_path(directory, check_sizes=False, splits=("test",))
    np.testing.assert_array_equal(loaded.x_test, arrays[2])
    assert len(loaded.x_train) == 0
    with pytest.raises(DataError, match="missing train-images"):
        load_path(directory, check_sizes=False)
    npz = tmp_path / "test-only.npz"
    np.savez(npz, x_test=arrays[2], y_test=arrays[3])
    loaded = load_npz(npz, check_sizes=False, splits=("test",))
    np.testing.assert_array_equal(loaded.y_test, arrays[3])
    assert loaded.x_train.shape == (0, 28, 28)
    with pytest.raises(DataError, match="missing arrays x_train, y_train"):
        load_npz(npz, check_sizes=False)


# --------------------------------------------------------------------------- real data


def test_real_mnist(real_mnist):
    for spec in MNIST.files:
        path = real_mnist / spec.gz_name
        assert path.stat().st_size == spec.size
        assert data.md5_of(path) == spec.md5
    mnist = load_path(real_mnist)
    assert mnist.x_train.shape == (60_000, 28, 28) and mnist.x_test.shape == (10_000, 28, 28)
    assert mnist.y_train.shape == (60_000,) and mnist.y_test.shape == (10_000,)
    assert mnist.x_train.dtype == np.uint8 and mnist.y_train.dtype == np.uint8
    assert mnist.y_train[0] == 5
    assert mnist.y_test[0] == 7
    assert sorted(set(mnist.y_train.tolist())) == list(range(10))


def test_real_mnist_uncompressed_copy(real_mnist, tmp_path):
    for spec in MNIST.files:
        (tmp_path / spec.name).write_bytes(gzip.decompress((real_mnist / spec.gz_name).read_bytes()))
    assert load_path(tmp_path).y_train[0] == 5
