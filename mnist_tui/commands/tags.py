"""``mnist-tui tags``: the test images you tagged or relabelled, and a corrected copy of the test labels.

``--csv`` lists index, given label, your label and tags. ``--export PATH`` writes the
test labels with your corrections as an IDX file (gzipped when PATH ends in ``.gz``) and
``PATH.changes.csv`` beside it, listing every changed label. The dataset's own files are
never touched: an export over them is refused, and an existing file is replaced only
with ``--overwrite``.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..files import atomic_write
from ..labels import LabelsError, load_test_split
from ..runs import StoreError, open_store
from ..runs.tags import Entry, Marks, TagBook
from . import Parser

PROG = "mnist-tui tags"
COLUMNS = ("index", "label", "your_label", "tags")
CHANGE_COLUMNS = ("index", "label", "your_label", "tags", "made_at", "run")
LABEL_MAGIC = 2049


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog=PROG,
        description=(
            "The MNIST test images you tagged (x in the browser or the grid) or relabelled (b): "
            "their given label, your label and tags. --export writes a corrected copy of the test labels."
        ),
    )
    parser.add_argument("--csv", action="store_true", help=f"CSV with the columns {','.join(COLUMNS)}")
    parser.add_argument(
        "--export",
        metavar="PATH",
        type=Path,
        help="write the test labels with your corrections as an IDX file (.gz: gzipped) and PATH.changes.csv",
    )
    parser.add_argument("--overwrite", action="store_true", help="let --export replace existing files")
    parser.add_argument(
        "--data",
        metavar="PATH",
        type=Path,
        help="where MNIST is (default: $MNIST_TUI_DATA, then the caches, then download)",
    )
    return parser


def idx_labels(labels: np.ndarray) -> bytes:
    """``labels`` as an IDX labels file (magic 2049, the count, one byte each)."""
    labels = np.asarray(labels, np.uint8)
    return LABEL_MAGIC.to_bytes(4, "big") + len(labels).to_bytes(4, "big") + labels.tobytes()


def changes_csv(labels: np.ndarray, marks: Marks, entries: list[Entry]) -> str:
    """One row per relabelled image: index, given label, your label, its tags, when, from which run."""
    when = {e.index: e for e in entries if e.label is not None}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CHANGE_COLUMNS)
    for index in sorted(marks.relabels):
        entry = when[index]
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(entry.made_at))
        run = "" if entry.run_id is None else entry.run_id
        writer.writerow(
            [index, int(labels[index]), marks.relabels[index], " ".join(marks.tags.get(index, ())), stamp, run]
        )
    return out.getvalue()


def export(path: Path, labels: np.ndarray, book: TagBook, *, overwrite: bool, originals: Sequence[Path] = ()) -> int:
    """Write the corrected copy and its sidecar; returns how many labels changed. Raises :class:`LabelsError`."""
    path = Path(path)
    sidecar = path.with_name(path.name + ".changes.csv")
    for original in originals:
        if path.resolve() == Path(original).resolve():
            raise LabelsError(f"{path} is the dataset's own labels file; export to another path")
    if not overwrite:
        for target in (path, sidecar):
            if target.exists():
                raise LabelsError(f"{target} exists; pass --overwrite to replace it")
    if not path.parent.is_dir():
        raise LabelsError(f"{path.parent} is not a folder")
    marks = book.read()
    fixed = marks.corrected(labels)
    raw = idx_labels(fixed)
    if path.suffix == ".gz":
        raw = gzip.compress(raw, mtime=0)
    try:
        atomic_write(path, raw)
        atomic_write(sidecar, changes_csv(labels, marks, book.entries()))
    except OSError as exc:
        raise LabelsError(f"cannot write {path}: {exc.strerror or exc}") from None
    return int((fixed != labels).sum())


def main(argv: Sequence[str] | None = None) -> int:
    """``mnist-tui tags ...``; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        data = load_test_split(args.data)
        labels = np.asarray(data.y_test)
        book = TagBook(open_store(), size=len(labels))
        marks = book.read()
        if args.export is not None:
            source = Path(data.source) if getattr(data, "source", None) else None
            originals = list(source.glob("t10k-labels*")) if source is not None and source.is_dir() else []
            changed = export(args.export, labels, book, overwrite=args.overwrite, originals=originals)
            print(f"Wrote {args.export} ({len(labels):,} labels, {changed:,} corrected) and {args.export}.changes.csv")
            return 0
    except (StoreError, LabelsError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    indices = sorted(set(marks.tags) | set(marks.relabels))
    if args.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(COLUMNS)
        for i in indices:
            writer.writerow([i, int(labels[i]), marks.relabels.get(i, ""), " ".join(marks.tags.get(i, ()))])
        return 0
    if not indices:
        print("No tagged or relabelled test images yet (x tags and b relabels in the browser and the grid).")
        return 0
    print(f"{len(indices):,} tagged or relabelled test images, {len(marks.relabels):,} relabelled\n")
    print(f"{'index':>6} {'label':>6} {'yours':>6}  tags")
    for i in indices:
        print(f"{i:>6} {int(labels[i]):>6} {marks.relabels.get(i, '')!s:>6}  {' '.join(marks.tags.get(i, ()))}")
    return 0
