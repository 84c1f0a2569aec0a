"""Fuzzing the MNIST readers: whatever the bytes, the result is good data or a ``DataError``.

A seeded generator (the same inputs every run) builds IDX files, gzip streams and
``.npz`` archives, valid and broken in every way we could think of: headers, magic
numbers, dimensions, lengths, truncations, flipped bytes, corrupt gzip, npz members,
dtypes, shapes, object arrays and hand-written ``.npy`` headers that promise huge
arrays. Every input must either load into well-formed arrays or raise ``DataError``,
within a time bound, and headers that promise huge sizes must be refused without
allocating them.
"""

from __future__ import annotations

import gzip
import io
import signal
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from mnist_tui.data import DataError, gunzip_if_gzipped, load_idx_dir, load_npz, parse_idx, read_maybe_gzip, read_npz
from tests.support.data import idx_bytes, tiny_arrays, write_idx_dir

SEED = 17
CASE_SECONDS = 2.0
"""No single input may take longer than this; a reader that loops or inflates a bomb trips it."""


class Hang(Exception):
    """An input took longer than :data:`CASE_SECONDS`."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`Hang` in the block if it runs longer than ``seconds`` (main thread, POSIX)."""

    def alarm(signum, frame):
        raise Hang(f"took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def outcome(load: Callable[[], object]) -> object:
    """``load()``'s result, or ``None`` when it raised ``DataError``; anything else fails the test."""
    with time_limit(CASE_SECONDS):
        try:
            return load()
        except DataError as exc:
            assert str(exc), "a DataError says what is wrong"
            return None


# ----------------------------------------------------------------------------- byte mutations


def mutate(rng: np.random.Generator, raw: bytes) -> bytes:
    """One random corruption of ``raw`` (or none)."""
    op = int(rng.integers(8))
    data = bytearray(raw)
    if op == 0 or not data:
        return bytes(data)
    if op == 1:  # truncated anywhere
        return bytes(data[: int(rng.integers(len(data)))])
    if op == 2:  # a few flipped bytes
        for _ in range(int(rng.integers(1, 4))):
            data[int(rng.integers(len(data)))] ^= int(rng.integers(1, 256))
        return bytes(data)
    if op == 3:  # trailing garbage
        return bytes(data) + rng.bytes(int(rng.integers(1, 40)))
    if op == 4:  # a byte dropped from the middle
        cut = int(rng.integers(len(data)))
        return bytes(data[:cut] + data[cut + 1 :])
    if op == 5:  # bytes inserted
        cut = int(rng.integers(len(data) + 1))
        return bytes(data[:cut]) + rng.bytes(int(rng.integers(1, 9))) + bytes(data[cut:])
    if op == 6:  # a run overwritten with 0x00 or 0xff
        start = int(rng.integers(len(data)))
        fill = 0xFF if rng.random() < 0.5 else 0
        end = min(start + int(rng.integers(1, 16)), len(data))
        data[start:end] = bytes([fill]) * (end - start)
        return bytes(data)
    return rng.bytes(int(rng.integers(0, 64)))  # noise


# ----------------------------------------------------------------------------- IDX


def random_idx(rng: np.random.Generator) -> tuple[bytes, str]:
    """An IDX file, valid or not, and the kind it is read as."""
    kind = "images" if rng.random() < 0.5 else "labels"
    n = int(rng.integers(0, 5))
    if kind == "images":
        raw = idx_bytes(rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8))
    else:
        raw = idx_bytes(rng.integers(0, 10 if rng.random() < 0.8 else 256, size=n, dtype=np.uint8))
    header = bytearray(raw[: 16 if kind == "images" else 8])
    field = int(rng.integers(6))
    if field == 1:  # magic: the other kind's, byte-swapped, or anything
        header[0:4] = int(rng.choice([2049, 2051, 0x03080000, 0x0801, 0x0D08, int(rng.integers(2**32))])).to_bytes(
            4, "big"
        )
    elif field == 2:  # count: small lies and huge promises
        header[4:8] = int(
            rng.choice([n + 1, max(n - 1, 0), 60_000, 2**31 - 1, 2**32 - 1, int(rng.integers(2**32))])
        ).to_bytes(4, "big")
    elif field == 3 and kind == "images":  # image side
        header[8:16] = b"".join(int(rng.choice([0, 1, 27, 28, 29, 2**32 - 1])).to_bytes(4, "big") for _ in range(2))
    raw = bytes(header) + raw[len(header) :]
    if rng.random() < 0.5:
        raw = mutate(rng, raw)
    return raw, kind


