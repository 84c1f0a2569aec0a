"""Keep TensorFlow's C++ logging off the screen.

TensorFlow writes some messages straight to file descriptor 2 (before Python's
logging or ``TF_CPP_MIN_LOG_LEVEL`` can stop them), and descriptor 2 is where
Textual draws. While the app runs, descriptor 2 points at a log file and the
terminal is reached through a duplicate of the original descriptor instead.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from .data import app_cache_dir


def default_log_file() -> Path:
    return app_cache_dir() / "mnist-tui.log"


def open_log(path: Path | None) -> tuple[int, Path | None]:
    """Open the log for appending; fall back to the null device when it cannot be written."""
    path = path or default_log_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644), path
    except OSError:
        return os.open(os.devnull, os.O_WRONLY), None


@contextmanager
def stderr_to_log(path: Path | None = None) -> Iterator[tuple[TextIO, Path | None]]:
    """Point descriptor 2 at a log file for the duration; yield the real terminal as a stream.

    ``sys.__stderr__`` (which Textual's driver writes to) is swapped for the
    terminal stream too, and everything is put back on exit.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()
    saved_fd = os.dup(2)
    log_fd, log_path = open_log(path)
    terminal = os.fdopen(
        os.dup(saved_fd), "w", buffering=1, encoding=getattr(sys.__stderr__, "encoding", None) or "utf-8"
    )
    old_dunder, old_stderr = sys.__stderr__, sys.stderr
    os.dup2(log_fd, 2)
    os.close(log_fd)
    sys.__stderr__ = terminal  # type: ignore[misc]  # Textual's driver writes to sys.__stderr__
    try:
        yield terminal, log_path
    finally:
        try:
            terminal.flush()
        except OSError:  # the terminal is gone (SIGHUP: its window closed)
            pass
        os.dup2(saved_fd, 2)
        os.close(saved_fd)
        sys.__stderr__, sys.stderr = old_dunder, old_stderr  # type: ignore[misc]
        try:
            terminal.close()
        except OSError:
            pass
