"""The maths of a line chart: round tick values, scaling to dots, and a braille rasteriser.

NumPy and the standard library only, so the chart widget stays a thin layer of
styling over these functions and they are tested without a terminal. A braille
character holds 2x4 dots, so a chart of ``w`` x ``h`` cells is a canvas of
``2w`` x ``4h`` dots; dot rows count from the top, values grow upwards.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

BRAILLE_BASE = 0x2800
DOT_BITS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]], dtype=np.uint8)
"""The bit of each dot in a braille cell, indexed ``[row][column]`` (dots 1,2,3,7 and 4,5,6,8)."""

_MANTISSAS = (1.0, 2.0, 5.0)
_LOG_FLOOR_DECADES = 12
"""Values at or near zero are clipped to the smallest positive one, but never more than this many decades below the largest."""


@dataclass(frozen=True)
class Axis:
    """An axis's extent and its tick values.

    Attributes:
        lo: The value at the bottom (left) end.
        hi: The value at the top (right) end; always greater than ``lo``.
        ticks: Tick values within ``[lo, hi]``, increasing.
        step: The distance between linear ticks (0.0 for ticks at powers of ten).
        log: Whether positions are proportional to ``log10`` of the value.
    """

    lo: float
    hi: float
    ticks: tuple[float, ...]
    step: float
    log: bool = False

    def position(self, values: np.ndarray | Sequence[float], dots: int) -> np.ndarray:
        """Where ``values`` fall on ``dots`` dots: 0.0 at ``lo``, ``dots - 1`` at ``hi`` (NaN stays NaN)."""
        array = np.asarray(values, dtype=float)
        if self.log:
            with np.errstate(divide="ignore", invalid="ignore"):
                array = np.log10(np.maximum(array, self.lo))
            lo, hi = math.log10(self.lo), math.log10(self.hi)
        else:
            lo, hi = self.lo, self.hi
        return (array - lo) * ((dots - 1) / (hi - lo))


def finite(values: np.ndarray | Sequence[float]) -> np.ndarray:
    """The finite values of ``values`` as a flat float array (NaN and infinities dropped)."""
    array = np.asarray(values, dtype=float).ravel()
    return array[np.isfinite(array)]


def _clean(value: float) -> float:
    """``value`` without the float noise of ``k * step`` (0.30000000000000004 -> 0.3)."""
    return float(f"{value:.12g}") + 0.0  # + 0.0 turns -0.0 into 0.0


def _steps(span: float, max_ticks: int):
    """1-2-5 steps in increasing order, starting a little below ``span / max_ticks``."""
    exponent = math.floor(math.log10(span / max(max_ticks, 1))) - 1
    while True:
        for mantissa in _MANTISSAS:
            yield mantissa * 10.0**exponent
        exponent += 1


def _span(lo: float, hi: float, step: float) -> tuple[int, int]:
    """The first and last multiples of ``step`` in ``[lo, hi]`` (as counts of steps), tolerant of rounding."""
    return math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)


def _count(lo: float, hi: float, step: float) -> int:
    first, last = _span(lo, hi, step)
    return last - first + 1


def _multiples(lo: float, hi: float, step: float) -> list[float]:
    """The multiples of ``step`` in ``[lo, hi]``."""
    first, last = _span(lo, hi, step)
    return [_clean(k * step) for k in range(first, last + 1)]


def linear_axis(lo: float, hi: float, max_ticks: int = 5, *, integer: bool = False, loose: bool = True) -> Axis:
    """Round ticks (1, 2 or 5 times a power of ten apart) for the values in ``[lo, hi]``.

    Args:
        lo: The smallest value to show.
        hi: The largest value to show.
        max_ticks: At most this many ticks where the range allows (at least 2 are aimed for).
        integer: Ticks are whole numbers (epochs, batches): steps below 1 are not used.
        loose: Where the range holds fewer than two ticks, widen it to the ticks that
            enclose it; otherwise take smaller steps until two fit inside.

    Returns:
        The axis; a constant range (``lo == hi``) is widened around its value.
    """
    if not (math.isfinite(lo) and math.isfinite(hi)):
        lo, hi = 0.0, 1.0
    lo, hi = min(lo, hi), max(lo, hi)
    if hi == lo:
        pad = 0.5 if integer else (abs(lo) * 0.1 or 1.0)
        lo, hi = lo - pad, hi + pad
    max_ticks = max(2, max_ticks)
    step = next(s for s in _steps(hi - lo, max_ticks) if (not integer or s >= 1) and _count(lo, hi, s) <= max_ticks)
    ticks = _multiples(lo, hi, step)
    if len(ticks) < 2 and loose:
        lo, hi = _clean(math.floor(lo / step + 1e-9) * step), _clean(math.ceil(hi / step - 1e-9) * step)
        ticks = _multiples(lo, hi, step)
    elif len(ticks) < 2 and not integer:
        # the largest smaller step that puts two ticks inside: a few round ticks, never a comb of them
        smaller = list(itertools.takewhile(lambda s: s < step, _steps(hi - lo, max_ticks * 4)))
        step = next((s for s in reversed(smaller) if _count(lo, hi, s) >= 2), step)
        ticks = _multiples(lo, hi, step)
    return Axis(lo, hi, tuple(ticks), step)


def log_axis(lo: float, hi: float, max_ticks: int = 5) -> Axis:
    """Ticks for a log scale over ``[lo, hi]`` (both positive).

    Ticks go at powers of ten where the range holds two or more (every second or
    third one where there are too many), else at 1, 2 and 5 times a power of ten,
    else at round linear steps (a range within one decade, such as 0.06 to 0.09).
    """
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= 0:
        lo, hi = 0.1, 1.0
    lo, hi = min(lo, hi), max(lo, hi)
    lo = max(lo, hi * 10.0**-_LOG_FLOOR_DECADES)
    if hi == lo:
        lo, hi = lo / 2, hi * 2
    max_ticks = max(2, max_ticks)
    first, last = math.ceil(math.log10(lo) - 1e-9), math.floor(math.log10(hi) + 1e-9)
    if last - first + 1 >= 2:
        stride = max(1, math.ceil((last - first) / (max_ticks - 1)))
        start = first + (-first) % stride  # prefer 1 (10**0) among the ticks where it is in range
        if start + stride > last:
            start = first
        return Axis(lo, hi, tuple(_clean(10.0**k) for k in range(start, last + 1, stride)), 0.0, log=True)
    candidates = [
        _clean(m * 10.0**k)
        for k in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
        for m in _MANTISSAS
        if lo * (1 - 1e-9) <= m * 10.0**k <= hi * (1 + 1e-9)
    ]
    if len(candidates) > max_ticks:
        candidates = [c for c in candidates if round(c / 10.0 ** math.floor(math.log10(c))) != 2] or candidates
    if 2 <= len(candidates) <= max_ticks:
        return Axis(lo, hi, tuple(candidates), 0.0, log=True)
    linear = linear_axis(lo, hi, max_ticks, loose=False)
    return Axis(lo, hi, linear.ticks, linear.step, log=True)


def value_axis(values: np.ndarray | Sequence[float], max_ticks: int = 5, *, log: bool = False) -> Axis:
    """The y axis for ``values``: their finite range, on a log scale where asked and possible.

    On a log scale, values at or below zero are clipped to the smallest positive
    value; with no positive value at all the axis stays linear.
    """
    data = finite(values)
    if data.size == 0:
        return log_axis(0.1, 1.0, max_ticks) if log else linear_axis(0.0, 1.0, max_ticks)
    if log:
        positive = data[data > 0]
        if positive.size:
            return log_axis(float(positive.min()), float(positive.max()), max_ticks)
    return linear_axis(float(data.min()), float(data.max()), max_ticks)


def _plain(value: float, decimals: int) -> str:
    return f"{value:.{max(decimals, 0)}f}"


def _scientific(value: float, digits: int = 0) -> str:
    mantissa, exponent = f"{value:.{max(digits, 0)}e}".split("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"


def _decimals(step: float) -> int:
    return max(0, -math.floor(math.log10(step) + 1e-9))


def _thousands(value: float) -> str | None:
    """``12k`` for 12,000 (whole thousands from 10,000 up), else None."""
    if 1e4 <= abs(value) < 1e7 and value % 1000 == 0:
        return f"{value / 1000:g}k"
    return None


def tick_labels(axis: Axis, *, percent: bool = False) -> list[str]:
    """Short labels for ``axis.ticks``: ``0.071``, ``98%``, ``1e-3``, ``20k``.

    Linear ticks share one style (plain, or scientific where that is at least two
    characters shorter) and the decimals their step needs; log ticks each take
    their shortest form.
    """
    ticks = axis.ticks
    if percent:
        decimals = _decimals(axis.step * 100) if axis.step else 0
        return [f"{_plain(t * 100, decimals if axis.step else _decimals(t * 100))}%" for t in ticks]
    if axis.step == 0.0:  # powers of ten and 1-2-5 on a log axis
        labels = []
        for t in ticks:
            plain, scientific = _thousands(t) or _plain(t, _decimals(t)), _scientific(t)
            labels.append(scientific if len(scientific) < len(plain) else plain)
        return labels
    thousands = [_thousands(t) for t in ticks]
    if all(label is not None or t == 0 for label, t in zip(thousands, ticks)) and any(thousands):
        return [label or "0" for label in thousands]
    plains = [_plain(t, _decimals(axis.step)) for t in ticks]
    digits = [max(0, math.floor(math.log10(abs(t))) - math.floor(math.log10(axis.step))) if t else 0 for t in ticks]
    scientifics = [_scientific(t, d) if t else "0" for t, d in zip(ticks, digits)]
    return scientifics if max(map(len, scientifics)) + 1 < max(map(len, plains)) else plains


def format_value(value: float, *, percent: bool = False, digits: int = 3) -> str:
    """A value for a legend: ``digits`` significant digits (``0.0712``, ``1.23e-5``), or ``98.12%``.

    Percentages keep ``digits - 1`` decimals (accuracy near 100% differs in them).
    """
    if not math.isfinite(value):
        return str(value)
    if percent:
        return f"{value * 100:.{max(digits - 1, 0)}f}%"
    if 1e3 <= abs(value) < 1e6:
        return f"{value:.0f}"
    text = f"{value:.{digits}g}"
    return _scientific(value, digits - 1) if "e" in text else text


@dataclass(frozen=True)
class Raster:
    """Braille cells drawn by one or more polylines.

    Attributes:
        codes: ``(height, width)`` dot bits of each cell (0 where nothing is drawn);
            the character is ``chr(BRAILLE_BASE + code)``.
        owner: ``(height, width)`` index of the line whose colour each cell takes,
            -1 for an empty cell.
    """

    codes: np.ndarray
    owner: np.ndarray


def _merge_columns(xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs of consecutive points in one dot column: their column, lowest and highest dot, and index.

    Returns ``(starts, lows, highs)``: the index of each run's first point and the
    vertical extent of the run. Within a column a polyline's segments cover exactly
    that extent, so a run can be drawn as one span however many points it has.
    """
    breaks = (xs[1:] != xs[:-1]) | np.isnan(ys[1:]) | np.isnan(ys[:-1])
    starts = np.flatnonzero(np.concatenate([[True], breaks]))
    return starts, np.minimum.reduceat(ys, starts), np.maximum.reduceat(ys, starts)


