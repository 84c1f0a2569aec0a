"""Files written whole or not at all: one atomic-write helper and one temporary-name convention.

Every file the app keeps (a model and its history, a map layout's cache, whatever a
process writes into a run's folder) is written under a temporary name in the same
folder, flushed to disk, then renamed over its target: a reader sees the old file or
the new one, never half of one. The temporary name carries the writer's pid,
``.{stem}.{pid}.partial{suffix}``, so that a file left by a process that died (killed
in the middle of a save) is told apart from one still being written, and swept.

Standard library only: both processes use it.
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MARK = "partial"
"""The word that marks a temporary name."""
_TEMPORARY = re.compile(rf"^\.(?P<stem>.+)\.(?P<pid>\d+)\.{MARK}(?P<suffix>\.[^.]*)?$")


def temporary_path(path: Path, pid: int | None = None) -> Path:
    """Where process ``pid`` (this one by default) writes ``path`` before renaming it.

    ``model.keras`` -> ``.model.4242.partial.keras``: hidden, the writer's pid, and the
    suffix last, because some writers choose their format by it (Keras saves only to
    ``.keras``).
    """
    path = Path(path)
    return path.with_name(f".{path.stem}.{pid or os.getpid()}.{MARK}{path.suffix}")


def writer_pid(path: Path) -> int | None:
    """The pid in a temporary name, or ``None`` when ``path`` is not one."""
    match = _TEMPORARY.match(Path(path).name)
    return int(match["pid"]) if match else None


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Write ``path`` whole or not at all: yields the temporary path to write to.

    When the block ends normally the temporary file is flushed to disk and renamed over
    ``path``; when it raises (``SystemExit`` from a SIGTERM included), the temporary file
    is removed and ``path`` is left as it was.

    Example:
        >>> with atomic_path(target) as tmp:  # doctest: +SKIP
        ...     keras_model.save(tmp)
    """
    path = Path(path)
    tmp = temporary_path(path)
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write(path: Path, data: bytes | str) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` through :func:`atomic_path`."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data.encode() if isinstance(data, str) else data)


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def temporaries(folder: Path, pid: int | None = None) -> list[Path]:
    """The temporary files in ``folder`` (not recursive), only those of process ``pid`` if given."""
    try:
        entries = sorted(Path(folder).iterdir())
    except OSError:
        return []
    found = [(entry, writer_pid(entry)) for entry in entries]
    return [entry for entry, owner in found if owner is not None and (pid is None or owner == pid)]


def process_alive(pid: int) -> bool:
    """Whether a process with this pid exists (it may belong to another user).

    A pid of 0 or below names no single process (``kill(0, 0)`` would ask the whole group).
    """
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: it exists
    except OSError:
        return False
    return True


def stale_temporaries(folder: Path) -> list[Path]:
    """The temporary files in ``folder`` whose writing process is gone: what a killed save left."""
    return [path for path in temporaries(folder) if not process_alive(writer_pid(path) or 0)]


def remove_temporaries(folder: Path, pid: int | None = None) -> int:
    """Remove process ``pid``'s temporary files in ``folder`` (a process just ended), or every stale one.

    Returns:
        How many files were removed.
    """
    doomed = temporaries(folder, pid) if pid is not None else stale_temporaries(folder)
    removed = 0
    for path in doomed:
        try:
            path.unlink()
            removed += 1
        except OSError:  # removed meanwhile, or not ours to remove: nothing to do
            pass
    return removed


KERAS_MEMBERS = ("config.json", "metadata.json")
"""What every ``.keras`` archive Keras 3 writes holds (beside the weights)."""


def keras_file_problem(path: Path) -> str | None:
    """What is wrong with ``path`` as a ``.keras`` model file, in one line; ``None`` if it looks like one.

    The checks that need no Keras: Keras 3 loads a ``.keras`` name only, and such a file is
    a zip archive holding ``config.json`` and ``metadata.json``. Anything else would be refused
    only after TensorFlow's import (seconds), so every way in (``--model``, ``mnist-tui labels``,
    the model process) asks this first.
    """
    path = Path(path)
    if not path.is_file():
        return f"{path}: no such model file"
    if path.suffix != ".keras":
        return f"{path}: not a Keras model file (its name must end in .keras)"
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        return f"{path}: not a Keras model file (a .keras file is a zip archive; this is not one)"
    except OSError as exc:
        return f"{path}: not a Keras model file (unreadable: {exc.strerror or exc})"
    if missing := [name for name in KERAS_MEMBERS if name not in names]:
        return f"{path}: not a Keras model file (a zip archive without {' or '.join(missing)})"
    return None