def check_idx(array: object, kind: str) -> None:
    if array is None:
        return
    assert isinstance(array, np.ndarray) and array.dtype == np.uint8
    if kind == "images":
        assert array.ndim == 3 and array.shape[1:] == (28, 28)
    else:
        assert array.ndim == 1 and (array.size == 0 or array.max() <= 9)


def test_fuzz_parse_idx():
    rng = np.random.default_rng(SEED)
    loaded = 0
    for _ in range(IDX_CASES):
        raw, kind = random_idx(rng)
        array = outcome(lambda: parse_idx(raw, "fuzz.idx", kind))
        check_idx(array, kind)
        loaded += array is not None
    assert 0 < loaded < IDX_CASES  # both outcomes were exercised


def random_gzip(rng: np.random.Generator) -> bytes:
    """A gzip stream of an IDX file, then maybe corrupted: header, deflate data, CRC, length, members."""
    raw, _ = random_idx(rng)
    packed = gzip.compress(raw, compresslevel=int(rng.integers(0, 10)), mtime=0)
    op = int(rng.integers(6))
    if op == 1:
        packed += gzip.compress(rng.bytes(int(rng.integers(0, 30))), mtime=0)  # a second member
    elif op == 2:
        packed = packed[:-8] + rng.bytes(8)  # CRC and length wrong
    elif op == 3:
        packed = b"\x1f\x8b" + rng.bytes(int(rng.integers(0, 40)))  # the magic and then noise
    elif op == 4:
        packed = packed[:10] + rng.bytes(len(packed) - 10)  # a valid header over noise
    return mutate(rng, packed)


def test_fuzz_gzip(tmp_path: Path):
    rng = np.random.default_rng(SEED + 1)
    path = tmp_path / "fuzz.gz"
    for case in range(GZIP_CASES):
        packed = random_gzip(rng)
        if case < ON_DISK_CASES:  # the reader from a file, as the app uses it
            path.write_bytes(packed)
            raw = outcome(lambda: read_maybe_gzip(path))
        else:
            raw = outcome(lambda: gunzip_if_gzipped(packed, "fuzz.gz"))
        assert raw is None or isinstance(raw, bytes)
        if raw is not None:
            kind = "images" if rng.random() < 0.5 else "labels"
            check_idx(outcome(lambda: parse_idx(raw, "fuzz.gz", kind)), kind)


def test_fuzz_idx_directory(tmp_path: Path):
    """Whole directories: each of the four files may be broken, swapped, or of another size."""
    rng = np.random.default_rng(SEED + 2)
    directory = write_idx_dir(tmp_path / "mnist", tiny_arrays(6, 3))
    files = sorted(directory.iterdir())
    good = {path: path.read_bytes() for path in files}
    loaded = 0
    for _ in range(DIR_CASES):
        for path, raw in good.items():
            path.write_bytes(raw)
        for path in rng.choice(files, size=int(rng.integers(0, 3)), replace=False):
            path.write_bytes(mutate(rng, good[path]) if rng.random() < 0.7 else random_gzip(rng))
        data = outcome(lambda: load_idx_dir(directory, check_sizes=bool(rng.random() < 0.2)))
        if data is not None:
            loaded += 1
            assert len(data.x_train) == len(data.y_train) and len(data.x_test) == len(data.y_test)
    assert loaded > 0


# ----------------------------------------------------------------------------- npz

KEYS = ("x_train", "y_train", "x_test", "y_test")
DTYPES = [
    np.uint8,
    np.uint8,
    np.uint8,
    np.int64,
    np.int8,
    np.uint16,
    np.int32,
    np.float32,
    np.float64,
    np.bool_,
    np.complex64,
    "U3",
    "S2",
    "datetime64[s]",
    "V4",
    [("a", np.uint8), ("b", np.int16)],
    object,
]