def _segment_dots(x0, y0, x1, y1) -> tuple[np.ndarray, np.ndarray]:
    """Bresenham's dots of each segment ``(x0, y0) -> (x1, y1)`` (arrays of whole dot coordinates)."""
    dx, dy = x1 - x0, y1 - y0
    n = np.maximum(np.abs(dx), np.abs(dy)).astype(np.int64)
    counts = n + 1
    segment = np.repeat(np.arange(n.size), counts)
    t = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    fraction = t / np.maximum(n, 1)[segment]
    return x0[segment] + np.floor(dx[segment] * fraction + 0.5), y0[segment] + np.floor(dy[segment] * fraction + 0.5)


def _line_parts(xs, ys, width: int, height: int):
    """A polyline's dots as spans (one per column it passes through once) and loose dots.

    Returns ``(sparse, first, last, rows, columns)``: ``sparse`` when no two
    consecutive points share a column; ``first[x]..last[x]`` the span of column
    ``x`` (empty where ``first > last``); ``rows, columns`` every other dot.
    """
    xs = np.floor(np.asarray(xs, dtype=float) + 0.5)
    ys = np.floor(np.asarray(ys, dtype=float) + 0.5)
    first, last = np.full(width, height, dtype=np.int64), np.full(width, -1, dtype=np.int64)
    if xs.size == 0:
        return True, first, last, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    starts, lows, highs = _merge_columns(xs, ys)
    ends = np.append(starts[1:], xs.size) - 1
    columns = xs[starts]
    spans = (
        np.isfinite(lows) & np.isfinite(columns) & (columns >= 0) & (columns < width) & (highs >= 0) & (lows < height)
    )
    top, bottom = np.maximum(lows[spans], 0).astype(np.int64), np.minimum(highs[spans], height - 1).astype(np.int64)
    span_columns = columns[spans].astype(np.int64)
    alone = np.bincount(span_columns, minlength=width)[span_columns] == 1
    first[span_columns[alone]], last[span_columns[alone]] = top[alone], bottom[alone]
    x0, y0, x1, y1 = xs[ends[:-1]], ys[ends[:-1]], xs[starts[1:]], ys[starts[1:]]
    joined = np.isfinite(x0) & np.isfinite(y0) & np.isfinite(x1) & np.isfinite(y1)
    px, py = _segment_dots(x0[joined], y0[joined], x1[joined], y1[joined])
    inside = (px >= 0) & (px < width) & (py >= 0) & (py < height)
    rows, columns = py[inside].astype(np.int64), px[inside].astype(np.int64)
    if not alone.all():  # columns the line passes through more than once: their spans dot by dot
        lengths = (bottom - top + 1)[~alone]
        offsets = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        rows = np.concatenate([np.repeat(top[~alone], lengths) + offsets, rows])
        columns = np.concatenate([np.repeat(span_columns[~alone], lengths), columns])
    return starts.size == xs.size, first, last, rows, columns


