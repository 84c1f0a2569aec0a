"""Suspicious labels: the test images whose given label the model most disagrees with.

The ranking is confident learning's *self-confidence*: the probability the model gives
to the label the dataset gives. A trained model evaluated on held-out images needs no
cross-validation. cleanlab's ``find_label_issues(return_indices_ranked_by="self_confidence")``
returns a subset of images (those it estimates to be label issues) in exactly this order;
the browser ranks every image, so it needs the order and not cleanlab's cut-off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class SuspiciousLabels:
    """Images in order of how suspicious their given label is, most suspicious first.

    Attributes:
        indices: ``(n,)`` int64 positions into the original arrays.
        scores: ``(n,)`` float64 probability of the given label, ascending (NaN last).
        labels: ``(n,)`` int64 the given label of each ranked image.
        suggested: ``(n,)`` int64 the label the model would give (its argmax).
    """

    indices: np.ndarray
    scores: np.ndarray
    labels: np.ndarray
    suggested: np.ndarray

    def __len__(self) -> int:
        return len(self.indices)

    def top(self, n: int) -> SuspiciousLabels:
        """The first ``n`` rows of the ranking."""
        return SuspiciousLabels(self.indices[:n], self.scores[:n], self.labels[:n], self.suggested[:n])


def given_label_probability(probabilities: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The probability each row gives to its own label (confident learning's self-confidence).

    Args:
        probabilities: ``(n, classes)`` predicted class probabilities.
        labels: ``(n,)`` given labels in ``[0, classes)``.

    Returns:
        ``(n,)`` float64.

    Raises:
        ValueError: the shapes disagree or a label is out of range.
    """
    probabilities = np.asarray(probabilities)
    labels = np.asarray(labels)
    if probabilities.ndim != 2 or labels.shape != (probabilities.shape[0],):
        raise ValueError(
            f"expected (n, classes) probabilities and (n,) labels, got {probabilities.shape} and {labels.shape}"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= probabilities.shape[1]):
        raise ValueError(f"labels must lie in [0, {probabilities.shape[1]})")
    rows = np.arange(len(labels))
    return probabilities[rows, labels.astype(np.int64)].astype(np.float64)


def suspicious_labels(probabilities: np.ndarray, labels: np.ndarray) -> SuspiciousLabels:
    """Rank images by the probability of their given label, lowest first.

    Ties keep index order, so the ranking is reproducible across runs and platforms.
    A row whose given-label probability is NaN (a diverged model) carries no evidence
    either way and sorts last instead of hiding real suspects.

    Args:
        probabilities: ``(n, classes)`` predicted class probabilities.
        labels: ``(n,)`` given labels.

    Returns:
        The full ranking; use :meth:`SuspiciousLabels.top` for the head of it.
    """
    probabilities = np.asarray(probabilities)
    labels = np.asarray(labels)
    scores = given_label_probability(probabilities, labels)
    # argsort puts NaN last already; "stable" makes ties keep index order.
    order = np.argsort(scores, kind="stable")
    # NaN would win np.argmax; -inf makes it lose, and an all-NaN row suggests its own label.
    finite = np.where(np.isnan(probabilities), -np.inf, probabilities)
    suggested = finite.argmax(axis=1) if len(labels) else np.zeros(0, np.int64)
    all_nan = np.isnan(probabilities).all(axis=1) if probabilities.shape[1] else np.ones(len(labels), bool)
    suggested = np.where(all_nan, labels, suggested).astype(np.int64)
    return SuspiciousLabels(
        indices=order.astype(np.int64),
        scores=scores[order],
        labels=labels[order].astype(np.int64),
        suggested=suggested[order],
    )
