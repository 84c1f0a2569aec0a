"""``mnist-tui labels``: the test images whose given label the model most disagrees with.

The ranking is :func:`~mnist_tui.analysis.suspicious_labels` (confident learning's
self-confidence: the probability the model gives to the dataset's label, lowest
first) over the 10,000 test images. A recorded run (``--run ID``) is ranked from its
saved probabilities without TensorFlow; a model file (``--model``) is checked first
(a name ending in ``.keras``, a Keras zip archive), then scored, which loads TensorFlow
(this is a batch command, so that is fine; its start-up lines go to the log file). Only
the test images are read, or downloaded when MNIST is nowhere.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..analysis import SuspiciousLabels, suspicious_labels
from ..labels import LabelsError, model_probabilities, run_probabilities
from . import Parser

PROG = "mnist-tui labels"
COLUMNS = ("rank", "index", "label", "suggested", "score", "suggested_score")
"""``score``: the probability of the given label (lower is more suspicious); ``suggested_score``: that of the model's label."""


def _positive(text: str) -> int:
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
            "Rank the MNIST test images by how strongly a trained model disagrees with their given "
            "label (the probability it gives that label, lowest first). The top of the list is where "
            "mislabelled and ambiguous images are."
        ),
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--model",
        metavar="PATH.keras",
        type=Path,
        help="a saved Keras model (scored on the test set: loads TensorFlow)",
    )
    source.add_argument(
        "--run", metavar="ID", type=_positive, help="a recorded run (its saved test probabilities; see mnist-tui runs)"
    )
    parser.add_argument(
        "--top",
        metavar="N",
        type=_positive,
        default=20,
        help="how many images to list; 0 lists all (default: %(default)s)",
    )
    parser.add_argument("--csv", action="store_true", help=f"CSV with the columns {','.join(COLUMNS)}")
    parser.add_argument(
        "--where",
        metavar="QUERY",
        default="",
        help='only the images a query selects, e.g. "label 7 and not tag fine" (as / in the browser)',
    )
    parser.add_argument(
        "--data",
        metavar="PATH",
        type=Path,
        help="where MNIST is (default: $MNIST_TUI_DATA, then the caches, then download)",
    )
    return parser


def write_csv(ranking: SuspiciousLabels, probabilities: np.ndarray, out=sys.stdout) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for rank, row in enumerate(_rows(ranking, probabilities), 1):
        writer.writerow([rank, *row[:3], f"{row[3]:.6g}", f"{row[4]:.6g}"])


def write_table(ranking: SuspiciousLabels, probabilities: np.ndarray, total: int, out=sys.stdout) -> None:
    out.write(
        f"The {len(ranking):,} most suspicious labels of {total:,} test images (lowest probability for the given label first)\n\n"
    )
    out.write(f"{'rank':>5} {'index':>6} {'label':>6} {'model':>6} {'p(label)':>9} {'p(model)':>9}\n")
    for rank, (index, label, suggested, score, suggested_score) in enumerate(_rows(ranking, probabilities), 1):
        out.write(f"{rank:>5} {index:>6} {label:>6} {suggested:>6} {score:>9.2%} {suggested_score:>9.2%}\n")


def _rows(ranking: SuspiciousLabels, probabilities: np.ndarray):
    for index, label, suggested, score in zip(ranking.indices, ranking.labels, ranking.suggested, ranking.scores):
        yield int(index), int(label), int(suggested), float(score), float(probabilities[index, suggested])


def main(argv: Sequence[str] | None = None) -> int:
    """``mnist-tui labels ...``; returns the exit status."""
    args = build_parser().parse_args(argv)
    from ..analysis.query import Query, QueryError

    try:
        query = Query.read(args.where) if args.where.strip() else None  # refused before any loading
    except QueryError as exc:
        from .images import query_failure

        return query_failure(PROG, args.where, exc)
    try:
        if args.run is not None:
            probabilities, labels = run_probabilities(args.run, args.data)
        else:
            probabilities, labels = model_probabilities(args.model, args.data)
    except LabelsError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    ranking = suspicious_labels(probabilities, labels)
    if query is not None:
        from .images import TestView, read_marks

        view = TestView(probabilities, np.asarray(labels), read_marks(len(labels)))
        keep = query.mask(view.query_data())[ranking.indices]
        ranking = SuspiciousLabels(
            ranking.indices[keep], ranking.scores[keep], ranking.labels[keep], ranking.suggested[keep]
        )
    top = ranking if args.top == 0 else ranking.top(args.top)
    try:
        if args.csv:
            write_csv(top, probabilities, sys.stdout)
        else:
            write_table(top, probabilities, len(ranking), sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:  # `mnist-tui labels --top 0 | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
