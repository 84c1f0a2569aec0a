"""The dataset seam: MNIST's facts in one place, and code that follows a dataset rather than MNIST's numbers."""

from __future__ import annotations

import dataclasses
import gzip
import io
import re
from pathlib import Path

import numpy as np
import pytest

from mnist_tui.datasets import DATASETS, MNIST, DataFile, Dataset
from tests.support.data import ROOT, idx_bytes

DESIGN = ROOT.parent / "shared" / "DESIGN.md"

TINY = Dataset(
    name="tiny",
    title="Tiny",
    image_shape=(8, 6),  # not square, so a height read as a width shows
    class_names=("cat", "dog", "owl"),
    class_plurals=("cats", "dogs", "owls"),
    files=(
        DataFile("train", "images", "tiny-train-images-idx3-ubyte", "0" * 32, 1),
        DataFile("train", "labels", "tiny-train-labels-idx1-ubyte", "0" * 32, 1),
        DataFile("test", "images", "tiny-test-images-idx3-ubyte", "0" * 32, 1),
        DataFile("test", "labels", "tiny-test-labels-idx1-ubyte", "0" * 32, 1),
    ),
    mirrors=("http://127.0.0.1:9/tiny/",),
    split_sizes=(("train", 12), ("test", 5)),
    npz_name="tiny.npz",
    ink_box=4,
)
"""A made-up dataset unlike MNIST in every number: 8x6 images, three classes, 12 + 5 images."""


def tiny_arrays(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    sizes = dict(TINY.split_sizes)
    return (
        rng.integers(0, 256, (sizes["train"], *TINY.image_shape), dtype=np.uint8),
        rng.integers(0, TINY.num_classes, sizes["train"], dtype=np.uint8),
        rng.integers(0, 256, (sizes["test"], *TINY.image_shape), dtype=np.uint8),
        rng.integers(0, TINY.num_classes, sizes["test"], dtype=np.uint8),
    )


# --------------------------------------------------------------------------- MNIST's facts


def test_mnist_shape_and_classes():
    assert MNIST.image_shape == (28, 28) and (MNIST.height, MNIST.width) == (28, 28)
    assert MNIST.pixels == 784
    assert MNIST.num_classes == 10 and list(MNIST.classes) == list(range(10))
    assert MNIST.class_names[0] == "zero" and MNIST.class_names[9] == "nine"
    assert MNIST.splits == ("train", "test")
    assert (MNIST.size_of("train"), MNIST.size_of("test")) == (60_000, 10_000)
    assert MNIST.ink_box == 20
    assert DATASETS == {"mnist": MNIST}
    with pytest.raises(dataclasses.FrozenInstanceError):
        MNIST.name = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("label", "count", "noun"),
    [(7, 1, "seven"), (7, 2, "sevens"), (6, 1_500, "sixes"), (1, 0, "ones"), (0, 1, "zero"), (9, 3, "nines")],
)
def test_mnist_nouns(label, count, noun):
    assert MNIST.noun(label, count) == noun


def test_mnist_noun_defaults_to_one():
    assert MNIST.noun(3) == "three"


def test_file_lookup_and_spellings():
    spec = MNIST.file("test", "labels")
    assert spec.name == "t10k-labels-idx1-ubyte" and spec.gz_name == "t10k-labels-idx1-ubyte.gz"
    assert spec.spellings() == [
        "t10k-labels-idx1-ubyte.gz",
        "t10k-labels-idx1-ubyte",
        "t10k-labels.idx1-ubyte.gz",
        "t10k-labels.idx1-ubyte",
    ]
    assert [(f.split, f.kind) for f in MNIST.files] == [
        ("train", "images"),
        ("train", "labels"),
        ("test", "images"),
        ("test", "labels"),
    ]
    assert all(MNIST.file(f.split, f.kind) is f for f in MNIST.files)
    with pytest.raises(StopIteration):
        MNIST.file("validation", "images")


def test_mnist_checksums_and_sizes_match_the_design_notes():
    if not DESIGN.is_file():
        pytest.skip("DESIGN.md not found beside the project (../shared/DESIGN.md)")
    listed = {
        name: (md5, int(size.replace(",", "")))
        for md5, name, size in re.findall(
            r"^([0-9a-f]{32})\s+(\S+\.gz)\s+\(([\d,]+) bytes\)", DESIGN.read_text(), re.MULTILINE
        )
    }
    assert len(listed) == 4
    assert {f.gz_name: (f.md5, f.size) for f in MNIST.files} == listed


def test_mirrors_are_https_and_end_with_a_slash():
    assert MNIST.mirrors and all(m.startswith("https://") and m.endswith("/") for m in MNIST.mirrors)


