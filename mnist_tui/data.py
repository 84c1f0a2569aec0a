"""MNIST: find it, download it, parse it, validate it.

Search order (first hit wins):

1. an explicit path (``--data PATH``) or the ``MNIST_TUI_DATA`` environment variable,
2. Keras's cache (``$KERAS_HOME/datasets/mnist.npz``, default ``~/.keras``),
3. this app's cache directory (``$XDG_CACHE_HOME/mnist-tui``, default ``~/.cache/mnist-tui``),
4. a download into the app's cache directory.

A data path is either a directory with the four IDX files (gzipped or not) or a
Keras-format ``mnist.npz``. A caller that needs only the test images (``mnist-tui labels``)
asks for ``splits=("test",)``: only the test files are then read, looked for and
downloaded, and the training arrays come back empty. What the files are called, their checksums, the images'
shape and the number of classes come from a :class:`~mnist_tui.datasets.Dataset`
(:data:`~mnist_tui.datasets.MNIST` unless told). Nothing here imports TensorFlow.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import threading
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .datasets import MNIST, DataFile, Dataset

#: progress(file name, bytes done, bytes in total or 0 when unknown)
Progress = Callable[[str, int, int], None]

IMAGE_MAGIC = 2051
LABEL_MAGIC = 2049
MAX_IDX_BYTES = 64 * 2**20
"""The most an IDX file may hold once decompressed: room above the largest MNIST file
(47,040,016 bytes of training images), and a bound on what a corrupt or hostile file costs."""
MAX_ARRAY_BYTES = 400 * 2**20
"""The most one array of an ``.npz`` may hold: the training images even as 64-bit integers
(376 MB); a header that promises more is refused before anything is allocated."""

DATA_ENV = "MNIST_TUI_DATA"
MIRRORS_ENV = "MNIST_TUI_MIRRORS"
CHUNK = 64 * 1024


class DataError(Exception):
    """MNIST could not be found, read or trusted; the message says which file and why."""


class DownloadCancelled(DataError):
    """The person asked to stop while a download was running."""


@dataclass(frozen=True)
class MnistData:
    """The four MNIST arrays as uint8, plus where they came from."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str = ""


# ----------------------------------------------------------------------------- parsing


def parse_idx(raw: bytes, name: str, kind: str, dataset: Dataset = MNIST) -> np.ndarray:
    """Parse an IDX images (3-D) or labels (1-D) file already read into memory.

    Args:
        raw: The uncompressed bytes.
        name: File name used in error messages.
        kind: ``"images"`` or ``"labels"``.
        dataset: Whose image shape and classes the file must have.

    Returns:
        ``(n, height, width)`` or ``(n,)`` uint8 array (a read-only view of ``raw``).

    Raises:
        DataError: wrong magic number, dimensions or length, or a label that is not a class.
    """
    header = 16 if kind == "images" else 8
    if len(raw) < header:
        raise DataError(f"{name}: too short for an IDX header ({len(raw)} bytes)")
    magic = int.from_bytes(raw[0:4], "big")
    expected_magic = IMAGE_MAGIC if kind == "images" else LABEL_MAGIC
    if magic != expected_magic:
        raise DataError(f"{name}: not an IDX {kind} file (magic number {magic}, expected {expected_magic})")
    count = int.from_bytes(raw[4:8], "big")
    shape: tuple[int, ...] = (count,)
    if kind == "images":
        rows, cols = int.from_bytes(raw[8:12], "big"), int.from_bytes(raw[12:16], "big")
        if (rows, cols) != dataset.image_shape:
            raise DataError(f"{name}: images are {rows}x{cols}, expected {dataset.height}x{dataset.width}")
        shape = (count, *dataset.image_shape)
    expected_len = header + int(np.prod(shape))
    if len(raw) != expected_len:
        raise DataError(
            f"{name}: file is {len(raw):,} bytes but its header promises {expected_len:,} (truncated or padded)"
        )
    array = np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)
    if kind == "labels":
        check_labels(array, name, dataset)
    return array


def check_labels(labels: np.ndarray, name: str, dataset: Dataset = MNIST) -> None:
    """Raise :class:`DataError` when a label is not one of ``dataset``'s classes (uint8 labels are never negative)."""
    last = dataset.num_classes - 1
    if labels.size and int(labels.max()) > last:
        raise DataError(f"{name}: labels must be 0..{last}, found {int(labels.max())}")