def _mask(first: np.ndarray, last: np.ndarray, rows: np.ndarray, columns: np.ndarray, height: int) -> np.ndarray:
    grid = np.arange(height, dtype=np.int16)[:, None]
    dots = (grid >= first.astype(np.int16)) & (grid <= last.astype(np.int16))  # a comparison, not a loop
    dots[rows, columns] = True
    return dots


def line_mask(xs: np.ndarray, ys: np.ndarray, width: int, height: int) -> np.ndarray:
    """The dots of a polyline through ``(xs, ys)`` on a ``height`` x ``width`` dot canvas (row 0 at the top).

    Each segment is Bresenham's line: one dot per step along its longer axis, the
    one nearest the true line (a tie rounds up). NaN breaks the line; a finite point
    between two gaps is a single dot; dots off the canvas are dropped. Consecutive
    points in one dot column are drawn as the span between the lowest and the
    highest of them (exactly the dots their segments cover), so thousands of batch
    points cost about what a few per column cost.
    """
    _, first, last, rows, columns = _line_parts(xs, ys, width, height)
    return _mask(first, last, rows, columns, height)


def line_codes(xs: np.ndarray, ys: np.ndarray, width: int, height: int) -> np.ndarray:
    """The braille cells (``height`` x ``width``) of the polyline that :func:`line_mask` draws.

    A line with a point or two per column (epochs) is packed from its few dots;
    a denser one (batches) from the whole dot mask.
    """
    sparse, first, last, rows, columns = _line_parts(xs, ys, 2 * width, 4 * height)
    if not sparse:
        return braille_codes(_mask(first, last, rows, columns, 4 * height))
    spanned = np.flatnonzero(first <= last)  # one dot each: no two points share a column
    rows, columns = np.concatenate([first[spanned], rows]), np.concatenate([spanned, columns])
    codes = np.zeros((height, width), dtype=np.uint8)
    np.bitwise_or.at(codes, (rows // 4, columns // 2), DOT_BITS[rows % 4, columns % 2])
    return codes


def braille_codes(dots: np.ndarray) -> np.ndarray:
    """``(rows, columns)`` braille dot bits of a ``(4 * rows, 2 * columns)`` dot mask."""
    codes = np.zeros((dots.shape[0] // 4, dots.shape[1] // 2), dtype=np.uint8)
    for row in range(4):
        for column in range(2):
            codes |= dots[row::4, column::2].astype(np.uint8) * DOT_BITS[row, column]
    return codes


def rasterise(
    lines: Sequence[tuple[np.ndarray, np.ndarray]], width: int, height: int, layers: Sequence[int] | None = None
) -> Raster:
    """Draw polylines (dot coordinates, row 0 at the top) on ``width`` x ``height`` braille cells.

    Lines are drawn in order (see :func:`line_mask`). Within a layer a cell shows
    the dots of every line through it, in the colour of the last one; a line of a
    higher layer hides the lower layers' dots in the cells it passes through, so a
    few epoch points stay a clean line over a cloud of batch points.

    Args:
        lines: ``(xs, ys)`` per line, in dots; NaN breaks a line.
        width: Cells across.
        height: Cells down.
        layers: Each line's layer (all 0 when omitted).
    """
    codes = np.zeros((height, width), dtype=np.uint8)
    owner = np.full((height, width), -1, dtype=np.int16)
    layer_of = np.full((height, width), -1, dtype=np.int64)
    for number, (xs, ys) in enumerate(lines):
        layer = layers[number] if layers is not None else 0
        cells = line_codes(xs, ys, width, height)
        drawn = (cells != 0) & (layer_of <= layer)
        codes[drawn & (layer_of < layer)] = 0  # a higher layer hides what lies below it
        codes[drawn] |= cells[drawn]
        owner[drawn] = number
        layer_of[drawn] = layer
    return Raster(codes, owner)


def braille(code: int) -> str:
    """The braille character for ``code``'s dot bits (a space for none)."""
    return chr(BRAILLE_BASE + code) if code else " "