def test_a_dataset_checks_itself():
    with pytest.raises(ValueError, match="3 class names but 2 plurals"):
        dataclasses.replace(TINY, class_plurals=("cats", "dogs"))
    with pytest.raises(ValueError, match="ink box of 7"):
        dataclasses.replace(TINY, ink_box=7)  # wider than the 6-pixel images


# --------------------------------------------------------------------------- code follows the dataset


def test_the_tiny_dataset_is_unlike_mnist():
    """Every number the tests below rely on differs from MNIST's, so a hard-coded 28, 784 or 10 fails them."""
    assert TINY.height != MNIST.height and TINY.width != MNIST.width and TINY.height != TINY.width
    assert TINY.pixels != MNIST.pixels and TINY.num_classes != MNIST.num_classes
    assert TINY.ink_box != MNIST.ink_box
    assert (TINY.pixels, TINY.num_classes) == (48, 3)


def test_idx_parsing_follows_the_dataset_shape_and_classes():
    from mnist_tui.data import DataError, parse_idx

    images, labels = tiny_arrays()[:2]
    parsed = parse_idx(idx_bytes(images), "tiny images", "images", TINY)
    assert parsed.shape == (12, 8, 6) and np.array_equal(parsed, images)
    assert np.array_equal(parse_idx(idx_bytes(labels), "tiny labels", "labels", TINY), labels)
    with pytest.raises(DataError, match="images are 8x6, expected 28x28"):
        parse_idx(idx_bytes(images), "tiny images", "images")  # MNIST by default
    with pytest.raises(DataError, match="labels must be 0..2, found 3"):
        parse_idx(idx_bytes(np.array([0, 3], np.uint8)), "tiny labels", "labels", TINY)
    mnist_images = np.zeros((1, *MNIST.image_shape), np.uint8)
    with pytest.raises(DataError, match="images are 28x28, expected 8x6"):
        parse_idx(idx_bytes(mnist_images), "mnist images", "images", TINY)


def test_a_directory_of_the_datasets_files_loads_with_its_sizes(tmp_path: Path):
    from mnist_tui.data import DataError, load_idx_dir, load_mnist, load_path

    arrays = tiny_arrays(1)
    for spec, array in zip(TINY.files, arrays):
        (tmp_path / spec.gz_name).write_bytes(gzip.compress(idx_bytes(array)))
    loaded = load_idx_dir(tmp_path, dataset=TINY)  # the split sizes checked are the dataset's 12 and 5
    assert loaded.x_train.shape == (12, 8, 6) and loaded.x_test.shape == (5, 8, 6)
    assert np.array_equal(loaded.y_test, arrays[3])
    assert load_mnist(tmp_path, dataset=TINY).x_train.shape == (12, 8, 6)
    with pytest.raises(DataError, match="missing train-images-idx3-ubyte.gz"):
        load_path(tmp_path)  # MNIST's files are not there
    (tmp_path / TINY.file("test", "images").gz_name).write_bytes(gzip.compress(idx_bytes(arrays[2][:4])))
    (tmp_path / TINY.file("test", "labels").gz_name).write_bytes(gzip.compress(idx_bytes(arrays[3][:4])))
    with pytest.raises(DataError, match="test split has 4 images, expected 5"):
        load_idx_dir(tmp_path, dataset=TINY)
    assert len(load_idx_dir(tmp_path, dataset=TINY, check_sizes=False).x_test) == 4


def test_an_npz_follows_the_dataset_shape_and_name(tmp_path: Path):
    from mnist_tui.data import DataError, load_path, read_npz

    buffer = io.BytesIO()
    np.savez(buffer, **dict(zip(("x_train", "y_train", "x_test", "y_test"), tiny_arrays(2))))
    (tmp_path / TINY.npz_name).write_bytes(buffer.getvalue())
    assert load_path(tmp_path, dataset=TINY).x_test.shape == (5, 8, 6)  # found by the dataset's npz name
    buffer.seek(0)
    with pytest.raises(DataError, match=r"x_train has shape \(12, 8, 6\), expected \(n, 28, 28\)"):
        read_npz(buffer, "tiny.npz")


def test_predictions_follow_the_number_of_classes():
    from mnist_tui.predictions import Predictions

    labels = np.array([0, 0, 1, 2, 2, 2])
    predicted = np.array([0, 1, 1, 2, 0, 2])
    probabilities = np.full((6, 3), 0.1, np.float32)
    probabilities[np.arange(6), predicted] = 0.8
    images = np.zeros((6, *TINY.image_shape), np.uint8)
    p = Predictions(images, labels, probabilities, TINY)
    assert p.confusion.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    assert p.per_digit_accuracy() == [0.5, 1.0, pytest.approx(2 / 3)]
    with pytest.raises(ValueError, match="inconsistent predictions"):
        Predictions(images, labels, probabilities)  # MNIST wants ten probabilities per image
    assert len(Predictions(images[:1], labels[:1], np.full((1, 10), 0.1)).per_digit_accuracy()) == 10


