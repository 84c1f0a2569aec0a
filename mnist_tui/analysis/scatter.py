"""Braille scatter plots: points in data space onto a grid of terminal cells.

Each cell is one braille character, a 2-wide by 4-tall block of dots, so a W x H cell
area shows 2W x 4H distinct dot positions. A dot's bit follows Unicode's numbering::

    dot 1 (0x01)  dot 4 (0x08)
    dot 2 (0x02)  dot 5 (0x10)
    dot 3 (0x04)  dot 6 (0x20)
    dot 7 (0x40)  dot 8 (0x80)

and the character is ``chr(0x2800 + bits)``. Data ``y`` grows upwards while screen rows
grow downwards, so the top dot row holds the largest ``y``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..datasets import MNIST, Dataset

BRAILLE_BASE = 0x2800
"""Unicode's blank braille pattern; adding the dot bits gives the character."""

DOT_BITS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]], dtype=np.uint8)
"""``DOT_BITS[dot_row, dot_col]`` for the 4 x 2 dots of one cell."""

DIGIT_PLURALS = MNIST.class_plurals
"""Deprecated: read ``MNIST.noun(label, count)``. Kept only until ``screens/confusion.py`` stops importing it."""


@dataclass(frozen=True)
class Bounds:
    """The data rectangle that fills the plot; its edges are inside (max maps to the last dot)."""

    x_min: float
    x_max: float
    y_min: float
    y_max: float


def data_bounds(x: np.ndarray, y: np.ndarray) -> Bounds:
    """The smallest rectangle holding every finite point; ``(0, 0, 0, 0)`` when there is none."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return Bounds(0.0, 0.0, 0.0, 0.0)
    return Bounds(float(x[ok].min()), float(x[ok].max()), float(y[ok].min()), float(y[ok].max()))


def _dot_index(values: np.ndarray, low: float, high: float, dots: int) -> np.ndarray:
    """Dot index in ``[0, dots)`` along one axis, or -1 outside ``[low, high]`` or non-finite."""
    with np.errstate(invalid="ignore"):
        inside = np.isfinite(values) & (values >= low) & (values <= high)
    span = high - low
    if span > 0:
        scaled = np.floor((np.where(inside, values, low) - low) / span * dots)
        # The maximum itself would land one past the end; it belongs to the last dot.
        index = np.clip(scaled, 0, dots - 1).astype(np.int64)
    else:
        # No spread on this axis (one point, or all equal): centre the line of dots.
        index = np.full(values.shape, dots // 2, np.int64)
    return np.where(inside, index, -1)


def dot_positions(
    x: np.ndarray, y: np.ndarray, width: int, height: int, bounds: Bounds
) -> tuple[np.ndarray, np.ndarray]:
    """Where each point lands on the ``2*width`` x ``4*height`` dot grid.

    Returns:
        ``(dot_col, dot_row)`` int64 arrays; both -1 for a point that is not drawn
        (non-finite, or outside ``bounds``). Row 0 is the top (largest ``y``).
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    col = _dot_index(x, bounds.x_min, bounds.x_max, 2 * width)
    # Flip y by measuring from the top edge: y_max is dot row 0.
    row = _dot_index(-y, -bounds.y_max, -bounds.y_min, 4 * height)
    drawn = (col >= 0) & (row >= 0)
    return np.where(drawn, col, -1), np.where(drawn, row, -1)


