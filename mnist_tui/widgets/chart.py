"""A braille line chart with axes, a legend and the latest and best points marked.

Drawn with the Line API from strips built once per change of data or size (see
:class:`~mnist_tui.widgets.cached.CachedLines`): a refresh between two changes
hands out strips that already exist, and nothing redraws on a timer. The maths
(ticks, scaling, rasterising) lives in :mod:`mnist_tui.plotting`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.reactive import reactive
from textual.strip import Strip

from .. import plotting
from .cached import CachedLines

PALETTE = ("#4c9be8", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7")
"""Series colours in order of first use: mid-tones that read on dark and light backgrounds alike."""
LATEST, BEST = "●", "◆"
SWATCH = "━━"


@dataclass
class _Series:
    x: np.ndarray
    y: np.ndarray
    colour: str
    markers: bool


def _best_and_latest(series: _Series, higher_is_better: bool) -> tuple[int, int] | None:
    """Indices of the best and the latest finite points, or None when there is none."""
    finite = np.flatnonzero(np.isfinite(series.y) & np.isfinite(series.x))
    if not finite.size:
        return None
    values = series.y[finite]
    best = finite[int(np.argmax(values) if higher_is_better else np.argmin(values))]
    return int(best), int(finite[-1])


def _format_x(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.3g}"


class LineChart(CachedLines):
    """Named series drawn as braille lines over round-valued axes.

    Series are drawn densest first, so a few epoch points stay on top of
    thousands of batch points. Each series keeps the colour it was first given.
    The labels and options are read on every build: after changing one, call
    :meth:`invalidate`.
    """

    COMPONENT_CLASSES = {"linechart--axis", "linechart--title", "linechart--muted"}
    DEFAULT_CSS = """
    LineChart { height: 1fr; min-height: 4; }
    LineChart > .linechart--axis { color: $foreground 45%; }
    LineChart > .linechart--title { color: $foreground; text-style: bold; }
    LineChart > .linechart--muted { color: $foreground 65%; }
    """

    log_y: reactive[bool] = reactive(False)
    """A log y axis: losses that fall over decades stay readable at the end of a run."""

    def __init__(
        self,
        title: str = "",
        *,
        x_label: str = "epoch",
        y_label: str = "",
        percent: bool = False,
        higher_is_better: bool = False,
        empty_text: str = "waiting for the first epoch",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """A chart with no series yet.

        Args:
            title: Shown bold in the top left corner.
            x_label: Names the x axis at the right end of its tick labels.
            y_label: Names the y axis beside the title (when it says more than the title).
            percent: Values are fractions shown as percentages (accuracy).
            higher_is_better: The best point is the maximum (else the minimum).
            empty_text: Shown while no series has a point.
            name: The widget's name.
            id: The widget's id.
            classes: The widget's CSS classes.
        """
        super().__init__(name=name, id=id, classes=classes)
        self.title = title
        self.x_label = x_label
        self.y_label = y_label
        self.percent = percent
        self.higher_is_better = higher_is_better
        self.empty_text = empty_text
        self._series: dict[str, _Series] = {}
        self._colours: dict[str, str] = {}
        self.version = 0
        """Counts changes of data: the strips are built once per version and size."""
        self._styles: _Styles | None = None

    @property
    def series_names(self) -> list[str]:
        """The names of the series, in the order they were first set."""
        return list(self._series)

    def set_series(
        self,
        name: str,
        values: Sequence[float] | np.ndarray,
        x: Sequence[float] | np.ndarray | None = None,
        *,
        colour: str | None = None,
        markers: bool = True,
    ) -> None:
        """Add or replace the series ``name``.

        Args:
            name: The legend's name for it; also the key of its colour.
            values: The y values; NaN and infinities leave gaps.
            x: The x value of each point (defaults to 1, 2, ... n, as epochs count).
            colour: A colour for it (a hex string); else the palette's next unused one (a colour
                outside the palette, such as a parent run's grey, uses up none).
            markers: Mark its latest and best points (noise for thousands of batch points).
        """
        y = np.asarray(values, dtype=float).ravel()
        xs = np.arange(1, y.size + 1, dtype=float) if x is None else np.asarray(x, dtype=float).ravel()
        if xs.size != y.size:
            raise ValueError(f"{name}: {xs.size} x values for {y.size} y values")
        if colour is not None:
            self._colours[name] = colour
        elif name not in self._colours:
            used = sum(1 for c in self._colours.values() if c in PALETTE)
            self._colours[name] = PALETTE[used % len(PALETTE)]
        self._series[name] = _Series(xs, y, self._colours[name], markers)
        self._changed()

    def remove_series(self, name: str) -> None:
        """Remove the series ``name`` if it is there (its colour stays its own)."""
        if self._series.pop(name, None) is not None:
            self._changed()

    def clear(self) -> None:
        """Remove every series (their colours stay theirs if they come back)."""
        self._series.clear()
        self._changed()

    def toggle_log(self) -> None:
        """Switch between a linear and a log y axis."""
        self.log_y = not self.log_y

    def watch_log_y(self) -> None:
        self._changed()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None  # the theme or the CSS changed: look the styles up again

    def _changed(self) -> None:
        self.version += 1
        self.invalidate()

    def build(self, width: int, height: int) -> list[Strip]:
        if self._styles is None:
            self._styles = _Styles(self, self.rich_style)
        styles = self._styles
        blank = Strip.blank(width, styles.text)
        if width < 8 or height < 2:
            return [blank] * max(height, 0)
        drawn = {name: s for name, s in self._series.items() if (np.isfinite(s.y) & np.isfinite(s.x)).any()}
        legend = [self._legend_entry(name, s, styles) for name, s in drawn.items()]
        header_rows = self._header(width, height, legend, styles)
        bottom = 2 if height - len(header_rows) >= 5 else 1
        rows = height - len(header_rows) - bottom
        if rows < 1:
            return [*header_rows, *[blank] * height][:height]
        if not drawn:
            return [*header_rows, *self._empty(width, rows + bottom, styles)]
        return [*header_rows, *self._plot(width, rows, bottom, drawn, styles)]

    def _legend_entry(self, name: str, series: _Series, styles: _Styles) -> list[list[tuple[str, Style]]]:
        """The entry's forms, longest first: with the best value, the latest, a shorter latest, the name.

        The best value shows where it is not the latest one.
        """
        colour = styles.series(series.colour)
        best, latest = _best_and_latest(series, self.higher_is_better) or (0, 0)
        value = plotting.format_value(series.y[latest], percent=self.percent)
        rounder = plotting.format_value(series.y[latest], percent=self.percent, digits=2)
        with_value = [(SWATCH, colour), (f" {name}", styles.text), (f" {value}", styles.title)]
        full = with_value
        if series.markers and best != latest:
            best_value = plotting.format_value(series.y[best], percent=self.percent)
            full = [*with_value, (f" {BEST}{best_value}@{_format_x(series.x[best])}", colour)]
        narrow = [(SWATCH[0], colour), (f" {name}", styles.text)]
        return [
            full,
            with_value,
            [*narrow, (f" {value}", styles.title)],
            [*narrow, (f" {rounder}", styles.title)],
            narrow,
        ]

    def _header(self, width: int, height: int, legend, styles: _Styles) -> list[Strip]:
        """The title and the legend on one row, or two where the chart is tall, or the legend alone."""
        title = [(self.title or self.y_label, styles.title)] if (self.title or self.y_label) else []
        if self.title and self.y_label and self.y_label.lower() != self.title.lower():
            title.append((f" {self.y_label}", styles.muted))
        if self.log_y:
            title.append((" (log)", styles.muted))
        if height < 4:
            return []
        title_length = sum(len(text) for text, _ in title)
        # the legend's values matter more than the title: drop the title before the values
        for with_title, level in [
            *((True, n) for n in range(4)),
            *((False, n) for n in range(1, 4)),
            (True, 4),
            (False, 4),
        ]:
            items = [
                piece for i, entry in enumerate(legend) for piece in ([("  ", styles.text)] if i else []) + entry[level]
            ]
            length = sum(len(text) for text, _ in items)
            if not with_title or not title:
                if length <= width:
                    return [_strip(items, width, styles.text)]
            elif title_length + 2 + length <= width:
                gap = [(" " * (width - title_length - length), styles.text)]
                return [_strip([*title, *gap, *items], width, styles.text)]
            elif length <= width and height >= 12:
                return [_strip(title, width, styles.text), _strip(items, width, styles.text, right=True)]
        return [_strip(items or title, width, styles.text)]

    def _empty(self, width: int, rows: int, styles: _Styles) -> list[Strip]:
        lines = [Strip.blank(width, styles.text) for _ in range(rows)]
        lines[(rows - 1) // 2] = _strip([(self.empty_text.center(width)[:width], styles.muted)], width, styles.text)
        return lines

    def _plot(self, width: int, rows: int, bottom: int, drawn: dict[str, _Series], styles: _Styles) -> list[Strip]:
        ys = np.concatenate([s.y for s in drawn.values()])
        y_axis = plotting.value_axis(ys, max(2, min((rows + 1) // 2, rows // 4 + 2, 8)), log=self.log_y)
        y_labels = plotting.tick_labels(y_axis, percent=self.percent)
        label_width = max(map(len, y_labels))
        plot_width = width - label_width - 1
        if plot_width < 2:
            return [Strip.blank(width, styles.text) for _ in range(rows + bottom)]
        xs = np.concatenate([s.x[np.isfinite(s.y)] for s in drawn.values()])
        xs = xs[np.isfinite(xs)]
        integer = bool(np.all(xs == np.round(xs)))
        widest = len(plotting.format_value(float(np.abs(xs).max())))
        spaced = max(2, plot_width // (widest + 6))  # room between labels, and for the axis's name
        x_axis = plotting.linear_axis(float(xs.min()), float(xs.max()), spaced, integer=integer, loose=False)
        dots_x, dots_y = 2 * plot_width, 4 * rows
        order = sorted(drawn, key=lambda name: -drawn[name].y.size)  # densest first, sparse on top
        lines = []
        for name in order:
            s = drawn[name]
            lines.append((x_axis.position(s.x, dots_x), (dots_y - 1) - y_axis.position(s.y, dots_y)))
        dense = [drawn[name].y.size > dots_x for name in order]  # a cloud more than a line
        raster = plotting.rasterise(lines, plot_width, rows, layers=[0 if d else 1 for d in dense])
        # code points viewed as UCS-4 strings: one string per row without a loop over cells
        points = np.where(raster.codes != 0, raster.codes.astype("<u4") + plotting.BRAILLE_BASE, ord(" "))
        owner = raster.owner.copy()
        series_styles = [styles.series(drawn[name].colour) for name in order]
        marker_styles = [styles.marker(drawn[name].colour) for name in order]
        for number, name in enumerate(order):
            s = drawn[name]
            marked = _best_and_latest(s, self.higher_is_better)
            if not s.markers or marked is None:
                continue
            for index, glyph in ((marked[1], LATEST), (marked[0], BEST)):  # best drawn last: it wins a shared cell
                column, row = int(lines[number][0][index] + 0.5) // 2, int(lines[number][1][index] + 0.5) // 4
                if 0 <= row < rows and 0 <= column < plot_width:
                    points[row, column] = ord(glyph)
                    owner[row, column] = len(order) + number
        run_styles = [*series_styles, *marker_styles]
        tick_rows: dict[int, str] = {}
        for value, label in zip(y_axis.ticks, y_labels):
            row = int((dots_y - 1) - float(y_axis.position([value], dots_y)[0]) + 0.5) // 4
            tick_rows.setdefault(min(max(row, 0), rows - 1), label)
        texts = np.ascontiguousarray(points).view(f"<U{plot_width}").ravel().tolist()
        # a run of one colour starts at each drawn cell whose owner differs from the previous drawn
        # cell's in its row; empty cells join the run before them (a space looks the same in any colour)
        cell_rows, cell_columns = np.nonzero(owner >= 0)
        cell_owner = owner[cell_rows, cell_columns]
        starts = np.ones(cell_owner.size, dtype=bool)
        starts[1:] = (cell_owner[1:] != cell_owner[:-1]) | (cell_rows[1:] != cell_rows[:-1])
        runs: list[list[tuple[int, int]]] = [[] for _ in range(rows)]
        for row, column, number in zip(
            cell_rows[starts].tolist(), cell_columns[starts].tolist(), cell_owner[starts].tolist()
        ):
            runs[row].append((column, number))
        strips = []
        for row in range(rows):
            tick = tick_rows.get(row)
            segments = [Segment((tick or "").rjust(label_width) + ("┤" if tick else "│"), styles.axis)]
            text, row_runs = texts[row].ljust(plot_width), runs[row]
            if not row_runs or row_runs[0][0]:
                segments.append(Segment(text[: row_runs[0][0] if row_runs else plot_width], styles.text))
            for (start, number), (end, _) in zip(row_runs, [*row_runs[1:], (plot_width, 0)]):
                segments.append(Segment(text[start:end], run_styles[number]))
            strips.append(Strip(segments, width))
        strips.extend(self._x_axis(width, label_width, plot_width, x_axis, bottom, styles))
        return strips

    def _x_axis(self, width: int, label_width: int, plot_width: int, axis, bottom: int, styles: _Styles) -> list[Strip]:
        columns = [int(p + 0.5) // 2 for p in axis.position(axis.ticks, 2 * plot_width)]
        labels = plotting.tick_labels(axis)
        line = ["─"] * plot_width
        text = [" "] * width
        free_from = 0
        for column, label in zip(columns, labels):
            if not 0 <= column < plot_width:
                continue
            line[column] = "┬"
            start = min(max(label_width + 1 + column - (len(label) - 1) // 2, 0), width - len(label))
            if start >= free_from:
                text[start : start + len(label)] = label
                free_from = start + len(label) + 1
        first = next((i for i, char in enumerate(text) if char != " "), width)
        if self.x_label and len(self.x_label) < first:  # the corner under the y tick labels
            text[: len(self.x_label)] = self.x_label
        elif self.x_label and free_from <= width - len(self.x_label):
            text[width - len(self.x_label) :] = self.x_label
        axis_row = Strip([Segment(" " * label_width + "└" + "".join(line), styles.axis)], width)
        label_row = Strip([Segment("".join(text), styles.muted)], width)
        return [axis_row, label_row] if bottom == 2 else [label_row]


class _Styles:
    """The Rich styles of one build, made once from the widget's component classes."""

    def __init__(self, chart: LineChart, base: Style) -> None:
        self.text = base
        self.axis = chart.get_component_rich_style("linechart--axis")
        self.title = chart.get_component_rich_style("linechart--title")
        self.muted = chart.get_component_rich_style("linechart--muted")
        self._base = base
        self._cache: dict[tuple[str, bool], Style] = {}

    def series(self, colour: str) -> Style:
        return self._style(colour, False)

    def marker(self, colour: str) -> Style:
        return self._style(colour, True)

    def _style(self, colour: str, bold: bool) -> Style:
        key = (colour, bold)
        if key not in self._cache:
            self._cache[key] = self._base + Style(color=colour, bold=bold)
        return self._cache[key]


def _strip(parts: list[tuple[str, Style]], width: int, pad: Style, *, right: bool = False) -> Strip:
    """A strip of ``parts`` cut or padded to ``width`` cells (padded on the left when ``right``)."""
    segments = [Segment(text, style) for text, style in parts]
    length = sum(len(text) for text, _ in parts)
    if right and length < width:
        segments.insert(0, Segment(" " * (width - length), pad))
    return Strip(segments).crop(0, width).extend_cell_length(width, pad)
