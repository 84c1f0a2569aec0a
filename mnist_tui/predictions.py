"""Test-set predictions and the views the results browser needs, all precomputed with NumPy.

No Textual and no TensorFlow here: the results screen, the confusion matrix and the
tests all work from a :class:`Predictions` built from plain arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .datasets import MNIST, Dataset


@dataclass(frozen=True, eq=False)
class Predictions:
    """Class probabilities for a set of labelled images.

    Attributes:
        images: ``(n, height, width)`` uint8.
        labels: ``(n,)`` true labels.
        probabilities: ``(n, classes)`` softmax outputs.
        dataset: Whose images and classes these are.
    """

    images: np.ndarray
    labels: np.ndarray
    probabilities: np.ndarray
    dataset: Dataset = MNIST

    def __post_init__(self) -> None:
        n = len(self.labels)
        if self.images.shape[0] != n or self.probabilities.shape != (n, self.dataset.num_classes):
            raise ValueError(
                f"inconsistent predictions: {self.images.shape} images, {n} labels, "
                f"{self.probabilities.shape} probabilities"
            )

    def __len__(self) -> int:
        return len(self.labels)

    @cached_property
    def predicted(self) -> np.ndarray:
        return self.probabilities.argmax(axis=1)

    @cached_property
    def confidence(self) -> np.ndarray:
        """Probability of the predicted class."""
        return self.probabilities.max(axis=1)

    @cached_property
    def correct(self) -> np.ndarray:
        return self.predicted == self.labels

    @cached_property
    def accuracy(self) -> float:
        return float(self.correct.mean()) if len(self) else 0.0

    @cached_property
    def mistakes(self) -> int:
        return int((~self.correct).sum())

    @cached_property
    def by_confidence(self) -> np.ndarray:
        """Indices ordered least confident first (stable, so ties keep index order)."""
        return np.argsort(self.confidence, kind="stable")

    @cached_property
    def suspicious(self) -> np.ndarray:
        """Indices ordered by the probability of their given label, lowest first (ties keep index order).

        Confident learning's self-confidence ranking (:func:`~mnist_tui.analysis.suspicious_labels`):
        the images whose label the model most disagrees with come first.
        """
        from .analysis import suspicious_labels

        return suspicious_labels(self.probabilities, self.labels).indices

    @cached_property
    def confusion(self) -> np.ndarray:
        """``(classes, classes)`` counts; rows are true labels, columns predictions."""
        classes = self.dataset.num_classes
        counts = np.zeros((classes, classes), dtype=np.int64)
        np.add.at(counts, (self.labels.astype(np.int64), self.predicted), 1)
        return counts

    def per_digit_accuracy(self) -> list[float | None]:
        """Accuracy for each true class (a digit for MNIST), ``None`` where the class never occurs."""
        counts = self.confusion
        totals = counts.sum(axis=1)
        return [float(counts[c, c] / totals[c]) if totals[c] else None for c in self.dataset.classes]


DATASET, CONFIDENCE, SUSPICIOUS = "dataset", "confidence", "suspicious"
ORDERS = (DATASET, CONFIDENCE, SUSPICIOUS)
"""The browser's orders, in the order ``o`` cycles through them."""

ORDER_NAMES = {DATASET: "", CONFIDENCE: "least confident first", SUSPICIOUS: "suspicious labels first"}


@dataclass(frozen=True)
class ViewFilter:
    """Which images the browser shows and in what order.

    ``order`` is one of :data:`ORDERS`; ``by_confidence=True`` is the same as
    ``order="confidence"`` and always reads back as ``order == "confidence"``.
    """

    mistakes_only: bool = False
    digit: int | None = None  # true label
    predicted: int | None = None  # with ``digit``: one confusion-matrix cell
    by_confidence: bool = False
    order: str = DATASET
    selection: tuple[int, ...] | None = None
    """Dataset indices picked on the map (``None``: no such restriction)."""

    def __post_init__(self) -> None:
        if self.order not in ORDERS:
            raise ValueError(f"unknown order {self.order!r}; expected one of {ORDERS}")
        if self.by_confidence and self.order == DATASET:
            object.__setattr__(self, "order", CONFIDENCE)
        object.__setattr__(self, "by_confidence", self.order == CONFIDENCE)

    def with_order(self, order: str) -> ViewFilter:
        """The same images in another order."""
        return ViewFilter(self.mistakes_only, self.digit, self.predicted, order=order, selection=self.selection)

    def next_order(self) -> ViewFilter:
        """The same images in the next of :data:`ORDERS` (what ``o`` does)."""
        return self.with_order(ORDERS[(ORDERS.index(self.order) + 1) % len(ORDERS)])

    def describe(self) -> str:
        parts = []
        if self.selection is not None:
            parts.append(f"{len(self.selection):,} from the map")
        if self.digit is not None and self.predicted is not None:
            parts.append(f"true {self.digit} → predicted {self.predicted}")
        elif self.digit is not None:
            parts.append(f"digit {self.digit}")
        if self.mistakes_only:
            parts.append("mistakes")
        if not parts:
            parts.append("all")
        if self.order != DATASET:
            parts.append(ORDER_NAMES[self.order])
        return ", ".join(parts)


class ViewCache:
    """Index arrays for each :class:`ViewFilter`, computed once and reused."""

    def __init__(self, predictions: Predictions) -> None:
        self.predictions = predictions
        self._views: dict[ViewFilter, np.ndarray] = {}

    def indices(self, view: ViewFilter) -> np.ndarray:
        cached = self._views.get(view)
        if cached is None:
            cached = self._views[view] = self._compute(view)
        return cached

    def _compute(self, view: ViewFilter) -> np.ndarray:
        p = self.predictions
        mask = np.ones(len(p), dtype=bool)
        if view.mistakes_only:
            mask &= ~p.correct
        if view.digit is not None:
            mask &= p.labels == view.digit
        if view.predicted is not None:
            mask &= p.predicted == view.predicted
        if view.selection is not None:
            chosen = np.zeros(len(p), dtype=bool)
            chosen[list(view.selection)] = True
            mask &= chosen
        if view.order == CONFIDENCE:
            order = p.by_confidence
        elif view.order == SUSPICIOUS:
            order = p.suspicious
        else:
            order = np.arange(len(p))
        return order[mask[order]]