@dataclass(frozen=True, eq=False)
class BrailleScatter:
    """A rendered scatter: per-cell dots and colour classes, and each point's cell.

    Attributes:
        codes: ``(height, width)`` uint8 dot bits; 0 where a cell is empty.
        colour: ``(height, width)`` int64 class to colour each cell by; -1 if empty.
        marked: ``(height, width)`` bool, True where a priority point (a mistake) lies.
        counts: ``(height, width)`` int64 points per cell.
        rows: ``(n,)`` int64 cell row of each point, -1 if it is not drawn.
        cols: ``(n,)`` int64 cell column of each point, -1 if it is not drawn.
        bounds: the data rectangle the grid covers.
    """

    codes: np.ndarray
    colour: np.ndarray
    marked: np.ndarray
    counts: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    bounds: Bounds

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` in cells."""
        return self.codes.shape[1], self.codes.shape[0]

    def char(self, row: int, col: int) -> str:
        """The braille character of one cell (U+2800, blank braille, when empty)."""
        return chr(BRAILLE_BASE + int(self.codes[row, col]))

    def lines(self, empty: str = " ") -> list[str]:
        """One string per cell row; empty cells become ``empty`` (a space by default)."""
        return ["".join(chr(BRAILLE_BASE + int(c)) if c else empty for c in row) for row in self.codes]

    def cell_of(self, index: int) -> tuple[int, int] | None:
        """``(row, col)`` of one point, or None when it is not drawn."""
        row, col = int(self.rows[index]), int(self.cols[index])
        return None if row < 0 else (row, col)

    def select(self, top: int, left: int, bottom: int, right: int) -> np.ndarray:
        """Indices (ascending) of the points inside a rectangle of cells, edges included.

        The corners may come in either order (a mouse drag can go up or left); parts of
        the rectangle outside the grid select nothing.
        """
        top, bottom = sorted((top, bottom))
        left, right = sorted((left, right))
        inside = (self.rows >= top) & (self.rows <= bottom) & (self.cols >= left) & (self.cols <= right)
        return np.flatnonzero(inside & (self.rows >= 0))


def braille_scatter(
    x: np.ndarray,
    y: np.ndarray,
    width: int,
    height: int,
    classes: np.ndarray | None = None,
    priority: np.ndarray | None = None,
    bounds: Bounds | None = None,
) -> BrailleScatter:
    """Lay points out on a ``width`` x ``height`` grid of braille cells.

    A cell's colour class is the most frequent class among its priority points if it
    has any (so a mistake is never painted over by the correct images around it), else
    among all its points; ties go to the smaller class.

    Args:
        x: ``(n,)`` horizontal data coordinates.
        y: ``(n,)`` vertical data coordinates (up is larger).
        width: cells across, at least 1.
        height: cells down, at least 1.
        classes: ``(n,)`` non-negative ints (true digit, predicted digit, confidence bin);
            None colours every occupied cell 0.
        priority: ``(n,)`` bool, points to mark and colour on top (e.g. mistakes).
        bounds: the data rectangle to show; points outside it are not drawn. Defaults
            to :func:`data_bounds`.

    Returns:
        :class:`BrailleScatter`.
    """
    if width < 1 or height < 1:
        raise ValueError(f"grid must be at least 1x1 cells, got {width}x{height}")
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = x.shape[0] if x.ndim else 0
    if x.ndim != 1 or y.shape != x.shape:
        raise ValueError(f"x and y must be 1-D of equal length, got {x.shape} and {y.shape}")
    classes = np.zeros(n, np.int64) if classes is None else np.asarray(classes, dtype=np.int64)
    priority = np.zeros(n, bool) if priority is None else np.asarray(priority, dtype=bool)
    if classes.shape != (n,) or priority.shape != (n,):
        raise ValueError("classes and priority must have one entry per point")
    if n and classes.min() < 0:
        raise ValueError("classes must be non-negative")
    bounds = data_bounds(x, y) if bounds is None else bounds

    dot_col, dot_row = dot_positions(x, y, width, height, bounds)
    drawn = dot_col >= 0
    rows = np.where(drawn, dot_row // 4, -1)
    cols = np.where(drawn, dot_col // 2, -1)

    cells = width * height
    cell = (rows * width + cols)[drawn]
    codes = np.zeros(cells, np.uint8)
    np.bitwise_or.at(codes, cell, DOT_BITS[dot_row[drawn] % 4, dot_col[drawn] % 2])
    counts = np.bincount(cell, minlength=cells)

    n_classes = int(classes.max()) + 1 if n else 1
    slot = cell * n_classes + classes[drawn]
    votes = np.bincount(slot, minlength=cells * n_classes).reshape(cells, n_classes)
    urgent = np.bincount(slot[priority[drawn]], minlength=cells * n_classes).reshape(cells, n_classes)
    marked = urgent.sum(axis=1) > 0
    # argmax takes the first maximum, which is the smaller class on a tie.
    colour = np.where(marked, urgent.argmax(axis=1), votes.argmax(axis=1))
    colour = np.where(counts > 0, colour, -1)

    shape = (height, width)
    return BrailleScatter(
        codes=codes.reshape(shape),
        colour=colour.reshape(shape).astype(np.int64),
        marked=marked.reshape(shape),
        counts=counts.reshape(shape).astype(np.int64),
        rows=rows.astype(np.int64),
        cols=cols.astype(np.int64),
        bounds=bounds,
    )


def class_counts(
    classes: np.ndarray, n_classes: int = MNIST.num_classes, indices: np.ndarray | None = None
) -> np.ndarray:
    """``(n_classes,)`` int64 counts of each class, over all points or only ``indices``."""
    classes = np.asarray(classes, dtype=np.int64)
    chosen = classes if indices is None else classes[np.asarray(indices, dtype=np.int64)]
    return np.bincount(chosen, minlength=n_classes)[:n_classes].astype(np.int64)


def confidence_classes(confidence: np.ndarray, edges: tuple[float, ...] = (0.5, 0.9, 0.99)) -> np.ndarray:
    """Bin confidences into colour classes for the map's colour-by-confidence mode.

    With the default edges: 0 below 0.5, 1 in [0.5, 0.9), 2 in [0.9, 0.99), 3 from 0.99.
    The upper bins are narrow on purpose: a trained model puts most images above 0.99,
    and the interesting ones are the few below. NaN falls in class 0 (least confident).

    Returns:
        ``(n,)`` int64 classes in ``[0, len(edges)]``.
    """
    confidence = np.asarray(confidence, dtype=np.float64)
    return np.digitize(np.nan_to_num(confidence, nan=-np.inf), edges).astype(np.int64)


def count_phrase(label: int, inside: int, total: int, dataset: Dataset = MNIST) -> str:
    """The legend's words for a selection of one class, e.g. ``"47 of 412 sevens"``."""
    return f"{inside:,} of {total:,} {dataset.noun(label, total)}"
