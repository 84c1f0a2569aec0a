"""End to end: the real ``mnist-tui`` in a pseudo-terminal and headless, interrupted at every stage."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
import zipfile

import pytest

from mnist_tui.worker.spare import NO_SPARE
from tests.support.data import SHARED_MNIST

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


class Session:
    """The real ``mnist-tui`` in a pseudo-terminal at 120x40, read as it paints."""

    def __init__(self, args: list[str], tmp_path, **env: str) -> None:
        self.master, slave = pty.openpty()
        environ = {
            **os.environ,
            "TERM": "xterm-256color",
            "COLUMNS": "120",
            "LINES": "40",
            "XDG_CACHE_HOME": str(tmp_path),
            **env,
        }
        environ.pop("TF_CPP_MIN_LOG_LEVEL", None)  # the app must cope without help
        self.log = tmp_path / "log.txt"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mnist_tui", *args, "--log-file", str(self.log)],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=environ,
            close_fds=True,
        )
        os.close(slave)
        self.screen = bytearray()

    def wait_for(self, text: str, timeout: float = 60) -> None:
        found = read_until(self.master, text.encode(), timeout, self.screen)
        assert found, f"{text!r} never appeared: " + self.screen[-1500:].decode(errors="replace")

    def press(self, key: bytes) -> float:
        """Send a key; return the seconds until the process exited."""
        os.write(self.master, key)
        start = time.monotonic()
        while self.proc.poll() is None and time.monotonic() - start < 10:
            read_until(self.master, b"\0never", 0.02, self.screen)  # keep the pty drained
        return time.monotonic() - start

    def children(self) -> list[int]:
        """The processes this app started (its trainer and model processes, multiprocessing's helper)."""
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = open(f"/proc/{entry}/stat").read()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                    found.append(int(entry))
        return found

    def signal(self, signum: int) -> float:
        """Send a signal from outside; return the seconds until the process exited."""
        self.proc.send_signal(signum)
        start = time.monotonic()
        while self.proc.poll() is None and time.monotonic() - start < 10:
            read_until(self.master, b"\0never", 0.02, self.screen)
        return time.monotonic() - start

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)

    @property
    def restored(self) -> bool:
        """The app left the alternate screen, turned mouse reporting off and showed the cursor on the way out."""
        tail = bytes(self.screen[-600:])
        return b"\x1b[?1049l" in tail and b"\x1b[?25h" in tail and b"\x1b[?1000l" in tail


def gone(pids: list[int], timeout: float = 2.0) -> bool:
    """Whether every process in ``pids`` has ended (a trainer process left behind would not)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = []
        for pid in pids:
            try:
                state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state != "Z":
                alive.append(pid)
        if not alive:
            return True
        time.sleep(0.05)
    return False


def assert_no_crash_in(log) -> None:
    """Quitting is normal: nothing in the log may look like a crash (the trainer's pipe reader once printed one)."""
    text = log.read_text(errors="replace") if log.exists() else ""
    assert "Traceback" not in text and "Exception in thread" not in text, text[-3000:]


# q exits within this (0.5 s) plus the test's own polling and a loaded CI machine's slack
QUIT_SECONDS = 0.75


def test_quit_mid_training_exits_fast_and_keeps_tensorflow_off_the_screen(real_mnist, tmp_path):
    session = Session(["--data", str(real_mnist), "--epochs", "50", "--train-limit", "20000"], tmp_path)
    try:
        session.wait_for("· batch ")
        read_until(session.master, b"never", 1.0, session.screen)  # let a few updates arrive after TensorFlow loaded
        text = session.screen.decode(errors="replace")
        for stray in ("oneDNN", "cuda", "absl", "I0000", "WARNING: All log messages"):
            assert stray not in text, f"{stray!r} was written over the UI"
        children = session.children()
        assert children, "training runs in a process of its own"
        elapsed = session.press(b"q")
    finally:
        session.close()
    assert session.proc.returncode == 0
    assert elapsed < QUIT_SECONDS, f"took {elapsed:.2f} s to exit after q"
    assert session.restored
    assert gone(children), "a trainer process was left behind"
    log = session.log.read_text(errors="replace")
    assert "oneDNN" in log or "cuda" in log or log == ""  # TensorFlow's chatter went to the log


@pytest.mark.parametrize(
    ("moment", "wait_for", "key"),
    [
        ("tensorflow-import", "Loading TensorFlow…", b"q"),
        ("training", "· batch ", b"\x03"),  # ctrl+c
        ("prediction", "Evaluating…", b"q"),
        ("results", "Test accuracy", b"q"),
    ],
)
def test_interrupt_exits_at_once(real_mnist, tmp_path, moment, wait_for, key):
    model = tmp_path / "model.keras"
    epochs = "1" if moment in ("prediction", "results") else "50"
    args = ["--data", str(real_mnist), "--epochs", epochs, "--train-limit", "2000", "--save", str(model)]
    # A spare process imports TensorFlow from the app's start, before the run's data is read,
    # so the run's own "Loading TensorFlow" stage may last no longer than a frame: without a
    # spare, the run's process imports it after the data, seconds that q can land in.
    env = {NO_SPARE: "1"} if moment == "tensorflow-import" else {}
    session = Session(args, tmp_path, **env)
    try:
        session.wait_for(wait_for)
        children = session.children()
        elapsed = session.press(key)
    finally:
        session.close()
    assert session.proc.returncode == 0
    assert elapsed < QUIT_SECONDS, f"took {elapsed:.2f} s to exit after {key!r} during {moment}"
    assert session.restored
    assert gone(children), "a trainer process was left behind"
    # a model is either saved whole or not at all; temporary files never stay behind
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".") or p.suffix == ".tmp")
    assert leftovers == []
    if model.exists():
        assert zipfile.is_zipfile(model)
    assert_no_crash_in(session.log)