def read_maybe_gzip(path: Path, limit: int | None = None) -> bytes:
    """Read a file, decompressing it when it is gzipped (by content, not by name).

    Args:
        path: The file.
        limit: The most bytes the (decompressed) content may hold; :data:`MAX_IDX_BYTES`
            when not given. A gzip stream is inflated piece by piece and refused as soon
            as it passes the limit, so a small file that inflates to gigabytes costs
            no more than the limit.

    Raises:
        DataError: unreadable, corrupt or truncated gzip, or larger than ``limit``.
    """
    limit = MAX_IDX_BYTES if limit is None else limit
    try:
        size = path.stat().st_size
        if size > limit:
            raise DataError(f"{path}: {size:,} bytes is more than an MNIST file can be ({limit:,})")
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return gunzip_if_gzipped(raw, str(path), limit)


def gunzip_if_gzipped(raw: bytes, name: str, limit: int | None = None) -> bytes:
    """``raw`` decompressed when it is a gzip stream, else ``raw`` itself.

    Args:
        raw: The bytes of a file.
        name: File name used in error messages.
        limit: The most bytes the content may hold (:data:`MAX_IDX_BYTES` when not given).

    Raises:
        DataError: corrupt or truncated gzip, or more than ``limit`` bytes.
    """
    limit = MAX_IDX_BYTES if limit is None else limit
    if raw[:2] != b"\x1f\x8b":
        if len(raw) > limit:
            raise DataError(f"{name}: {len(raw):,} bytes is more than an MNIST file can be ({limit:,})")
        return raw
    pieces: list[bytes] = []
    total = 0
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as stream:
            while piece := stream.read(CHUNK * 16):
                total += len(piece)
                if total > limit:
                    raise DataError(
                        f"{name}: decompresses to more than {limit:,} bytes, more than an MNIST file can be"
                    )
                pieces.append(piece)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        reason = "truncated gzip file" if isinstance(exc, EOFError) else f"corrupt gzip stream ({exc})"
        raise DataError(f"{name}: {reason}") from None
    return b"".join(pieces)


def find_idx_file(directory: Path, spec: DataFile) -> Path | None:
    for spelling in spec.spellings():
        candidate = directory / spelling
        if candidate.is_file():
            return candidate
    return None


def check_split(images: np.ndarray, labels: np.ndarray, split: str, where: str, expected: int | None) -> None:
    """Raise :class:`DataError` unless each image has a label and, when ``expected`` is given, there are that many."""
    if len(images) != len(labels):
        raise DataError(f"{where}: {split} has {len(images):,} images but {len(labels):,} labels")
    if expected is not None and len(images) != expected:
        raise DataError(f"{where}: {split} split has {len(images):,} images, expected {expected:,}")


Splits = tuple[str, ...] | None
"""Which splits to load: ``None`` for all, ``("test",)`` for the test images only."""


def wanted_files(dataset: Dataset, splits: Splits) -> tuple[DataFile, ...]:
    """The dataset's files for ``splits`` (all of them for ``None``)."""
    return tuple(spec for spec in dataset.files if splits is None or spec.split in splits)


def wanted_splits(dataset: Dataset, splits: Splits) -> tuple[str, ...]:
    return tuple(split for split in dataset.splits if splits is None or split in splits)