def random_array(rng: np.random.Generator, key: str, n: int) -> np.ndarray:
    """An array for ``key``: usually the right shape and dtype, sometimes not."""
    dtype = np.dtype(DTYPES[int(rng.integers(len(DTYPES)))]) if rng.random() < 0.4 else np.dtype(np.uint8)
    if rng.random() < 0.8:
        shape: tuple[int, ...] = (n, 28, 28) if key.startswith("x") else (n,)
    else:
        shape = tuple(int(d) for d in rng.choice([0, 1, 2, 27, 28, 29], size=int(rng.integers(0, 5))))
    if dtype.kind == "O":
        array = np.empty(shape, dtype=object)
        array.fill(rng.choice([0, 3, "x"]).item())
        return array
    high = 10 if key.startswith("y") and rng.random() < 0.8 else 256
    values = rng.integers(-2 if rng.random() < 0.1 else 0, high + 40 * (rng.random() < 0.1), size=shape)
    try:
        return values.astype(dtype)
    except (TypeError, ValueError):
        return np.zeros(shape, dtype=dtype)


def npy_with_header(header: str, payload: bytes, version: tuple[int, int] = (1, 0)) -> bytes:
    """A ``.npy`` member written by hand, so its header can promise anything."""
    text = header.encode("latin1")
    size_bytes = 2 if version == (1, 0) else 4
    pad = -(6 + 2 + size_bytes + len(text) + 1) % 64
    text += b" " * pad + b"\n"
    return b"\x93NUMPY" + bytes(version) + len(text).to_bytes(size_bytes, "little") + text + payload


HEADERS = [
    "{'descr': '|u1', 'fortran_order': False, 'shape': (1000000000, 28, 28), }",
    "{'descr': '|u1', 'fortran_order': False, 'shape': (4294967296, 28, 28), }",
    "{'descr': '<i8', 'fortran_order': False, 'shape': (9223372036854775807,), }",
    "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 28, 28), }",
    "{'descr': '|u1', 'fortran_order': True, 'shape': (2, 28, 28), }",
    "{'descr': '|u1', 'fortran_order': False, 'shape': (-1, 28, 28), }",
    "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }",
    "{'descr': '|u1', 'fortran_order': False, 'shape': (2,), 'extra': 1}",
    "{'descr': '|u1', 'shape': (2,), }",
    "{'descr': 'not a dtype', 'fortran_order': False, 'shape': (2,), }",
    "{'descr': '|u1', 'fortran_order': False, 'shape': [2], }",
    "{'descr': [('a', '|u1')], 'fortran_order': False, 'shape': (2,), }",
    "__import__('os').system('false')",
    "{'descr': '|u1', 'fortran_order': False, 'shape': (2,) ",
    "",
]


def random_npz(rng: np.random.Generator) -> bytes:
    """A ``.npz`` archive, valid or not."""
    n_train, n_test = int(rng.integers(0, 4)), int(rng.integers(0, 3))
    arrays = {key: random_array(rng, key, n_train if key.endswith("train") else n_test) for key in KEYS}
    for key in KEYS:
        if rng.random() < 0.05:
            del arrays[key]  # a member missing
    if rng.random() < 0.1:
        arrays["extra"] = np.arange(3)
    buffer = io.BytesIO()
    if rng.random() < 0.05:  # exactly as NumPy writes them
        (np.savez_compressed if rng.random() < 0.5 else np.savez)(buffer, **arrays)
    else:  # members written one by one, some by hand with headers that promise anything
        deflated = rng.random() < 0.5
        method = zipfile.ZIP_DEFLATED if deflated else zipfile.ZIP_STORED
        with zipfile.ZipFile(buffer, "w", method, compresslevel=1 if deflated else None) as archive:
            for key, array in arrays.items():
                if rng.random() < 0.15:
                    header = HEADERS[int(rng.integers(len(HEADERS)))]
                    version = [(1, 0), (2, 0), (3, 0), (9, 9)][int(rng.integers(4))]
                    data = npy_with_header(header, rng.bytes(int(rng.integers(0, 2 * 784))), version)
                else:
                    member = io.BytesIO()
                    np.save(member, array, allow_pickle=True)
                    data = member.getvalue()
                archive.writestr(key + (".npy" if rng.random() < 0.95 else ""), data)
    raw = buffer.getvalue()
    return mutate(rng, raw) if rng.random() < 0.3 else raw


