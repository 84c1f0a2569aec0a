"""The "Nearest training images" panel: the training images the model sees as most like this one."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from ..datasets import MNIST
from ..events import ModelService, NearestImages
from ..render import halfblock_segments, pooled
from .model_panel import ModelPanel, Progress

K = 6
COLUMNS = 3
CELL = MNIST.width // 2
"""Cells per small image: a 28x28 image pooled to 14x14, drawn in 7 lines of half blocks."""
GAP = 2


class NeighboursPanel(ModelPanel):
    """The :data:`K` training images closest to the image shown in the model's penultimate layer.

    Each small image carries its label (green: the test image's label, red: the
    model's wrong prediction) and its cosine similarity.
    """

    def __init__(self, model: Any = None, **kwargs: Any) -> None:
        super().__init__(model, **kwargs)
        self.true: int | None = None
        self.predicted: int | None = None
        self._prepared = False

    def show_image(self, index: int, image: np.ndarray, true: int, predicted: int) -> None:
        """Find the neighbours of test image ``index``."""
        self.true, self.predicted = true, predicted
        pixels = np.ascontiguousarray(image, dtype=np.uint8)

        def fetch(model: ModelService, progress: Progress, cancel: threading.Event) -> NearestImages:
            # The training set is embedded once per model, in the model process's job
            # thread: a drawing's prediction is answered meanwhile.
            def embedding(fraction: float, stage: str) -> None:
                progress(f"{stage}: {fraction:.0%}…")

            found = model.neighbours(pixels, K, progress=embedding, cancel=cancel)
            self._prepared = True
            return found

        self.want(
            index, fetch, "Embedding the training images (once per model)…" if not self._prepared else "Searching…"
        )

    def build(self, width: int, height: int) -> list[Strip]:
        answer = self.answer
        if not isinstance(answer, NearestImages):
            return self.status_lines(width)
        base = self.rich_style
        images, labels, sims, indices = answer.images, answer.labels, answer.similarities, answer.indices
        gap = Segment(" " * GAP, base)
        strips: list[Strip] = []
        for start in range(0, len(images), COLUMNS):
            row = range(start, min(start + COLUMNS, len(images)))
            drawn = [halfblock_segments(pooled(images[i])) for i in row]
            for line in zip(*drawn):
                strips.append(Strip(_join([list(cells) for cells in line], gap)))
            strips.append(
                Strip(_join([self._caption(int(labels[i]), float(sims[i]), int(indices[i])) for i in row], gap))
            )
        return [strip.adjust_cell_length(width, base) for strip in strips[:height]]

    def _caption(self, label: int, similarity: float, index: int) -> list[Segment]:
        base = self.rich_style
        colour = "green" if label == self.true else "red" if label == self.predicted else "yellow"
        text = f" {similarity:.2f} #{index}"
        return [
            Segment(str(label), base + Style(color=colour, bold=True)),
            Segment(text[: CELL - 1].ljust(CELL - 1), base + Style(dim=True)),
        ]


def _join(cells: list[list[Segment]], gap: Segment) -> list[Segment]:
    out: list[Segment] = []
    for i, segments in enumerate(cells):
        if i:
            out.append(gap)
        out.extend(segments)
    return out
