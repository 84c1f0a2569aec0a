"""``mnist-tui images --where "..."``: the test images a query selects, as a table or CSV for scripts.

The query language is the browser's (``/``; :mod:`mnist_tui.analysis.query`), tags and
corrected labels included (they live in the run store). The probabilities come from a
recorded run (``--run ID``, no TensorFlow) or a model file (``--model``), as for
``mnist-tui labels``.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..analysis.labels import given_label_probability
from ..analysis.query import Query, QueryData, QueryError
from ..labels import LabelsError, model_probabilities, run_probabilities
from ..runs.tags import Marks
from . import Parser

PROG = "mnist-tui images"
COLUMNS = ("index", "label", "pred", "conf", "ptrue", "score", "your_label", "tags")
"""``ptrue``: the probability of the given label; ``score``: 1 - ptrue (higher is more suspicious)."""


def add_source(parser: argparse.ArgumentParser, positive) -> None:
    """``--model`` or ``--run``, and ``--data``: where the probabilities and the labels come from."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--model",
        metavar="PATH.keras",
        type=Path,
        help="a saved Keras model (scored on the test set: loads TensorFlow)",
    )
    source.add_argument(
        "--run", metavar="ID", type=positive, help="a recorded run (its saved test probabilities; see mnist-tui runs)"
    )
    parser.add_argument(
        "--data",
        metavar="PATH",
        type=Path,
        help="where MNIST is (default: $MNIST_TUI_DATA, then the caches, then download)",
    )


def _whole(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog=PROG,
        description=(
            "List the MNIST test images a query selects, with their labels, the model's prediction, "
            "confidence and tags. Queries: label 7, pred 9, conf < 0.6, conf 0.4..0.6, score > 0.5, "
            "mistakes, correct, tag NAME, tagged, relabelled, index 100..200, joined with and / or / not."
        ),
    )
    add_source(parser, _whole)
    parser.add_argument("--where", metavar="QUERY", default="", help='which images, e.g. "label 7 and pred 9"')
    parser.add_argument("--top", metavar="N", type=_whole, default=0, help="at most N images; 0: all (the default)")
    parser.add_argument("--csv", action="store_true", help=f"CSV with the columns {','.join(COLUMNS)}")
    return parser


@dataclass(frozen=True)
class TestView:
    """What a query reads for the test set: the probabilities, the given labels, the tags."""

    probabilities: np.ndarray
    labels: np.ndarray
    marks: Marks

    def query_data(self) -> QueryData:
        return QueryData.from_probabilities(
            self.probabilities, self.labels, self.marks.masks(), self.marks.relabelled()
        )


def read_marks(size: int) -> Marks:
    """The run store's tags and relabels of the test set; none when the store cannot be opened."""
    from ..runs import StoreError, open_store
    from ..runs.tags import TagBook

    try:
        return TagBook(open_store(), size=size).read()
    except StoreError:
        return Marks(size=size)


def load_view(args: argparse.Namespace) -> TestView:
    """The probabilities (``--run`` or ``--model``), labels and tags; raises :class:`LabelsError`."""
    if args.run is not None:
        probabilities, labels = run_probabilities(args.run, args.data)
    else:
        probabilities, labels = model_probabilities(args.model, args.data)
    return TestView(probabilities, np.asarray(labels), read_marks(len(labels)))


def select(where: str, data: QueryData, indices: np.ndarray, classes: int = 10) -> np.ndarray:
    """``indices`` that ``where`` keeps (all of them for an empty query); raises :class:`QueryError`."""
    if not where.strip():
        return indices
    return Query.read(where, classes).select(indices, data)


def query_failure(prog: str, where: str, exc: QueryError) -> int:
    """Say what is wrong with ``--where`` and where, with a caret under it; returns 2."""
    print(f"{prog}: error: --where: {exc}", file=sys.stderr)
    print(f"  {where}\n  {' ' * exc.position}^", file=sys.stderr)
    return 2


def rows(view: TestView, chosen: np.ndarray):
    p, labels = view.probabilities, view.labels
    ptrue = given_label_probability(p, labels)
    predicted, confidence = p.argmax(axis=1), p.max(axis=1)
    for index in chosen:
        i = int(index)
        mine = view.marks.relabels.get(i)
        yield (
            i,
            int(labels[i]),
            int(predicted[i]),
            float(confidence[i]),
            float(ptrue[i]),
            1.0 - float(ptrue[i]),
            "" if mine is None else mine,
            " ".join(view.marks.tags.get(i, ())),
        )


def main(argv: Sequence[str] | None = None) -> int:
    """``mnist-tui images ...``; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        Query.read(args.where) if args.where.strip() else None  # refuse a bad query before any loading
    except QueryError as exc:
        return query_failure(PROG, args.where, exc)
    try:
        view = load_view(args)
    except LabelsError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    chosen = select(args.where, view.query_data(), np.arange(len(view.labels)))
    total = len(chosen)
    if args.top:
        chosen = chosen[: args.top]
    try:
        if args.csv:
            writer = csv.writer(sys.stdout, lineterminator="\n")
            writer.writerow(COLUMNS)
            for index, label, pred, conf, ptrue, score, mine, tags in rows(view, chosen):
                writer.writerow([index, label, pred, f"{conf:.6g}", f"{ptrue:.6g}", f"{score:.6g}", mine, tags])
        else:
            what = f" where {Query.read(args.where).text}" if args.where.strip() else ""
            shown = f"{len(chosen):,} of {total:,}" if len(chosen) < total else f"{total:,}"
            print(f"{shown} test images{what}\n")
            print(f"{'index':>6} {'label':>6} {'pred':>5} {'conf':>7} {'p(label)':>9}  {'yours':>5}  tags")
            for index, label, pred, conf, ptrue, _score, mine, tags in rows(view, chosen):
                print(f"{index:>6} {label:>6} {pred:>5} {conf:>7.1%} {ptrue:>9.2%}  {mine!s:>5}  {tags}")
        sys.stdout.flush()
    except BrokenPipeError:  # `mnist-tui images ... | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
