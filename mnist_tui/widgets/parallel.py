"""Parallel coordinates in braille: one vertical axis per parameter plus the objective, one line per trial.

Lines are coloured by the trial's score (red low, green high); a brushed range on an axis
keeps the trials inside it in colour and dims the others. Drawn with the Line API from strips
built once per change of data or size (:class:`~mnist_tui.widgets.cached.CachedLines`); the
rasterising is :func:`mnist_tui.plotting.rasterise`'s.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from .. import plotting
from ..sweeps.view import AxisData
from .cached import CachedLines

SCORE_RAMP = ("#e15759", "#f28e2b", "#edc948", "#8cd17d", "#59a14f")
"""Low to high score: the chart palette's red, orange, yellow and greens."""
DIM = "#5c5c5c"
BRUSH = "#4c9be8"


class ParallelCoords(CachedLines):
    """Trials as lines across their parameters' axes; see :meth:`set_data`."""

    COMPONENT_CLASSES = {"parallel--axis", "parallel--title", "parallel--muted"}
    DEFAULT_CSS = """
    ParallelCoords { height: 1fr; min-height: 6; }
    ParallelCoords > .parallel--axis { color: $foreground 40%; }
    ParallelCoords > .parallel--title { color: $foreground; text-style: bold; }
    ParallelCoords > .parallel--muted { color: $foreground 65%; }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.axes: list[AxisData] = []
        self.scores = np.zeros(0)
        self.keep = np.zeros(0, bool)
        self.brushes: dict[int, tuple[float, float]] = {}
        self.selected = 0

    def set_data(
        self,
        axes: Sequence[AxisData],
        scores: np.ndarray,
        keep: np.ndarray,
        brushes: dict[int, tuple[float, float]],
        selected: int,
    ) -> None:
        """The axes (each trial's position on each), the trials' scores, which pass the brushes, the chosen axis."""
        self.axes = list(axes)
        self.scores = np.asarray(scores, float)
        self.keep = np.asarray(keep, bool)
        self.brushes = dict(brushes)
        self.selected = selected
        self.invalidate()

    def axis_columns(self, width: int) -> list[int]:
        """The cell column of each axis: evenly spaced, room left at both ends for the labels."""
        k = len(self.axes)
        if k == 0:
            return []
        left, right = 3, max(width - 4, 4)
        if k == 1:
            return [(left + right) // 2]
        return [round(left + i * (right - left) / (k - 1)) for i in range(k)]

    def build(self, width: int, height: int) -> list[Strip]:
        base = self.rich_style
        axis_style = base + self.get_component_rich_style("parallel--axis", partial=True)
        title_style = base + self.get_component_rich_style("parallel--title", partial=True)
        muted = base + self.get_component_rich_style("parallel--muted", partial=True)
        blank = Strip.blank(width, base)
        n = len(self.scores)
        if width < 10 or height < 4 or not self.axes:
            return [blank] * max(height, 0)
        columns = self.axis_columns(width)
        plot_rows = height - 3
        names = _labels([a.name for a in self.axes], columns, width)
        highs = _labels([a.high for a in self.axes], columns, width)
        lows = _labels([a.low for a in self.axes], columns, width)
        head = self._label_strip(names, width, title_style, muted, chosen=self.selected)
        if n == 0:
            body = [blank] * plot_rows
            middle = plot_rows // 2
            body[middle] = Strip([Segment("no trials yet".center(width)[:width], muted)], width)
            return [
                head,
                self._label_strip(highs, width, muted, muted),
                *body,
                self._label_strip(lows, width, muted, muted),
            ]
        dots_high = plot_rows * 4
        xs = np.array(columns, float) * 2
        lines, layers = [], []
        for trial in range(n):
            ys = np.array([a.positions[trial] for a in self.axes], float)
            lines.append((xs, (1.0 - ys) * (dots_high - 1)))
            layers.append(1 if self.keep[trial] else 0)
        order = np.argsort(np.where(np.isfinite(self.scores), self.scores, -np.inf), kind="stable")
        raster = plotting.rasterise([lines[i] for i in order], width, plot_rows, [layers[i] for i in order])
        owners = np.where(raster.owner >= 0, order[np.clip(raster.owner, 0, None)], -1)
        colours = self._colours()
        brushed = self._brush_cells(columns, plot_rows)
        rows = []
        for r in range(plot_rows):
            segments: list[Segment] = []
            for c in range(width):
                code = int(raster.codes[r, c])
                if code:
                    segments.append(Segment(plotting.braille(code), base + Style(color=colours[owners[r, c]])))
                elif (r, c) in brushed:
                    segments.append(Segment("┃", base + Style(color=BRUSH, bold=True)))
                elif c in columns:
                    segments.append(Segment("│", axis_style))
                else:
                    segments.append(Segment(" ", base))
            rows.append(Strip(Segment.simplify(segments), width))
        return [
            head,
            self._label_strip(highs, width, muted, muted),
            *rows,
            self._label_strip(lows, width, muted, muted),
        ]

    def _colours(self) -> list[str]:
        scores = self.scores
        finite = scores[np.isfinite(scores)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        out = []
        for score, kept in zip(scores, self.keep):
            if not kept or not np.isfinite(score):
                out.append(DIM)
                continue
            t = (score - lo) / (hi - lo) if hi > lo else 1.0
            out.append(SCORE_RAMP[min(int(t * len(SCORE_RAMP)), len(SCORE_RAMP) - 1)])
        return out

    def _brush_cells(self, columns: list[int], plot_rows: int) -> set[tuple[int, int]]:
        cells = set()
        for index, (lo, hi) in self.brushes.items():
            if index >= len(columns):
                continue
            top = int((1.0 - hi) * (plot_rows - 1) + 0.5)
            bottom = int((1.0 - lo) * (plot_rows - 1) + 0.5)
            cells |= {(r, columns[index]) for r in range(top, bottom + 1)}
        return cells

    def _label_strip(
        self, placed: list[tuple[int, str]], width: int, style: Style, other: Style, chosen: int | None = None
    ) -> Strip:
        segments, at = [], 0
        for i, (start, text) in enumerate(placed):
            if start > at:
                segments.append(Segment(" " * (start - at), self.rich_style))
            mark = style + Style(reverse=True) if i == chosen else style
            segments.append(Segment(text, mark))
            at = start + len(text)
        if at < width:
            segments.append(Segment(" " * (width - at), self.rich_style))
        return Strip(segments, width).crop(0, width)


def _labels(texts: list[str], columns: list[int], width: int) -> list[tuple[int, str]]:
    """Each text centred on its column, moved right of the one before it and kept inside the width."""
    placed, at = [], 0
    for text, column in zip(texts, columns):
        start = max(column - len(text) // 2, at, 0)
        start = min(start, max(width - len(text), at))
        room = width - start
        if room <= 0:
            break
        placed.append((start, text[:room]))
        at = start + len(text) + 1
    return placed
