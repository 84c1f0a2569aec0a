"""End to end: the real ``mnist-tui`` in a pseudo-terminal, trained on real MNIST, quit mid-epoch."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.keras


def read_until(fd: int, needle: bytes, timeout: float, buffer: bytearray) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return needle in buffer
            if not chunk:
                return needle in buffer
            buffer.extend(chunk)
            if needle in buffer:
                return True
    return False


def test_quit_mid_training_exits_fast_and_keeps_tensorflow_off_the_screen(real_mnist, tmp_path):
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40", "XDG_CACHE_HOME": str(tmp_path)}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)  # the app must cope without help
    proc = subprocess.Popen(
        [sys.executable, "-m", "mnist_tui", "--data", str(real_mnist), "--epochs", "50", "--train-limit", "20000",
         "--log-file", str(tmp_path / "log.txt")],
        stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True,
    )  # fmt: skip
    os.close(slave)
    screen = bytearray()
    try:
        assert read_until(master, b"batch", 60, screen), screen[-2000:].decode(errors="replace")
        read_until(master, b"never", 1.0, screen)  # let a few updates arrive after TensorFlow loaded
        text = screen.decode(errors="replace")
        for stray in ("oneDNN", "cuda", "absl", "I0000", "WARNING: All log messages"):
            assert stray not in text, f"{stray!r} was written over the UI"
        os.write(master, b"q")
        start = time.monotonic()
        status = proc.wait(timeout=10)
        elapsed = time.monotonic() - start
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert status == 0
    assert elapsed < 2.0, f"took {elapsed:.2f} s to exit after q"
    log = (tmp_path / "log.txt").read_text(errors="replace")
    assert "oneDNN" in log or "cuda" in log or log == ""  # TensorFlow's chatter went to the log


def test_headless_trains_and_saves(real_mnist, tmp_path):
    model = tmp_path / "m.keras"
    result = subprocess.run(
        [sys.executable, "-m", "mnist_tui", "--headless", "--data", str(real_mnist), "--epochs", "2",
         "--train-limit", "3000", "--seed", "1", "--save", str(model), "--log-file", str(tmp_path / "log")],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Epoch 1/2" in result.stdout and "Epoch 2/2" in result.stdout
    assert "Test accuracy:" in result.stdout and "Traceback" not in result.stdout + result.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix != "") == ["m.history.json", "m.keras"]
    scored = subprocess.run(
        [sys.executable, "-m", "mnist_tui", "--headless", "--data", str(real_mnist), "--model", str(model)],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert scored.returncode == 0 and "Test accuracy:" in scored.stdout


def test_headless_failure_is_one_clear_line(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "mnist_tui", "--headless", "--data", str(empty), "--log-file", str(tmp_path / "log")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("mnist-tui: error:") and "directory is empty" in errors[0]
