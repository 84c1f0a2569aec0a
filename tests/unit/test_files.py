"""Atomic writes, the temporary-name convention and the sweep of what dead processes left."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from mnist_tui import files


def test_a_temporary_name_is_hidden_carries_the_pid_and_keeps_the_suffix(tmp_path):
    path = files.temporary_path(tmp_path / "model.keras", pid=4242)
    assert path == tmp_path / ".model.4242.partial.keras"
    assert files.writer_pid(path) == 4242
    assert files.writer_pid(files.temporary_path(tmp_path / "model.history.json")) == os.getpid()
    assert files.writer_pid(tmp_path / "model.keras") is None
    assert files.writer_pid(tmp_path / ".model.keras") is None


def test_an_atomic_write_leaves_the_old_file_when_it_fails(tmp_path):
    target = tmp_path / "layout.npy"
    files.atomic_write(target, b"old")
    with pytest.raises(RuntimeError), files.atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        assert files.temporaries(tmp_path) == [tmp]
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"old" and files.temporaries(tmp_path) == []
    files.atomic_write(target, "new")
    assert target.read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["layout.npy"]


def test_the_sweep_removes_only_what_dead_processes_left(tmp_path):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(gone.stdout)
    left = files.temporary_path(tmp_path / "model.keras", dead_pid)
    left.write_bytes(b"half a model")
    writing = files.temporary_path(tmp_path / "map-islands.npy")  # this process: still writing
    writing.write_bytes(b"half a layout")
    kept = tmp_path / "model.keras"
    kept.write_bytes(b"a model")
    assert files.stale_temporaries(tmp_path) == [left]
    assert files.remove_temporaries(tmp_path) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([writing.name, kept.name])
    assert files.remove_temporaries(tmp_path, os.getpid()) == 1  # a process that just ended: all of its files
    assert [p.name for p in tmp_path.iterdir()] == [kept.name]
