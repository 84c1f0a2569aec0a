"""Confidence of every class as bars, one line each."""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from ..datasets import MNIST
from ..render import probability_bars


class ProbabilityBars(Widget):
    """A bar per class, the predicted class and the true class highlighted."""

    DEFAULT_CSS = f"""
    ProbabilityBars {{ height: {MNIST.num_classes}; width: 1fr; }}
    """

    probabilities: reactive[np.ndarray | None] = reactive(None, always_update=True)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.predicted: int | None = None
        self.true: int | None = None

    def show(self, probabilities: np.ndarray, predicted: int | None, true: int | None) -> None:
        self.predicted, self.true = predicted, true
        self.probabilities = probabilities

    def render(self) -> Text:
        if self.probabilities is None:
            return Text("")
        width = max(self.content_size.width - 11, 4)
        return probability_bars(self.probabilities, self.predicted, self.true, width=width)
