"""Parallel coordinates in braille: one vertical axis per parameter plus the objective, one line per trial.

Lines are coloured by the trial's score (red low, green high); a brushed range on an axis
keeps the trials inside it in colour and dims the others. Drawn with the Line API from strips
built once per change of data or size (:class:`~mnist_tui.widgets.cached.CachedLines`); the
rasterising is :func:`mnist_tui.plotting.rasterise`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

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
        colours = self._colours()
        # one polyline per colour (each trial's apart from the next by NaN): a few rasterised lines
        # however many trials, the dimmed ones below, the best scores drawn last
        groups = [DIM, *SCORE_RAMP]
        lines, layers = [], []
        for colour in groups:
            members = [t for t in range(n) if colours[t] == colour]
            gx = np.concatenate([np.append(xs, np.nan) for _ in members]) if members else np.zeros(0)
            gy = (
                np.concatenate([np.append([a.positions[t] for a in self.axes], np.nan) for t in members])
                if members
                else np.zeros(0)
            )
            lines.append((gx, (1.0 - gy) * (dots_high - 1)))
            layers.append(0 if colour == DIM else 1)
        raster = plotting.rasterise(lines, width, plot_rows, layers)
        owners = raster.owner
        colours = groups
        brushed = self._brush_cells(columns, plot_rows)
        # a style per colour made once, and one segment per run of cells sharing it: the strips are built in a few ms
        line_styles = [base + Style(color=colour) for colour in colours]
        brush_style = base + Style(color=BRUSH, bold=True)
        axis_set = set(columns)
        rows = []
        for r in range(plot_rows):
            codes, owner_row = raster.codes[r].tolist(), owners[r].tolist()
            cells: list[tuple[str, Style]] = []
            for c in range(width):
                if codes[c]:
                    cells.append((plotting.braille(codes[c]), line_styles[owner_row[c]]))
                elif (r, c) in brushed:
                    cells.append(("┃", brush_style))
                elif c in axis_set:
                    cells.append(("│", axis_style))
                else:
                    cells.append((" ", base))
            segments = [
                Segment("".join(text for text, _ in group), style)
                for style, group in groupby(cells, key=lambda cell: cell[1])
            ]
            rows.append(Strip(segments, width))
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
