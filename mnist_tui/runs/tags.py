"""Tags, corrected labels and named queries, kept in the run store. NumPy and the standard library only.

A tag belongs to a dataset's image (dataset name, split, index), not to a run: the same
test image is mislabelled whichever model showed it. Each tag and each relabel records
when it was made and from which run's view (``run_id``, ``None`` outside a recorded run).
The original data files are never touched; :mod:`mnist_tui.commands.tags` writes a
corrected copy.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from ..datasets import MNIST, Dataset
from .store import RunStore, StoreError

MISLABELLED, AMBIGUOUS, FINE = "mislabelled", "ambiguous", "fine"
BUILT_IN = (MISLABELLED, AMBIGUOUS, FINE)
"""The tags offered first; any other lowercase word is a tag too."""

TAG_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}\Z")
"""A lowercase word of up to 32 letters, digits, ``-`` and ``_`` (the query language reads the same)."""

QUERY_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,31}\Z")


def check_tag(name: str) -> str:
    """``name`` as a tag (lowercased); :class:`StoreError` with one line when it cannot be one."""
    tag = name.strip().lower()
    if not TAG_NAME.match(tag):
        raise StoreError(
            f"{name.strip()!r} cannot be a tag: a word of up to 32 letters, digits, - and _, starting with a letter"
        )
    return tag


@dataclass(frozen=True)
class Marks:
    """Every tag and relabel of one split, read at once (what the browser draws and queries read).

    Attributes:
        tags: image index -> its tags, sorted.
        relabels: image index -> the label the person believes.
        size: How many images the split has (the masks' length).
    """

    tags: dict[int, tuple[str, ...]] = field(default_factory=dict)
    relabels: dict[int, int] = field(default_factory=dict)
    size: int = 0

    def names(self) -> list[str]:
        """Every tag in use: the built-in ones first, then the others alphabetically."""
        used = {tag for tags in self.tags.values() for tag in tags}
        return [t for t in BUILT_IN if t in used] + sorted(used - set(BUILT_IN))

    def masks(self) -> dict[str, np.ndarray]:
        """Tag name -> ``(size,)`` bool mask of the images that carry it."""
        masks: dict[str, np.ndarray] = {}
        for index, tags in self.tags.items():
            for tag in tags:
                if 0 <= index < self.size:
                    masks.setdefault(tag, np.zeros(self.size, bool))[index] = True
        return masks

    def relabelled(self) -> np.ndarray:
        """``(size,)`` bool: images with a corrected label."""
        mask = np.zeros(self.size, bool)
        inside = [i for i in self.relabels if 0 <= i < self.size]
        mask[inside] = True
        return mask

    def corrected(self, labels: np.ndarray) -> np.ndarray:
        """A copy of ``labels`` with the relabels applied (the originals are untouched)."""
        fixed = np.array(labels, copy=True)
        for index, label in self.relabels.items():
            if 0 <= index < len(fixed):
                fixed[index] = label
        return fixed


@dataclass(frozen=True)
class Entry:
    """One tag or relabel as recorded: for ``mnist-tui tags`` and its CSV."""

    index: int
    tag: str
    """The tag; for a relabel, empty."""
    label: int | None
    """The relabel's label; ``None`` for a tag."""
    made_at: float
    run_id: int | None


class TagBook:
    """The tags and relabels of one dataset split in a run store.

    Args:
        store: The run store.
        dataset: Whose images (its name keys the rows).
        split: ``"test"`` (what the browser shows) or ``"train"``.
        size: How many images the split has (``None``: the dataset's test size, 10,000 for MNIST).
    """

    def __init__(self, store: RunStore, dataset: Dataset = MNIST, split: str = "test", size: int | None = None) -> None:
        self.store = store
        self.dataset = dataset
        self.split = split
        self.size = size if size is not None else dict(dataset.split_sizes).get(split, 0)
        self._key = (dataset.name, split)

    def _indices(self, indices: Iterable[int]) -> list[int]:
        chosen = sorted({int(i) for i in indices})
        for index in chosen:
            if not 0 <= index < self.size:
                raise StoreError(f"image {index} is not in the {self.split} set (0 to {self.size - 1})")
        return chosen

    # ------------------------------------------------------------------ tags

    def add(self, indices: Iterable[int], tag: str, run_id: int | None = None) -> int:
        """Tag the images (those already tagged keep their first record); returns how many were new."""
        tag = check_tag(tag)
        chosen = self._indices(indices)
        now = self.store.clock()
        with self.store._write() as db:
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO tags (dataset, split, idx, tag, made_at, run_id) VALUES (?, ?, ?, ?, ?, ?)",
                [(*self._key, i, tag, now, run_id) for i in chosen],
            )
            return db.total_changes - before

    def remove(self, indices: Iterable[int], tag: str) -> int:
        """Take the tag off the images; returns how many had it."""
        tag = check_tag(tag)
        chosen = self._indices(indices)
        with self.store._write() as db:
            before = db.total_changes
            db.executemany(
                "DELETE FROM tags WHERE dataset = ? AND split = ? AND idx = ? AND tag = ?",
                [(*self._key, i, tag) for i in chosen],
            )
            return db.total_changes - before

    def toggle(self, indices: Iterable[int], tag: str, run_id: int | None = None) -> bool:
        """Tag every image unless all of them carry the tag already, then untag them; ``True``: tagged."""
        chosen = self._indices(indices)
        tag = check_tag(tag)
        marks = self.read()
        if chosen and all(tag in marks.tags.get(i, ()) for i in chosen):
            self.remove(chosen, tag)
            return False
        self.add(chosen, tag, run_id)
        return True

    # ------------------------------------------------------------------ relabels

    def relabel(self, indices: Iterable[int], label: int, run_id: int | None = None) -> None:
        """Record ``label`` as the right label of the images (replacing an earlier relabel)."""
        if label not in self.dataset.classes:
            raise StoreError(f"{label} is not a label (0 to {self.dataset.num_classes - 1})")
        chosen = self._indices(indices)
        now = self.store.clock()
        with self.store._write() as db:
            db.executemany(
                "INSERT OR REPLACE INTO relabels (dataset, split, idx, label, made_at, run_id) VALUES (?, ?, ?, ?, ?, ?)",
                [(*self._key, i, int(label), now, run_id) for i in chosen],
            )

    def unrelabel(self, indices: Iterable[int]) -> int:
        """Forget the images' relabels (back to the dataset's label); returns how many had one."""
        chosen = self._indices(indices)
        with self.store._write() as db:
            before = db.total_changes
            db.executemany(
                "DELETE FROM relabels WHERE dataset = ? AND split = ? AND idx = ?", [(*self._key, i) for i in chosen]
            )
            return db.total_changes - before

    # ------------------------------------------------------------------ reading

    def read(self) -> Marks:
        """Every tag and relabel of the split."""
        tags: dict[int, list[str]] = {}
        with self.store._read() as db:
            for index, tag in db.execute(
                "SELECT idx, tag FROM tags WHERE dataset = ? AND split = ? ORDER BY idx, tag", self._key
            ):
                tags.setdefault(index, []).append(tag)
            relabels = dict(
                db.execute("SELECT idx, label FROM relabels WHERE dataset = ? AND split = ?", self._key).fetchall()
            )
        return Marks({i: tuple(t) for i, t in tags.items()}, relabels, self.size)

    def entries(self) -> list[Entry]:
        """Every tag and relabel with when and from which run, by index (relabels after the tags)."""
        with self.store._read() as db:
            rows = [
                Entry(i, tag, None, made, run)
                for i, tag, made, run in db.execute(
                    "SELECT idx, tag, made_at, run_id FROM tags WHERE dataset = ? AND split = ?", self._key
                )
            ]
            rows += [
                Entry(i, "", label, made, run)
                for i, label, made, run in db.execute(
                    "SELECT idx, label, made_at, run_id FROM relabels WHERE dataset = ? AND split = ?", self._key
                )
            ]
        return sorted(rows, key=lambda e: (e.index, e.label is not None, e.tag))

    # ------------------------------------------------------------------ named queries

    def save_query(self, name: str, text: str) -> None:
        """Remember a query under ``name`` (replacing one of that name)."""
        if not QUERY_NAME.match(name):
            raise StoreError(f"{name!r} cannot name a query: a word of up to 32 letters, digits, - and _")
        with self.store._write() as db:
            db.execute(
                "INSERT OR REPLACE INTO queries (name, text, made_at) VALUES (?, ?, ?)",
                (name.lower(), text, self.store.clock()),
            )

    def queries(self) -> dict[str, str]:
        """The named queries, name -> text, by name."""
        with self.store._read() as db:
            return dict(db.execute("SELECT name, text FROM queries ORDER BY name").fetchall())

    def forget_query(self, name: str) -> bool:
        with self.store._write() as db:
            return db.execute("DELETE FROM queries WHERE name = ?", (name.lower(),)).rowcount > 0