def test_a_class_that_never_occurs_has_no_accuracy():
    from mnist_tui.predictions import Predictions

    probabilities = np.eye(3, dtype=np.float32)[[0, 0]]
    p = Predictions(np.zeros((2, 8, 6), np.uint8), np.array([0, 1]), probabilities, TINY)
    assert p.per_digit_accuracy() == [1.0, 0.0, None]


def test_rendering_follows_the_image_shape():
    from mnist_tui.render import ascii_art, halfblock_segments, probability_bars

    image = np.zeros(TINY.image_shape, np.uint8)
    image[2:6, 1:5] = 255
    lines = ascii_art(image).split("\n")
    assert len(lines) == 8 and {len(line) for line in lines} == {12}
    rows = halfblock_segments(image)
    assert len(rows) == 4 and {len(row) for row in rows} == {6}
    bars = probability_bars(np.array([0.2, 0.7, 0.1]), predicted=1, true=2).plain.split("\n")
    assert [line[0] for line in bars] == ["0", "1", "2"]


def test_drawing_follows_the_dataset():
    from mnist_tui.drawing import Canvas, centre_of_mass, mnist_style

    canvas = Canvas(dataset=TINY)
    assert canvas.image.shape == (8, 6) and (canvas.height, canvas.width) == (8, 6)
    canvas.stroke_to(5, 1)
    canvas.stroke_to(5, 7)  # a vertical stroke at the right edge
    assert not canvas.is_empty
    drawing = np.zeros((40, 40), np.uint8)
    drawing[5:35, 30:34] = 255  # a tall stroke far to the right of a larger drawing
    out = mnist_style(drawing, TINY)
    assert out.shape == (8, 6) and out.dtype == np.uint8
    rows = np.flatnonzero(out.max(axis=1) > 12)
    assert rows[-1] - rows[0] + 1 == TINY.ink_box  # scaled to the dataset's box, not MNIST's 20
    cy, cx = centre_of_mass(out)
    assert abs(cy - 4) <= 0.75 and abs(cx - 3) <= 0.75  # centred in the 8x6 field
    assert mnist_style(np.zeros((3, 3)), TINY).shape == (8, 6)


def test_a_dataset_without_an_ink_box_fills_the_image():
    from mnist_tui.drawing import mnist_style

    drawing = np.zeros((40, 40), np.uint8)
    drawing[5:35, 10:30] = 255
    out = mnist_style(drawing, dataclasses.replace(TINY, ink_box=0))
    rows = np.flatnonzero(out.max(axis=1) > 12)
    assert rows[-1] - rows[0] + 1 == 6  # the smaller side of the 8x6 image


def test_legend_words_follow_the_dataset():
    from mnist_tui.analysis import class_counts, count_phrase

    assert count_phrase(2, 1, 3, TINY) == "1 of 3 owls"
    assert count_phrase(0, 1, 1, TINY) == "1 of 1 cat"
    assert count_phrase(6, 12, 1_500) == "12 of 1,500 sixes"
    assert class_counts(np.array([0, 2, 2]), TINY.num_classes).tolist() == [1, 0, 2]
    assert len(class_counts(np.array([0, 2, 2]))) == MNIST.num_classes


def test_the_deprecated_digit_plurals_alias_reads_mnist():
    from mnist_tui.analysis.scatter import DIGIT_PLURALS

    assert DIGIT_PLURALS is MNIST.class_plurals


def test_stored_probabilities_are_checked_against_the_datasets_classes(tmp_path: Path):
    from mnist_tui.config import TrainConfig
    from mnist_tui.runs import open_store
    from mnist_tui.runs.store import StoreError

    store = open_store(tmp_path / "home")
    try:
        run_id = store.create_run(TrainConfig(epochs=1))
        store.save_probabilities(run_id, np.full((4, 3), 1 / 3, np.float32), np.array([0, 1, 2, 0]))
        assert store.load_probabilities(run_id, TINY).shape == (4, 3)
        with pytest.raises(StoreError, match=r"not \(n, 10\)"):
            store.load_probabilities(run_id)
    finally:
        store.close()


@pytest.mark.keras
@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_models_follow_the_dataset(tmp_path: Path, arch: str):
    from mnist_tui import models
    from mnist_tui.config import TrainConfig

    model = models.build_model(TrainConfig(arch=arch, hidden_units=8), dataset=TINY)
    assert tuple(model.inputs[0].shape[1:]) == (8, 6) and tuple(model.outputs[0].shape[1:]) == (3,)
    probabilities = models.predictor(model)(tiny_arrays()[0][:2])
    assert probabilities.shape == (2, 3)
    path = tmp_path / "tiny.keras"
    model.save(path)
    assert models.load_model(path, TINY) is not None
    with pytest.raises(models.ModelError, match=r"expects input \(8, 6\), not 28x28 images"):
        models.load_model(path)