def empty_split(dataset: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """No images and no labels, in the dataset's shape: what a split that was not asked for holds."""
    return np.zeros((0, *dataset.image_shape), np.uint8), np.zeros((0,), np.uint8)


def load_idx_dir(
    directory: Path, *, check_sizes: bool = True, dataset: Dataset = MNIST, splits: Splits = None
) -> MnistData:
    """Load the dataset's four IDX files (or those of ``splits``) from a directory.

    Args:
        directory: Where the files are, under any of their spellings.
        check_sizes: Whether each split must have as many images as the published dataset.
        dataset: Which files to read, and the shape and classes they must have.
        splits: Only these splits (the others come back empty); ``None`` for all.

    Raises:
        DataError: a file is missing or fails validation.
    """
    arrays: dict[tuple[str, str], np.ndarray] = {}
    for split in dataset.splits:
        arrays[split, "images"], arrays[split, "labels"] = empty_split(dataset)
    missing = []
    for spec in wanted_files(dataset, splits):
        path = find_idx_file(directory, spec)
        if path is None:
            missing.append(spec.gz_name)
            continue
        arrays[spec.split, spec.kind] = parse_idx(read_maybe_gzip(path), str(path), spec.kind, dataset)
    if missing:
        raise DataError(f"{directory}: missing {', '.join(missing)}")
    for split in wanted_splits(dataset, splits):
        expected = dataset.size_of(split) if check_sizes else None
        check_split(arrays[split, "images"], arrays[split, "labels"], split, str(directory), expected)
    return MnistData(
        arrays["train", "images"],
        arrays["train", "labels"],
        arrays["test", "images"],
        arrays["test", "labels"],
        source=str(directory),
    )


NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


def load_npz(path: Path, *, check_sizes: bool = True, dataset: Dataset = MNIST, splits: Splits = None) -> MnistData:
    """Load a Keras-format ``mnist.npz`` without ever unpickling.

    Each member's ``.npy`` header is read and checked (dtype, shape, and that the
    member holds exactly the bytes the header promises) before its array is read,
    so a header promising a huge array is refused without allocating it.

    Raises:
        DataError: unreadable, missing keys, object arrays, wrong shapes or labels.
    """
    try:
        with open(path, "rb") as handle:
            return read_npz(handle, str(path), check_sizes=check_sizes, dataset=dataset, splits=splits)
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None


def read_npz(
    handle: BinaryIO, name: str, *, check_sizes: bool = True, dataset: Dataset = MNIST, splits: Splits = None
) -> MnistData:
    """Read a Keras-format ``.npz`` from an open binary file (see :func:`load_npz`).

    Args:
        handle: A seekable binary file positioned at its start.
        name: File name used in error messages and as the data's source.
        check_sizes: Whether the splits must have as many images as the published dataset.
        dataset: The shape and classes the arrays must have.
        splits: Only these splits' arrays are read (the others come back empty); ``None`` for all.

    Raises:
        DataError: as :func:`load_npz`.
    """
    path = name
    keys = tuple(
        f"{axis}_{'train' if split == 'train' else 'test'}"
        for split in wanted_splits(dataset, splits)
        for axis in ("x", "y")
    )
    if handle.read(4) != b"PK\x03\x04":
        raise DataError(f"{path}: not a valid .npz archive (not a zip file)")
    handle.seek(0)
    try:
        with zipfile.ZipFile(handle) as archive:
            members = {member.removesuffix(".npy"): member for member in archive.namelist()}
            missing = [key for key in keys if key not in members]
            if missing:
                raise DataError(f"{path}: missing arrays {', '.join(missing)} (expected {', '.join(NPZ_KEYS)})")
            arrays = {key: read_npy_member(archive, members[key], key, path, dataset) for key in keys}
    except DataError:
        raise
    except MemoryError:
        raise DataError(f"{path}: not enough memory to read the arrays") from None
    except Exception as exc:  # zipfile.BadZipFile, zlib.error, EOFError, ValueError and friends
        raise DataError(f"{path}: not a valid .npz archive ({type(exc).__name__}: {exc})") from None
    for split in dataset.splits:
        prefix = "train" if split == "train" else "test"
        if f"x_{prefix}" not in arrays:  # a split not asked for
            arrays[f"x_{prefix}"], arrays[f"y_{prefix}"] = empty_split(dataset)
    for split in wanted_splits(dataset, splits):
        prefix = "train" if split == "train" else "test"
        for key in (f"x_{prefix}", f"y_{prefix}"):
            arr = arrays[key]
            if arr.dtype != np.uint8:
                if not np.issubdtype(arr.dtype, np.integer) or (arr.size and (arr.min() < 0 or arr.max() > 255)):
                    raise DataError(f"{path}: {key} has dtype {arr.dtype}, expected uint8")
                arrays[key] = arr.astype(np.uint8)
        check_labels(arrays[f"y_{prefix}"], f"{path}: y_{prefix}", dataset)
        expected = dataset.size_of(split) if check_sizes else None
        check_split(arrays[f"x_{prefix}"], arrays[f"y_{prefix}"], split, path, expected)
    return MnistData(arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"], source=path)


def read_npy_member(archive: zipfile.ZipFile, member: str, key: str, path: str, dataset: Dataset = MNIST) -> np.ndarray:
    """One array of an ``.npz``, its header checked before any of its data is read.

    Raises:
        DataError: an object array, a shape that is not the dataset's, more than
            :data:`MAX_ARRAY_BYTES`, or a header that does not match the member's size.
    """
    info = archive.getinfo(member)
    if info.file_size > MAX_ARRAY_BYTES + 4096:
        raise DataError(f"{path}: {key} holds {info.file_size:,} bytes, more than MNIST can be")
    with archive.open(info) as stream:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version in ((2, 0), (3, 0)):
            shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise DataError(f"{path}: {key} is in .npy format {version[0]}.{version[1]}, which is not supported")
        header_length = stream.tell()
    if dtype.hasobject:
        raise DataError(f"{path}: contains object arrays, which are never loaded (they could run code)")
    expected_ndim = 3 if key.startswith("x") else 1
    if len(shape) != expected_ndim or (expected_ndim == 3 and tuple(shape[1:]) != dataset.image_shape):
        wanted = f"(n, {dataset.height}, {dataset.width})" if expected_ndim == 3 else "(n,)"
        raise DataError(f"{path}: {key} has shape {tuple(shape)}, expected {wanted}")
    promised = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if promised > MAX_ARRAY_BYTES:
        raise DataError(f"{path}: {key} promises {promised:,} bytes, more than MNIST can be")
    if promised != info.file_size - header_length:
        raise DataError(
            f"{path}: {key} holds {info.file_size - header_length:,} bytes of data but its header promises {promised:,}"
        )
    with archive.open(info) as stream:
        return np.lib.format.read_array(stream, allow_pickle=False)


def load_path(path: Path, *, check_sizes: bool = True, dataset: Dataset = MNIST, splits: Splits = None) -> MnistData:
    """Load a dataset (or ``splits`` of it) from a directory of IDX files, a directory holding its ``mnist.npz``, or an ``.npz`` file."""
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(f"{path}: no such file or directory")
    npz_name = dataset.npz_name or "an .npz"
    if path.is_dir():
        if not any(path.iterdir()):
            raise DataError(f"{path}: directory is empty (expected the four {dataset.title} IDX files or {npz_name})")
        first = wanted_files(dataset, splits)[0]
        if dataset.npz_name and (path / npz_name).is_file() and find_idx_file(path, first) is None:
            return load_npz(path / npz_name, check_sizes=check_sizes, dataset=dataset, splits=splits)
        return load_idx_dir(path, check_sizes=check_sizes, dataset=dataset, splits=splits)
    return load_npz(path, check_sizes=check_sizes, dataset=dataset, splits=splits)


# ----------------------------------------------------------------------------- locations


def keras_cache_file(env: Mapping[str, str] = os.environ, dataset: Dataset = MNIST) -> Path:
    """Where Keras's own ``load_data`` keeps the dataset (``~/.keras/datasets/mnist.npz``)."""
    home = Path(env["KERAS_HOME"]) if env.get("KERAS_HOME") else Path.home() / ".keras"
    return home / "datasets" / dataset.npz_name


def app_cache_dir(env: Mapping[str, str] = os.environ) -> Path:
    base = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return base / "mnist-tui"


def mirrors_from_env(env: Mapping[str, str] = os.environ, dataset: Dataset = MNIST) -> list[str]:
    """The mirrors ``MNIST_TUI_MIRRORS`` names (space or comma separated), else the dataset's own."""
    raw = env.get(MIRRORS_ENV, "")
    mirrors = [m.strip() for m in raw.replace(",", " ").split() if m.strip()]
    return mirrors or list(dataset.mirrors)


def has_all_files(directory: Path, dataset: Dataset = MNIST, splits: Splits = None) -> bool:
    """Whether ``directory`` holds every file of the dataset (or of ``splits``)."""
    return directory.is_dir() and all(find_idx_file(directory, spec) for spec in wanted_files(dataset, splits))


def load_mnist(
    path: Path | str | None = None,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    env: Mapping[str, str] = os.environ,
    timeout: float = 20.0,
    dataset: Dataset = MNIST,
    splits: Splits = None,
) -> MnistData:
    """Find MNIST (see the module docstring for the order), downloading it if needed.

    Args:
        path: An explicit data path; overrides everything else.
        progress: Called with download progress, if a download happens.
        cancel: When set, a running download stops with ``DownloadCancelled``.
        env: Environment to read ``MNIST_TUI_DATA``, ``KERAS_HOME`` etc. from.
        timeout: Seconds a download may wait for the server before giving up.
        dataset: Which dataset: its files, mirrors, image shape and classes.
        splits: Only these splits (``("test",)``: the test images): only their files are
            read or downloaded, and the other splits come back empty. ``None`` for all.

    Raises:
        DataError: with a message a person can act on.
    """
    explicit = path if path is not None else env.get(DATA_ENV) or None
    if explicit is not None:
        return load_path(Path(explicit), dataset=dataset, splits=splits)
    keras_file = keras_cache_file(env, dataset)
    if keras_file.is_file():
        return load_npz(keras_file, dataset=dataset, splits=splits)
    cache = app_cache_dir(env)
    if not has_all_files(cache, dataset, splits):
        download_mnist(
            cache,
            mirrors_from_env(env, dataset),
            progress=progress,
            cancel=cancel,
            timeout=timeout,
            files=wanted_files(dataset, splits),
        )
    return load_idx_dir(cache, dataset=dataset, splits=splits)


# ----------------------------------------------------------------------------- download


def download_mnist(
    target: Path,
    mirrors: list[str],
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    timeout: float = 20.0,
    files: tuple[DataFile, ...] = MNIST.files,
) -> None:
    """Download the dataset's files into ``target``, each verified before it takes its final name.

    Every mirror is tried in turn for each file. A file is streamed into a hidden
    temporary file beside its final name and renamed only once its MD5 matches,
    so nothing that looks complete is ever left behind by a failure.

    Raises:
        DataError: no mirror delivered a good copy, or the directory is not writable.
        DownloadCancelled: ``cancel`` was set.
    """
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create cache directory {target} ({exc.strerror or exc})") from None
    for spec in files:
        if find_idx_file(target, spec) is not None:
            continue
        failures = []
        for mirror in mirrors:
            url = mirror.rstrip("/") + "/" + spec.gz_name
            try:
                fetch_verified(url, target / spec.gz_name, spec, progress=progress, cancel=cancel, timeout=timeout)
                break
            except _MirrorFailed as exc:
                failures.append(f"{url}: {exc}")
        else:
            raise DataError(
                f"could not download {spec.gz_name} ({'; '.join(failures)}). "
                "If you are offline, get the four MNIST files another way and pass --data DIR."
            )


class _MirrorFailed(Exception):
    """One mirror did not deliver one file; the next mirror gets a turn."""


def fetch_verified(
    url: str,
    final: Path,
    spec: DataFile,
    *,
    progress: Progress | None,
    cancel: threading.Event | None,
    timeout: float,
) -> None:
    part = final.with_name(f".{final.name}.part")
    digest = hashlib.md5()
    done = 0
    try:
        try:
            response = urllib.request.urlopen(url, timeout=timeout)
        except urllib.error.HTTPError as exc:
            raise _MirrorFailed(f"HTTP {exc.code} {exc.reason}") from None
        except urllib.error.URLError as exc:
            raise _MirrorFailed(str(getattr(exc.reason, "strerror", None) or exc.reason)) from None
        except (OSError, ValueError) as exc:
            raise _MirrorFailed(str(exc) or type(exc).__name__) from None
        with response:
            total = int(response.headers.get("Content-Length") or spec.size)
            try:
                out = open(part, "wb")
            except OSError as exc:
                raise DataError(f"cannot write to {final.parent} ({exc.strerror or exc})") from None
            with out:
                while True:
                    if cancel is not None and cancel.is_set():
                        raise DownloadCancelled("download cancelled")
                    try:
                        chunk = response.read(CHUNK)
                    except (OSError, ValueError) as exc:  # timeouts are OSErrors
                        raise _MirrorFailed(f"connection failed mid-download ({exc or type(exc).__name__})") from None
                    if not chunk:
                        break
                    try:
                        out.write(chunk)
                    except OSError as exc:
                        raise DataError(f"cannot write to {final.parent} ({exc.strerror or exc})") from None
                    digest.update(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(spec.gz_name, done, total)
        if digest.hexdigest() != spec.md5:
            raise _MirrorFailed(f"checksum mismatch (MD5 {digest.hexdigest()}, expected {spec.md5})")
        os.replace(part, final)
    finally:
        part.unlink(missing_ok=True)


def md5_of(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
