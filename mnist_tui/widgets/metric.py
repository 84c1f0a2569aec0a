"""A labelled sparkline: a series of values with its latest and best value."""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Label

from .spark import SparkBars


def best_of(values: Sequence[float], higher_is_better: bool) -> float | None:
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return None
    return max(finite) if higher_is_better else min(finite)


def format_value(value: float | None, percent: bool) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value:.2%}" if percent else f"{value:.4f}"


class MetricSpark(Widget):
    """``name  latest  (best …)`` above a sparkline of the series."""

    DEFAULT_CSS = """
    MetricSpark { height: auto; }
    MetricSpark > Label { width: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    MetricSpark > SparkBars { height: 2; margin-bottom: 1; }
    """

    def __init__(
        self, name: str, *, short: str = "", higher_is_better: bool = False, percent: bool = False, **kwargs
    ) -> None:
        super().__init__(**kwargs)
        self.metric = name
        self.short = short or name
        """The name where the whole caption does not fit (``acc`` for ``accuracy``)."""
        self.higher_is_better = higher_is_better
        self.percent = percent
        self.values: list[float] = []

    def compose(self) -> ComposeResult:
        yield Label(self._caption())
        yield SparkBars()

    def _caption(self) -> Text:
        """The longest caption that fits the widget's width, so the best value is never cut mid-number."""
        width = self.content_size.width or 10_000
        for caption in self._captions():
            if caption.cell_len <= width:
                return caption
        return caption

    def _captions(self) -> list[Text]:
        """From the fullest caption to the barest: ``loss 0.0333 · best 0.0301`` … ``loss 0.0333``."""
        names = dict.fromkeys((self.metric, self.short))  # once each, the full name first
        if not self.values:
            return [Text.assemble((f"{name} ", "bold"), ("–", "dim"), no_wrap=True) for name in names]
        latest = format_value(self.values[-1], self.percent)
        best = format_value(best_of(self.values, self.higher_is_better), self.percent)
        captions = [
            Text.assemble((f"{name} ", "bold"), latest, (f"{joint}{best}", "dim"), no_wrap=True, overflow="ellipsis")
            for joint in (" · best ", " best ")
            for name in names
        ]
        return [*captions, Text.assemble((f"{self.short} ", "bold"), latest, no_wrap=True, overflow="ellipsis")]

    def on_resize(self) -> None:
        self.query_one(Label).update(self._caption(), layout=False)

    def set_values(self, values: Sequence[float]) -> None:
        """Replace the series (the sparkline redraws once)."""
        self.values = list(values)
        self.query_one(Label).update(self._caption(), layout=False)  # one line, its width set by the chart
        # a single point draws as a flat line; NaN/inf would break the scale
        self.query_one(SparkBars).data = [v for v in self.values if math.isfinite(v)]

    def append(self, value: float) -> None:
        self.set_values([*self.values, value])
