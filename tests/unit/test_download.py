"""Downloading MNIST from mirrors served on 127.0.0.1: progress, checksums, failures, fallback."""

from __future__ import annotations

import errno
import gzip
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from mnist_tui.data import DataError, DownloadCancelled, download_mnist, load_idx_dir
from tests.support.data import tiny_arrays
from tests.support.mirror import FILES, PAYLOADS


def no_leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_download_with_progress(server, tmp_path):
    seen: list[tuple[str, int, int]] = []
    download_mnist(tmp_path, [f"{server}/good/"], progress=lambda *a: seen.append(a), files=FILES)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(PAYLOADS)
    for name, body in PAYLOADS.items():
        assert (tmp_path / name).read_bytes() == body
        final = [s for s in seen if s[0] == name][-1]
        assert final == (name, len(body), len(body))
    dones = [done for name, done, _ in seen if name == "train-images-idx3-ubyte.gz"]
    assert dones == sorted(dones)
    assert load_idx_dir(tmp_path, check_sizes=False).x_train.shape == (60, 28, 28)


def test_checksum_mismatch_leaves_nothing(server, tmp_path):
    with pytest.raises(DataError, match="checksum mismatch"):
        download_mnist(tmp_path, [f"{server}/bad/"], files=FILES)
    assert no_leftovers(tmp_path) == []


def test_404_and_500(server, tmp_path):
    with pytest.raises(DataError, match=r"HTTP 404.*HTTP 500.*pass --data DIR"):
        download_mnist(tmp_path, [f"{server}/404/", f"{server}/500/"], files=FILES)
    assert no_leftovers(tmp_path) == []


def test_connection_refused(tmp_path):
    with pytest.raises(DataError, match=r"(?i)refused.*pass --data DIR"):
        download_mnist(tmp_path, ["http://127.0.0.1:9/"], files=FILES, timeout=2)
    assert no_leftovers(tmp_path) == []


def test_mirror_fallback(server, tmp_path):
    download_mnist(tmp_path, ["http://127.0.0.1:9/", f"{server}/bad/", f"{server}/good/"], files=FILES, timeout=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(PAYLOADS)


def test_stalled_server_times_out(server, tmp_path):
    start = time.monotonic()
    with pytest.raises(DataError, match="mid-download"):
        download_mnist(tmp_path, [f"{server}/stall/"], files=FILES, timeout=0.5)
    assert time.monotonic() - start < 4
    assert no_leftovers(tmp_path) == []


def test_cancel_leaves_nothing(server, tmp_path):
    cancel = threading.Event()

    def progress(name, done, total):
        cancel.set()

    with pytest.raises(DownloadCancelled):
        download_mnist(tmp_path, [f"{server}/good/"], progress=progress, cancel=cancel, files=FILES)
    assert no_leftovers(tmp_path) == []


def test_read_only_cache_directory(server, tmp_path):
    target = tmp_path / "ro"
    target.mkdir()
    target.chmod(0o500)
    try:
        probe = target / "probe"
        try:
            probe.write_text("x")
            probe.unlink()
            pytest.skip("running as a user who can write anywhere")
        except OSError:
            pass
        with pytest.raises(DataError, match="cannot write"):
            download_mnist(target, [f"{server}/good/"], files=FILES)
    finally:
        target.chmod(0o700)


class FailingFile:
    """A file whose writes fail the way a full disk does."""

    def __init__(self, real) -> None:
        self.real = real

    def write(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.real.close()


@pytest.mark.parametrize(
    ("failure", "message"),
    [("read-only", "Read-only file system"), ("full", "No space left on device")],
)
def test_full_or_read_only_cache_leaves_nothing(server, tmp_path, monkeypatch, failure, message):
    import builtins

    def fake_open(path, mode="r", *args, **kwargs):
        if "w" in mode and failure == "read-only":
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        handle = builtins.open(path, mode, *args, **kwargs)
        return FailingFile(handle) if "w" in mode else handle

    monkeypatch.setattr("mnist_tui.data.open", fake_open, raising=False)
    with pytest.raises(DataError, match=f"cannot write to {tmp_path}.*{message}"):
        download_mnist(tmp_path, [f"{server}/good/"], files=FILES)
    assert no_leftovers(tmp_path) == []


def test_unwritable_cache_directory_parent(server, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(DataError, match="cannot create cache directory"):
        download_mnist(blocker / "cache", [f"{server}/good/"], files=FILES)


def test_existing_files_are_not_downloaded_again(server, tmp_path):
    download_mnist(tmp_path, [f"{server}/good/"], files=FILES)
    before = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    download_mnist(tmp_path, [f"{server}/404/"], files=FILES)
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == before


def test_tiny_arrays_are_what_was_served():
    x_train = tiny_arrays()[0]
    assert gzip.decompress(PAYLOADS["train-images-idx3-ubyte.gz"])[16:] == np.asarray(x_train).tobytes()
