"""The "Why" panel: which pixels pushed the model toward its answer and which pushed away."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from ..analysis import normalise_signed
from ..datasets import MNIST
from ..events import ModelService
from ..render import MAP_LEVELS, signed_halfblock_segments, signed_rgb
from .model_panel import ModelPanel, Progress

STEPS = 32
"""Integrated-gradients steps from a black image: enough for a ReLU network (the sum stays within a few % of the score change)."""
MAP_WIDTH = MNIST.width
GAP = 1


class WhyPanel(ModelPanel):
    """Integrated-gradients maps of the image shown, from the model process.

    Correctly read: the map for the predicted class. A mistake: the predicted class's
    map beside the true class's, on one colour scale so that they compare.
    """

    def __init__(self, model: Any = None, **kwargs: Any) -> None:
        super().__init__(model, **kwargs)
        self.image: np.ndarray | None = None
        self.captions: list[str] = []

    def show_image(self, index: int, image: np.ndarray, true: int, predicted: int, probabilities: np.ndarray) -> None:
        """Explain test image ``index``: its pixels, labels and the model's probabilities."""
        classes = [predicted] if true == predicted else [predicted, true]
        self.image = np.asarray(image, np.uint8)
        self.captions = [
            f"{what} {c} · {float(probabilities[c]):.0%}" for what, c in zip(("predicted", "true"), classes)
        ]
        pixels = np.ascontiguousarray(self.image)

        def fetch(model: ModelService, progress: Progress, cancel: threading.Event) -> np.ndarray:
            return np.asarray(model.why(pixels, classes, STEPS, cancel=cancel), np.float32)

        self.want((index, tuple(classes)), fetch)

    def build(self, width: int, height: int) -> list[Strip]:
        base = self.rich_style
        if self.answer is None or self.image is None:
            return self.status_lines(width)
        maps = np.asarray(self.answer)
        if maps.ndim != 3 or maps.shape[1:] != self.image.shape:
            self.status = f"The model process sent maps of shape {maps.shape}."
            self.failed = True
            return self.status_lines(width)
        scaled = normalise_signed(maps)  # one scale for both maps, so that they compare
        drawn = [signed_halfblock_segments(m, self.image) for m in scaled]
        gap = Segment(" " * GAP, base)
        strips = [Strip([*sum(([*row, gap] for row in rows), [])][:-1]) for rows in zip(*drawn)]
        captions = [
            Segment(c.center(MAP_WIDTH)[:MAP_WIDTH], base + Style(bold=True)) for c in self.captions[: len(drawn)]
        ]
        strips.append(Strip([*sum(([c, gap] for c in captions), [])][:-1]))
        left = Segment(" " * max((width - strips[0].cell_length) // 2, 0), base)
        return [Strip([left, *strip]).adjust_cell_length(width, base) for strip in strips[:height]]


def legend() -> str:
    """Content markup for the panel's subtitle: what the colours mean."""
    warm, cool = ("rgb({},{},{})".format(*signed_rgb(level, 0)) for level in (MAP_LEVELS, -MAP_LEVELS))
    return f"[{warm}]██[/] toward  [{cool}]██[/] against"