# ---------------------------------------------------------------------- re-scoring


def corrected_accuracy(probabilities: np.ndarray, labels: np.ndarray, relabels: dict[int, int]) -> float:
    """The accuracy of ``probabilities`` against ``labels`` with the relabels applied."""
    fixed = Marks(relabels=relabels, size=len(labels)).corrected(np.asarray(labels))
    return float((np.asarray(probabilities).argmax(axis=1) == fixed).mean()) if len(fixed) else 0.0


_RESCORED: dict[tuple[str, int, float, frozenset], float] = {}
"""Accuracies already re-scored: by store, run, predictions file time and the relabels."""


def rescored(store: RunStore, run_ids: Iterable[int], dataset: Dataset = MNIST) -> dict[int, float]:
    """Each run's test accuracy on the corrected labels; empty when nothing is relabelled.

    Runs without readable predictions are left out. Each run's file is read once per set
    of relabels (the runs screen asks again on every visit).
    """
    from .compare import load_scored

    relabels = TagBook(store, dataset).read().relabels
    if not relabels:
        return {}
    key = frozenset(relabels.items())
    out: dict[int, float] = {}
    for run_id in run_ids:
        path = store.predictions_path(run_id)
        try:
            stamp = path.stat().st_mtime
        except OSError:
            continue
        cache = (str(store.home), run_id, stamp, key)
        if cache not in _RESCORED:
            try:
                scored = load_scored(store, run_id)
            except StoreError:
                continue
            _RESCORED[cache] = corrected_accuracy(scored.probabilities, scored.labels, relabels)
        out[run_id] = _RESCORED[cache]
    return out