def test_fuzz_npz(tmp_path: Path):
    rng = np.random.default_rng(SEED + 3)
    path = tmp_path / "mnist.npz"
    loaded = 0
    for case in range(NPZ_CASES):
        raw = random_npz(rng)
        if case < ON_DISK_CASES:  # the reader from a file, as the app uses it
            path.write_bytes(raw)
            data = outcome(lambda: load_npz(path, check_sizes=False))
        else:
            data = outcome(lambda: read_npz(io.BytesIO(raw), "mnist.npz", check_sizes=False))
        if data is not None:
            loaded += 1
            for key in KEYS:
                array = getattr(data, key)
                assert isinstance(array, np.ndarray) and array.dtype == np.uint8
            assert data.x_train.shape[1:] == (28, 28) and data.y_train.ndim == 1
            assert len(data.x_train) == len(data.y_train) and len(data.x_test) == len(data.y_test)
            assert data.y_train.size == 0 or data.y_train.max() <= 9
    assert 0 < loaded < NPZ_CASES


# ----------------------------------------------------------------------------- huge promises


HUGE_IDX = [
    idx_bytes(np.zeros((0, 28, 28)))[:4] + (2**32 - 1).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2,
    idx_bytes(np.zeros(0))[:4] + (2**32 - 1).to_bytes(4, "big") + b"\0" * 100,
]


@pytest.mark.parametrize("raw", HUGE_IDX, ids=["images", "labels"])
def test_a_huge_idx_header_is_refused_without_allocating(raw):
    kind = "images" if len(raw) == 16 else "labels"
    with allocation_limit(1 << 20):
        with pytest.raises(DataError, match="header promises"):
            parse_idx(raw, "huge.idx", kind)


@pytest.mark.parametrize("header", HEADERS[:3], ids=["1e9-images", "2^32-images", "int64-max"])
@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED], ids=["stored", "deflated"])
def test_a_huge_npy_header_is_refused_without_allocating(tmp_path: Path, header: str, method: int):
    path = tmp_path / "mnist.npz"
    with zipfile.ZipFile(path, "w", method) as archive:
        for key in KEYS:
            archive.writestr(key + ".npy", npy_with_header(header, b"\0" * 784))
    with allocation_limit(4 << 20):
        with pytest.raises(DataError):
            load_npz(path, check_sizes=False)


def test_a_gzip_bomb_is_refused_without_inflating_it_all(tmp_path: Path, monkeypatch):
    """A small .gz that inflates past the largest file MNIST could be is refused as soon as it passes it."""
    from mnist_tui import data

    assert data.MAX_IDX_BYTES > 47_040_016  # the real training images fit
    monkeypatch.setattr(data, "MAX_IDX_BYTES", 1 << 20)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    header = idx_bytes(np.zeros((0, 28, 28)))[:4] + (60_000).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    path.write_bytes(gzip.compress(header + bytes(16 << 20), compresslevel=1, mtime=0))
    assert path.stat().st_size < 100_000
    with allocation_limit(6 << 20):
        with pytest.raises(DataError, match="decompresses to more than 1,048,576 bytes"):
            read_maybe_gzip(path)


def test_a_file_larger_than_any_mnist_file_is_not_read(tmp_path: Path, monkeypatch):
    from mnist_tui import data

    monkeypatch.setattr(data, "MAX_IDX_BYTES", 1000)
    path = tmp_path / "t10k-labels-idx1-ubyte"
    path.write_bytes(bytes(1001))
    with pytest.raises(DataError, match="1,001 bytes is more than an MNIST file can be"):
        read_maybe_gzip(path)


@contextmanager
def allocation_limit(limit: int) -> Iterator[None]:
    """Fail if the block's peak traced allocation (NumPy's included) passes ``limit`` bytes."""
    tracemalloc.start()
    try:
        yield
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < limit, f"allocated {peak:,} bytes"


# ----------------------------------------------------------------------------- how many

IDX_CASES = 4000
GZIP_CASES = 2000
DIR_CASES = 60
NPZ_CASES = 1500
ON_DISK_CASES = 100
"""Of the gzip and npz cases, this many go through a file on disk; the rest are read from memory."""
TOTAL_CASES = IDX_CASES + GZIP_CASES + DIR_CASES + NPZ_CASES
"""Inputs tried per run: 7,560 (plus the hand-made huge ones)."""
