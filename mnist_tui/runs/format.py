"""Runs as short text for people: shared by ``mnist-tui runs`` and the runs screen."""

from __future__ import annotations

import math
import time

from .model import Run

DASH = "–"


def when(timestamp: float, now: float) -> str:
    """``just now``, ``5 min ago``, ``3 h ago``, ``Tue 14:02`` within a week, else ``2025-03-01``."""
    ago = now - timestamp
    if ago < 60:
        return "just now"
    if ago < 3600:
        return f"{int(ago // 60)} min ago"
    if ago < 6 * 3600:
        return f"{int(ago // 3600)} h ago"
    local = time.localtime(timestamp)
    if ago < 6 * 24 * 3600:
        return time.strftime("%a %H:%M", local)
    return time.strftime("%Y-%m-%d", local)


def stamp(timestamp: float | None) -> str:
    """An absolute local time, ``2025-03-01 14:02:09``."""
    return DASH if timestamp is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp))


def duration(seconds: float | None) -> str:
    """A time span, the one way the app writes one: ``5.2 s``, ``18 s``, ``1 min 05 s``, ``1 h 02 min``.

    Every screen (training, the runs table, the comparison) and ``--headless`` write
    durations with this; ``–`` when there is none (or it is negative or not finite).
    """
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return DASH
    if seconds < 9.95:
        return f"{seconds:.1f} s"
    total = int(round(seconds))
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def size(n: int) -> str:
    """``0 B``, ``412 KB``, ``1.2 MB`` (powers of 1,000, like ``ls -h --si``)."""
    if n <= 0:
        return DASH
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= scale:
            value = n / scale
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{n} B"


def percent(value: float | None) -> str:
    return DASH if value is None or not math.isfinite(value) else f"{value:.2%}"


def number(value: float | None, digits: int = 4) -> str:
    return DASH if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def option_text(name: str, value: object) -> str:
    """One option by its short name: ``lr=0.01``, ``seed=none``; a switch as ``validate`` or ``no-validate``."""
    if isinstance(value, bool):
        return name if value else f"no-{name}"
    if value is None:
        return f"{name}=none"
    if isinstance(value, float):
        return f"{name}={value:g}"
    return f"{name}={value}"


def options(run: Run) -> str:
    """The options that differ from the defaults: ``epochs=3 lr=0.01`` (empty for the defaults)."""
    return " ".join(option_text(name, value) for name, value in run.options.items())


def best(run: Run) -> str:
    """Best val_accuracy and the epoch it came at: ``98.10% @7``."""
    epoch = run.best
    return DASH if epoch is None else f"{percent(epoch.val_accuracy)} @{epoch.epoch}"


def epochs(run: Run, width: int | None = None) -> str:
    """Epochs done of those planned: ``3/10``.

    A last epoch cut short by a stop counts in tenths, rounded down (``0.1/1``: stopped at
    batch 100 of 938); where that is wider than ``width``, the whole epochs and a ``+``
    (``2+/10``).
    """
    planned = run.epochs_planned
    last = run.last

    def text(done: str) -> str:
        return f"{done}/{planned}" if planned else done

    if last is None or not last.partial:
        return text(str(run.epochs_done))
    tenths = text(f"{math.floor(run.epochs_trained * 10) / 10:.1f}")
    if width is None or len(tenths) <= width:
        return tenths
    return text(f"{run.epochs_done - 1}+")


def label(run: Run) -> str:
    """The run's name, and the run it trained further when it has one: ``cnn-5 ↳#3``."""
    return run.name if run.parent_id is None else f"{run.name} ↳#{run.parent_id}"


def status(run: Run) -> str:
    """The status, or ``model missing`` for a run that ended with a model whose file is gone."""
    return "model missing" if run.model_missing else run.status


def search_text(run: Run) -> str:
    """What the filter matches against: id, name, architecture, options and status, lower case."""
    return " ".join(
        [f"#{run.id}", str(run.id), run.name, run.arch, options(run), run.status, status(run), run.message or ""]
    ).lower()
