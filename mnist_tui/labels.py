"""``mnist-tui labels``: the test images whose given label the model most disagrees with.

The ranking is :func:`~mnist_tui.analysis.suspicious_labels` (confident learning's
self-confidence: the probability the model gives to the dataset's label, lowest
first) over the 10,000 test images. A recorded run (``--run ID``) is ranked from its
saved probabilities without TensorFlow; a model file (``--model``) is scored first,
which loads TensorFlow (this is a batch command, so that is fine).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import numpy as np

from .analysis import SuspiciousLabels, suspicious_labels

PROG = "mnist-tui labels"
COLUMNS = ("rank", "index", "label", "suggested", "score", "suggested_score")
"""``score``: the probability of the given label (lower is more suspicious); ``suggested_score``: that of the model's label."""


class LabelsError(Exception):
    """The ranking cannot be made; the message is one line for a person."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
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
        "--data",
        metavar="PATH",
        type=Path,
        help="where MNIST is (default: $MNIST_TUI_DATA, then the caches, then download)",
    )
    return parser


def given_test_labels(data_path: Path | None) -> np.ndarray:
    from .data import load_mnist

    try:
        return load_mnist(data_path).y_test
    except Exception as exc:
        raise LabelsError(f"cannot load MNIST: {exc}") from None


def model_probabilities(model_path: Path, data_path: Path | None) -> tuple[np.ndarray, np.ndarray]:
    """Score the saved model on the test set: ``(probabilities, labels)``."""
    from .data import load_mnist

    try:
        data = load_mnist(data_path)
    except Exception as exc:
        raise LabelsError(f"cannot load MNIST: {exc}") from None
    from . import models

    try:
        model = models.load_model(model_path)
    except models.ModelError as exc:
        raise LabelsError(str(exc)) from None
    predict = models.predictor(model)
    probabilities = np.concatenate([predict(data.x_test[i : i + 1000]) for i in range(0, len(data.x_test), 1000)])
    return probabilities.astype(np.float64), data.y_test


def run_probabilities(run_id: int, data_path: Path | None) -> tuple[np.ndarray, np.ndarray]:
    """A recorded run's saved test probabilities and the labels saved with them (no TensorFlow)."""
    from .runs import StoreError, open_store

    try:
        store = open_store()
        run = store.get_run(run_id)
        if not run.has_predictions and run.has_model:
            return model_probabilities(store.model_path(run_id), data_path)
        probabilities = store.load_probabilities(run_id)
        with np.load(store.predictions_path(run_id)) as saved:
            labels = np.asarray(saved["labels"]) if "labels" in saved.files else None
    except StoreError as exc:
        raise LabelsError(str(exc)) from None
    except (OSError, ValueError) as exc:
        raise LabelsError(f"cannot read run {run_id}'s predictions: {exc}") from None
    if labels is None:
        labels = given_test_labels(data_path)
    if len(labels) != len(probabilities):
        raise LabelsError(f"run {run_id} has {len(probabilities):,} predictions for {len(labels):,} labels")
    return probabilities.astype(np.float64), labels


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
    try:
        if args.run is not None:
            probabilities, labels = run_probabilities(args.run, args.data)
        else:
            if not args.model.is_file():
                raise LabelsError(f"{args.model}: no such model file")
            probabilities, labels = model_probabilities(args.model, args.data)
    except LabelsError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    ranking = suspicious_labels(probabilities, labels)
    top = ranking if args.top == 0 else ranking.top(args.top)
    try:
        if args.csv:
            write_csv(top, probabilities)
        else:
            write_table(top, probabilities, len(ranking))
        sys.stdout.flush()
    except BrokenPipeError:  # `mnist-tui labels --top 0 | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
