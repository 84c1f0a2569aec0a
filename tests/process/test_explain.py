"""The model process's explanation requests on tiny Keras models with known answers, and ``mnist-tui labels``."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys

import numpy as np
import pytest

from mnist_tui.analysis import suspicious_labels
from mnist_tui.worker.protocol import Embeddings, Neighbours, Why
from tests.support.data import ROOT, tiny_arrays, write_idx_dir

keras_only = pytest.mark.keras


def linear_model(rng: np.random.Generator, softmax_layer: bool = False):
    """``Flatten -> Dense(10)`` with random weights: a class's logit is ``W[:, c] . x + b[c]``."""
    import keras

    dense = keras.layers.Dense(10, activation=None if softmax_layer else "softmax")
    layers = [keras.Input((28, 28)), keras.layers.Flatten(), dense]
    if softmax_layer:
        layers.append(keras.layers.Softmax())
    model = keras.Sequential(layers)
    weights = rng.normal(size=(784, 10)).astype(np.float32)
    bias = rng.normal(size=10).astype(np.float32)
    dense.set_weights([weights, bias])
    return model, weights


def mlp(rng: np.random.Generator):
    import keras

    model = keras.Sequential(
        [
            keras.Input((28, 28)),
            keras.layers.Flatten(),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.set_weights([rng.normal(scale=0.2, size=w.shape).astype(np.float32) for w in model.get_weights()])
    return model


def served(model, data_path=None):
    """The model as the model process serves it: a TrainedModel inside the ServedModel that answers requests."""
    from mnist_tui.training import TrainedModel
    from mnist_tui.worker.served import ServedModel

    return ServedModel(TrainedModel(model, "test"), data_path)


def why(server, image, classes, steps):
    return server.answer(Why(1, image, tuple(classes), steps))


def embed(server, images):
    return server.answer(Embeddings(1, images))


@keras_only
@pytest.mark.parametrize("softmax_layer", [False, True], ids=["dense-softmax", "softmax-layer"])
def test_why_map_of_a_linear_model_is_weights_times_input(softmax_layer):
    rng = np.random.default_rng(1)
    model, weights = linear_model(rng, softmax_layer)
    image = rng.integers(0, 256, size=(28, 28), dtype=np.uint8)
    server = served(model)
    (one,) = why(server, image, [3], 32)  # one class, then two: a mistake's maps after a correct image's
    maps = why(server, image, [3, 7], 32)
    assert maps.shape == (2, 28, 28) and maps.dtype == np.float32
    np.testing.assert_array_equal(maps[0], one)
    x = image.astype(np.float64) / 255
    for map_, c in zip(maps, (3, 7)):
        np.testing.assert_allclose(map_, weights[:, c].reshape(28, 28) * x, atol=1e-4)


@keras_only
def test_why_map_of_a_relu_network_adds_up_to_the_change_in_logit():
    rng = np.random.default_rng(2)
    model = mlp(rng)
    image = rng.integers(0, 256, size=(28, 28), dtype=np.uint8)
    (map_,) = why(served(model), image, [4], 64)
    hidden, _, out = model.layers[1], model.layers[2], model.layers[3]
    kernel, bias = (np.asarray(w) for w in out.weights)

    def logit(x):
        return (np.asarray(hidden(model.layers[0](x[None]))) @ kernel + bias)[0, 4]

    change = logit(image.astype(np.float32) / 255) - logit(np.zeros((28, 28), np.float32))
    assert map_.sum() == pytest.approx(change, rel=0.03, abs=1e-3)


@keras_only
def test_embeddings_are_the_penultimate_layer_and_a_model_without_one_says_so():
    from mnist_tui.worker.explain import ExplainError

    rng = np.random.default_rng(3)
    model = mlp(rng)
    images = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    embeddings = embed(served(model), images)
    kernel, bias = (np.asarray(w) for w in model.layers[1].weights)
    expected = np.maximum(images.reshape(5, -1).astype(np.float32) / 255 @ kernel + bias, 0)
    np.testing.assert_allclose(embeddings, expected, rtol=1e-5, atol=1e-5)

    linear, _ = linear_model(rng)
    with pytest.raises(ExplainError, match="no hidden layer") as caught:
        embed(served(linear), images)
    assert caught.value.strerror.startswith("This model has no hidden layer")  # sent to the UI as it is


@keras_only
def test_neighbours_embed_the_training_set_once_from_the_jobs_data(tmp_path, monkeypatch):
    from mnist_tui import data as mnist_data
    from mnist_tui.datasets import Dataset

    monkeypatch.setattr(Dataset, "size_of", lambda self, split: {"train": 60, "test": 20}[split])
    arrays = tiny_arrays(n_train=60, n_test=20, seed=4)
    data = write_idx_dir(tmp_path / "mnist", arrays)
    server = served(mlp(np.random.default_rng(5)), data)
    loads = []
    load_mnist = mnist_data.load_mnist
    monkeypatch.setattr(mnist_data, "load_mnist", lambda path, **kw: loads.append(path) or load_mnist(path, **kw))
    progress: list[float] = []
    x_train, y_train = arrays[0], arrays[1]
    found = server.answer(Neighbours(1, x_train[17], 6), lambda fraction, stage: progress.append(fraction))
    assert progress == [1.0]  # 60 images: one batch of the embedder
    assert found.indices[0] == 17 and found.similarities[0] == pytest.approx(1.0, abs=1e-5)
    assert len(found.indices) == 6 and np.all(np.diff(found.similarities) <= 1e-6)
    assert np.array_equal(found.labels, y_train[found.indices])
    assert np.array_equal(found.images, x_train[found.indices])
    again = server.answer(Neighbours(2, x_train[3], 2), lambda fraction, stage: progress.append(fraction))
    assert again.indices[0] == 3 and progress == [1.0]  # embedded once
    assert loads == [data]  # loaded once, from the path the job carried


# ---------------------------------------------------------------------- mnist-tui labels


def run_cli(*args: str, env: dict | None = None, code: str | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", code, *args] if code else [sys.executable, "-m", "mnist_tui", *args]
    return subprocess.run(
        command, capture_output=True, text=True, cwd=ROOT, env={**os.environ, **(env or {})}, timeout=240
    )


@keras_only
def test_labels_csv_ranks_a_saved_models_test_images(tmp_path):
    rng = np.random.default_rng(6)
    arrays = tiny_arrays(n_train=60, n_test=20, seed=6)
    data = write_idx_dir(tmp_path / "mnist", arrays)
    model, _ = linear_model(rng)
    path = tmp_path / "tiny.keras"
    model.save(path)
    x_test, y_test = arrays[2], arrays[3]
    probabilities = np.asarray(model(x_test.astype(np.float32) / 255))
    expected = suspicious_labels(probabilities, y_test).top(5)

    result = run_cli("labels", "--model", str(path), "--data", str(data), "--csv", "--top", "5", code=TINY_CLI)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {"index", "label", "suggested", "score"} <= set(rows[0])
    assert [int(r["index"]) for r in rows] == expected.indices.tolist()
    assert [int(r["label"]) for r in rows] == expected.labels.tolist()
    assert [int(r["suggested"]) for r in rows] == expected.suggested.tolist()
    np.testing.assert_allclose([float(r["score"]) for r in rows], expected.scores, rtol=1e-4, atol=1e-7)


TINY_CLI = """
import sys
from mnist_tui.datasets import Dataset
Dataset.size_of = lambda self, split: {"train": 60, "test": 20}[split]  # the test's tiny MNIST
from mnist_tui.cli import main
sys.exit(main(sys.argv[1:]))
"""

NO_TENSORFLOW = """
import sys
from mnist_tui.cli import main
status = main(sys.argv[1:])
assert "tensorflow" not in sys.modules and "keras" not in sys.modules, "TensorFlow was imported"
sys.exit(status)
"""


def test_labels_of_a_recorded_run_need_no_tensorflow(tmp_path):
    from mnist_tui.config import TrainConfig
    from mnist_tui.runs import open_store

    store = open_store(tmp_path / "home")
    run_id = store.create_run(TrainConfig(epochs=1))
    probabilities = np.full((6, 10), 0.02, np.float32)
    probabilities[np.arange(6), [1, 2, 3, 4, 5, 6]] = 0.82  # the model's answer for each image
    labels = np.array([1, 2, 9, 4, 0, 6])  # images 2 and 4 disagree with it
    probabilities[4, 0] = 0.10  # image 4's label gets a little more than image 2's
    store.save_probabilities(run_id, probabilities, labels)
    store.close()

    result = run_cli(
        "labels",
        "--run",
        str(run_id),
        "--csv",
        "--top",
        "3",
        env={"MNIST_TUI_HOME": str(tmp_path / "home")},
        code=NO_TENSORFLOW,
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["index"], r["label"], r["suggested"]) for r in rows] == [
        ("2", "9", "3"),
        ("4", "0", "5"),
        ("0", "1", "1"),
    ]

    table = run_cli("labels", "--run", str(run_id), env={"MNIST_TUI_HOME": str(tmp_path / "home")}, code=NO_TENSORFLOW)
    assert table.returncode == 0 and "2 most suspicious" not in table.stdout and "6 test images" in table.stdout
    missing = run_cli("labels", "--run", "99", env={"MNIST_TUI_HOME": str(tmp_path / "home")}, code=NO_TENSORFLOW)
    assert missing.returncode == 1 and "there is no run 99" in missing.stderr


@keras_only
def test_a_mixed_precision_model_is_explained_in_float32():
    import keras

    model = keras.Sequential(
        [
            keras.Input((28, 28)),
            keras.layers.Flatten(),
            keras.layers.Dense(16, activation="relu", dtype="mixed_bfloat16"),
            keras.layers.Dense(10, activation="softmax", dtype="float32"),
        ]
    )
    server = served(model)
    image = np.random.default_rng(7).integers(0, 256, size=(28, 28), dtype=np.uint8)
    maps = why(server, image, [2, 5], 32)
    assert maps.dtype == np.float32 and np.isfinite(maps).all() and np.abs(maps).sum() > 0
    assert embed(server, image[None]).dtype == np.float32