def test_quit_while_the_trained_model_is_saved_leaves_no_process_and_no_partial_file(real_mnist, tmp_path):
    # The child's save may be slow to unwind on SIGTERM: the kill at the quit's deadline must
    # still come before the UI's os._exit (it once came from a thread that os._exit cut off).
    model = tmp_path / "model.keras"
    args = ["--data", str(real_mnist), "--epochs", "1", "--train-limit", "3000", "--save", str(model)]
    session = Session(args, tmp_path)
    try:
        session.wait_for("Saving", timeout=120)
        children = session.children()
        elapsed = session.press(b"q")
    finally:
        session.close()
    assert session.proc.returncode == 0
    assert elapsed < QUIT_SECONDS, f"took {elapsed:.2f} s to exit after q while saving"
    assert gone(children, timeout=0.5), "a process of the app outlived it"
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".") or p.suffix == ".tmp")
    assert leftovers == [], "a partial file was left"
    if model.exists():
        assert zipfile.is_zipfile(model)
    assert_no_crash_in(session.log)


def test_quit_during_download_leaves_no_partial_file(tmp_path, server):
    cache = tmp_path / "mnist-tui"
    session = Session(
        [], tmp_path, KERAS_HOME=str(tmp_path / "keras"), MNIST_TUI_DATA="", MNIST_TUI_MIRRORS=f"{server}/stall/"
    )
    try:
        session.wait_for("Loading data…")
        deadline = time.monotonic() + 10
        while not list(cache.glob(".*.part")):  # the mirror has sent a few bytes, then stalls
            assert time.monotonic() < deadline, "the download never started"
            read_until(session.master, b"never", 0.05, session.screen)
        elapsed = session.press(b"q")
    finally:
        session.close()
    assert session.proc.returncode == 0
    assert elapsed < QUIT_SECONDS, f"took {elapsed:.2f} s to exit after q during a download"
    assert session.restored
    time.sleep(0.5)  # the trainer process is gone: nothing of the download may be left
    complete = [p.name for p in cache.iterdir() if not p.name.startswith(".")]
    assert complete == [], "a partly downloaded file was left under its final name"


@pytest.mark.parametrize(
    ("signum", "wait_for"),
    [
        (signal.SIGTERM, "· batch "),
        # while the run's process imports TensorFlow (no spare: see test_interrupt_exits_at_once)
        (signal.SIGHUP, "Loading TensorFlow…"),
        (signal.SIGINT, "Loading TensorFlow…"),
    ],
)
def test_a_signal_from_outside_ends_the_app_like_q(real_mnist, tmp_path, signum, wait_for):
    env = {NO_SPARE: "1"} if wait_for == "Loading TensorFlow…" else {}
    session = Session(["--data", str(real_mnist), "--epochs", "50", "--train-limit", "20000"], tmp_path, **env)
    try:
        session.wait_for(wait_for)
        children = session.children()
        assert children, "the run has a process of its own"
        elapsed = session.signal(signum)
    finally:
        session.close()
    assert session.proc.returncode == 128 + signum
    assert elapsed < QUIT_SECONDS * 2, f"took {elapsed:.2f} s to exit after {signal.Signals(signum).name}"
    assert session.restored, "the terminal was left in the app's modes"
    assert gone(children), "a trainer process was left behind"


def test_a_killed_trainer_process_is_an_error_and_the_app_goes_on(real_mnist, tmp_path):
    session = Session(["--data", str(real_mnist), "--epochs", "50", "--train-limit", "20000"], tmp_path)
    try:
        session.wait_for("· batch ")
        (child,) = [
            pid for pid in session.children() if b"resource_tracker" not in open(f"/proc/{pid}/cmdline", "rb").read()
        ]
        os.kill(child, signal.SIGKILL)
        session.wait_for("SIGKILL", timeout=10)
        session.wait_for("t trains again", timeout=5)
        elapsed = session.press(b"q")
    finally:
        session.close()
    assert session.proc.returncode == 0 and elapsed < QUIT_SECONDS
    assert "Traceback" not in session.screen.decode(errors="replace")


def test_headless_trains_and_saves(headless_run):
    result = headless_run.result
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Epoch 1/2" in result.stdout and "Epoch 2/2" in result.stdout
    assert "Test accuracy:" in result.stdout and "Traceback" not in result.stdout + result.stderr
    assert sorted(p.name for p in headless_run.folder.iterdir() if p.suffix != "") == ["m.history.json", "m.keras"]
    scored = subprocess.run(
        [
            sys.executable,
            "-m",
            "mnist_tui",
            "--headless",
            "--data",
            str(SHARED_MNIST),
            "--model",
            str(headless_run.model),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert scored.returncode == 0 and "Test accuracy:" in scored.stdout


def test_headless_failure_is_one_clear_line(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "mnist_tui", "--headless", "--data", str(empty), "--log-file", str(tmp_path / "log")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("mnist-tui: error:") and "directory is empty" in errors[0]
