"""Per-class precision, recall and F1 from a confusion matrix, and its most confused pairs.

Conventions follow scikit-learn's ``precision_recall_fscore_support`` with
``zero_division=0``, so the confusion matrix's margins can be checked against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np


@dataclass(frozen=True, eq=False)
class ClassMetrics:
    """Scores derived from a ``(classes, classes)`` confusion matrix (rows true).

    Attributes:
        precision: ``(classes,)`` correct / predicted as that class; 0 when never predicted.
        recall: ``(classes,)`` correct / truly that class; 0 when the class never occurs.
        f1: ``(classes,)`` harmonic mean of the two; 0 when both are 0.
        support: ``(classes,)`` int64 images truly of that class (row sums).
        predicted: ``(classes,)`` int64 images predicted as that class (column sums).
        accuracy: the diagonal over the total; 0 for an empty matrix.
        macro_f1: mean F1 over the classes that occur as a truth or a prediction
            (scikit-learn's label set when labels are not given); 0 if none do.
    """

    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray
    predicted: np.ndarray
    accuracy: float
    macro_f1: float


class ConfusedPair(NamedTuple):
    """One off-diagonal cell: ``count`` images of class ``true`` predicted as ``predicted``."""

    true: int
    predicted: int
    count: int  # type: ignore[assignment]  # the field hides tuple.count, which nothing here calls


def _check_square(confusion: np.ndarray) -> np.ndarray:
    confusion = np.asarray(confusion)
    if confusion.ndim != 2 or confusion.shape[0] != confusion.shape[1]:
        raise ValueError(f"expected a square confusion matrix, got shape {confusion.shape}")
    if confusion.size and (confusion < 0).any():
        raise ValueError("confusion counts must be non-negative")
    return confusion.astype(np.int64)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Elementwise division with 0 where the denominator is 0 (scikit-learn's zero_division=0)."""
    out = np.zeros(numerator.shape, np.float64)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def class_metrics(confusion: np.ndarray) -> ClassMetrics:
    """Per-class precision, recall, F1, plus overall accuracy and macro F1.

    Args:
        confusion: ``(classes, classes)`` non-negative counts, rows true, columns predicted.

    Returns:
        :class:`ClassMetrics`.
    """
    confusion = _check_square(confusion)
    hits = np.diag(confusion).astype(np.float64)
    support = confusion.sum(axis=1)
    predicted = confusion.sum(axis=0)
    precision = _ratio(hits, predicted)
    recall = _ratio(hits, support)
    # 2*tp / (2*tp + fp + fn) equals 2pr/(p+r) and needs no second zero-division rule.
    f1 = _ratio(2 * hits, support + predicted)
    total = int(confusion.sum())
    present = (support + predicted) > 0
    return ClassMetrics(
        precision=precision,
        recall=recall,
        f1=f1,
        support=support,
        predicted=predicted,
        accuracy=float(hits.sum() / total) if total else 0.0,
        macro_f1=float(f1[present].mean()) if present.any() else 0.0,
    )


def most_confused(confusion: np.ndarray, k: int = 5) -> list[ConfusedPair]:
    """The ``k`` largest off-diagonal cells, largest first.

    Equal counts keep row-major order (by true class, then predicted class), so the
    list is stable from one render to the next. Empty cells are never listed.

    Args:
        confusion: ``(classes, classes)`` counts, rows true, columns predicted.
        k: how many pairs at most.

    Returns:
        Up to ``k`` :class:`ConfusedPair` with positive counts.
    """
    confusion = _check_square(confusion)
    off = confusion.copy()
    np.fill_diagonal(off, 0)
    flat = off.ravel()
    order = np.argsort(-flat, kind="stable")[: max(k, 0)]
    size = confusion.shape[0]
    return [ConfusedPair(int(i // size), int(i % size), int(flat[i])) for i in order if flat[i] > 0]
