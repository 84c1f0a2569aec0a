"""What a dataset is: its images' shape, its classes' names, its files and where they come from.

The one place that knows MNIST's facts (28x28 pixels, ten digits, four IDX files with
their checksums and mirrors). Everything else reads them from :data:`MNIST` (or from the
dataset a run names), so another dataset in the same format is one more instance here.
Standard library only: the UI, the trainer process and the run store all import it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DataFile:
    """One file of a dataset, as published."""

    split: str
    """``"train"`` or ``"test"``."""
    kind: str
    """``"images"`` or ``"labels"``."""
    name: str
    """Canonical name, without ``.gz``."""
    md5: str
    """MD5 of the published ``.gz`` file: a download is kept only when it matches."""
    size: int
    """Bytes of the published ``.gz`` file (for progress before the server says)."""

    @property
    def gz_name(self) -> str:
        return self.name + ".gz"

    def spellings(self) -> list[str]:
        """Names this file goes by on disk: canonical and dotted, gzipped or not."""
        dotted = self.name.replace("-idx", ".idx")
        return [self.gz_name, self.name, dotted + ".gz", dotted]


@dataclass(frozen=True)
class Dataset:
    """A labelled image dataset in the IDX format: shape, classes, files, mirrors.

    Attributes:
        name: Short name, as stored with runs and tags (``"mnist"``).
        title: How a person calls it (``"MNIST"``).
        image_shape: ``(height, width)`` of one image, uint8 pixels.
        class_names: One word per class, in label order (``"seven"``).
        class_plurals: The same words for many (``"sevens"``).
        files: The published files, train and test, images and labels.
        mirrors: Base URLs the files are downloaded from, in order.
        split_sizes: Images in each split of the published dataset.
        reader: The file format the reader parses (``"idx"``; a Keras ``.npz`` is read too).
        npz_name: The file name Keras's own cache uses for it.
        ink_box: Side of the square each image's ink was scaled to fit before it was
            centred by its centre of mass (MNIST: 20 of 28 pixels), so that a drawing is
            prepared the same way; 0 when the images were not made so (the ink then
            fills the whole image).
    """

    name: str
    title: str
    image_shape: tuple[int, int]
    class_names: tuple[str, ...]
    class_plurals: tuple[str, ...]
    files: tuple[DataFile, ...]
    mirrors: tuple[str, ...]
    split_sizes: tuple[tuple[str, int], ...]
    reader: str = "idx"
    npz_name: str = ""
    ink_box: int = 0

    def __post_init__(self) -> None:
        if len(self.class_names) != len(self.class_plurals):
            raise ValueError(f"{self.name}: {len(self.class_names)} class names but {len(self.class_plurals)} plurals")
        if not 0 <= self.ink_box <= min(self.image_shape):
            raise ValueError(f"{self.name}: an ink box of {self.ink_box} does not fit {self.image_shape} images")

    @property
    def height(self) -> int:
        return self.image_shape[0]

    @property
    def width(self) -> int:
        return self.image_shape[1]

    @property
    def pixels(self) -> int:
        """Pixels in one image (784 for MNIST): the length of a flattened image."""
        return self.image_shape[0] * self.image_shape[1]

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def classes(self) -> range:
        """The labels, ``0 .. num_classes - 1``."""
        return range(self.num_classes)

    @property
    def splits(self) -> tuple[str, ...]:
        """The splits' names, ``("train", "test")``."""
        return tuple(name for name, _ in self.split_sizes)

    def size_of(self, split: str) -> int:
        """Images in ``split`` (``"train"`` or ``"test"``) of the published dataset."""
        return dict(self.split_sizes)[split]

    def noun(self, label: int, count: int = 1) -> str:
        """The class's word for ``count`` images: ``"seven"``, ``"sevens"``."""
        return self.class_names[label] if count == 1 else self.class_plurals[label]

    def file(self, split: str, kind: str) -> DataFile:
        return next(f for f in self.files if f.split == split and f.kind == kind)


MNIST = Dataset(
    name="mnist",
    title="MNIST",
    image_shape=(28, 28),
    class_names=("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
    class_plurals=("zeros", "ones", "twos", "threes", "fours", "fives", "sixes", "sevens", "eights", "nines"),
    files=(
        DataFile("train", "images", "train-images-idx3-ubyte", "f68b3c2dcbeaaa9fbdd348bbdeb94873", 9_912_422),
        DataFile("train", "labels", "train-labels-idx1-ubyte", "d53e105ee54ea40749a09fcbcd1e9432", 28_881),
        DataFile("test", "images", "t10k-images-idx3-ubyte", "9fb629c4189551a2d022fa330f9573f3", 1_648_877),
        DataFile("test", "labels", "t10k-labels-idx1-ubyte", "ec29112dd5afa0611ce80d1b7f02629c", 4_542),
    ),
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    split_sizes=(("train", 60_000), ("test", 10_000)),
    npz_name="mnist.npz",
    ink_box=20,
)
"""The handwritten digits: 60,000 training and 10,000 test images of 28x28 pixels, ten classes."""

DATASETS = {MNIST.name: MNIST}
"""Every dataset the app knows, by name."""
