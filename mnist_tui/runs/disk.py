"""The run store's files: where the store lives, how big a run's folder is, and writes that never leave half a file."""

from __future__ import annotations

import os
from pathlib import Path

from ..files import atomic_write


def default_home() -> Path:
    """``$MNIST_TUI_HOME``, else ``$XDG_DATA_HOME/mnist-tui``, else ``~/.local/share/mnist-tui``."""
    if os.environ.get("MNIST_TUI_HOME"):
        return Path(os.environ["MNIST_TUI_HOME"]).expanduser()
    if os.environ.get("XDG_DATA_HOME"):
        return Path(os.environ["XDG_DATA_HOME"]).expanduser() / "mnist-tui"
    return Path.home() / ".local" / "share" / "mnist-tui"


def folder_size(folder: Path) -> tuple[int, set[str]]:
    """Bytes used by the files in ``folder`` (not recursive) and their names."""
    total, names = 0, set()
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_file(follow_symlinks=False):
                    names.add(entry.name)
                    total += entry.stat(follow_symlinks=False).st_size
    except OSError:
        pass
    return total, names


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path``, then rename; nothing half-written is ever left."""
    atomic_write(path, data)
