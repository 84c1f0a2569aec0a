"""The map: every test image as a dot placed by the model's penultimate-layer embedding.

PCA of the embeddings is drawn at once; a layout that gathers the digits into islands
is computed in the model process (``worker/layouts.py``), which pushes its progress, and
swapped in when it is ready. A selection box picks a region; ``enter`` hands its images back
to the results browser.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Footer, Header, Static
from textual.worker import get_current_worker

from ..analysis import class_counts, confidence_classes, count_phrase, pca_2d
from ..datasets import MNIST
from ..events import ModelService
from ..predictions import Predictions
from ..widgets.scatter import CONFIDENCE_COLOURS, DIGIT_COLOURS, ScatterPlot
from .base import AppScreen, bindings

COLOUR_MODES = ("true", "predicted", "confidence")
CONFIDENCE_NAMES = ("below 50%", "50-90%", "90-99%", "99% and up")
LAYOUT_NAMES = {"pca": "PCA", "islands": "islands", "umap": "UMAP"}


class MapScreen(AppScreen[np.ndarray | None]):
    """All test images on one screen; dismisses with the selected dataset indices, or None.

    Args:
        predictions: the test set and the model's probabilities.
        model: the model handle; a model process (:class:`~mnist_tui.events.ModelService`)
            gives embeddings and layouts (and keeps them: the map reopens at once), anything
            else falls back to placing images by their output probabilities.
        current_index: the image open in the browser, marked on the map.
        cache_dir: a recorded run's folder, to keep the nonlinear layout for next time.
    """

    KEYS = "map"
    BINDINGS = bindings(KEYS)
    DEFAULT_CSS = """
    MapScreen #map-body { height: 1fr; }
    MapScreen #map-plot { border: round $primary; }
    MapScreen #map-side { width: 30; padding: 0 1; }
    MapScreen #map-legend { height: auto; }
    MapScreen #map-status { height: auto; margin-top: 1; color: $text-muted; }
    """

    class Placed(Message):
        """A layout to draw: ``method`` is "pca", "islands" or "umap"."""

        def __init__(self, layout: np.ndarray, method: str, note: str = "") -> None:
            super().__init__()
            self.layout = layout
            self.method = method
            self.note = note

    class Progress(Message):
        """The nonlinear layout's progress (``fraction`` in [0, 1]), or why it failed."""

        def __init__(self, fraction: float, stage: str, error: str | None = None) -> None:
            super().__init__()
            self.fraction = fraction
            self.stage = stage
            self.error = error

    def __init__(
        self,
        predictions: Predictions,
        model: Any = None,
        current_index: int | None = None,
        *,
        cache_dir: Path | None = None,
    ) -> None:
        super().__init__()
        self.predictions = predictions
        self.model = model
        self.current_index = current_index
        self.cache_dir = cache_dir
        self.layouts: dict[str, np.ndarray] = {}
        self.method = ""
        self.note = ""
        self.progress = "computing the embeddings…"
        self.colour_mode = "true"
        self.selected_indices = np.zeros(0, np.int64)
        self.sub_title = "Map of the test images"

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="map-body"):
            yield ScatterPlot(id="map-plot")
            with Vertical(id="map-side"):
                yield Static(id="map-legend")
                yield Static(id="map-status")
        yield Footer()

    def on_mount(self) -> None:
        self._recolour()
        self._show_status()
        self.query_one(ScatterPlot).focus()
        self._fetch()

    # ------------------------------------------------------------------ fetching (a worker thread)

    @work(thread=True, exclusive=True, group="map")
    def _fetch(self) -> None:
        """Embeddings -> PCA (posted), then the nonlinear layout from the model process (posted, with progress).

        The model process keeps both, so a map opened again is answered at once.
        """
        cancel = get_current_worker().cancelled_event
        embeddings, note = self._embeddings(cancel)
        self.post_message(self.Placed(pca_2d(embeddings), "pca", note))
        if note or not isinstance(self.model, ModelService):
            return

        def progress(fraction: float, stage: str) -> None:
            self.post_message(self.Progress(fraction, stage))

        try:
            layout = self.model.layout(
                self.predictions.images, "auto", self.cache_dir, progress=progress, cancel=cancel
            )
        except Exception as exc:  # ModelServerError: the process is gone, or the layout failed there
            if not cancel.is_set():
                self.post_message(self.Progress(0.0, "", _first_line(exc, "failed")))
            return
        self.post_message(self.Placed(np.asarray(layout.points, np.float32), layout.method))

    def _embeddings(self, cancel: threading.Event) -> tuple[np.ndarray, str]:
        """The penultimate-layer embeddings, or the probabilities and why."""
        if not isinstance(self.model, ModelService):
            reason = "no model process in this session"
        else:
            try:
                embeddings = self.model.embeddings(self.predictions.images, cancel=cancel)
                if embeddings.ndim == 2 and len(embeddings) == len(self.predictions) and embeddings.shape[1] >= 2:
                    return embeddings.astype(np.float32), ""
                reason = f"the embeddings came back as {embeddings.shape}"
            except Exception as exc:  # ModelServerError, or a model that cannot be cut
                reason = _first_line(exc, type(exc).__name__).rstrip(".")
        note = f"Placed by the output probabilities: {reason}."
        return np.asarray(self.predictions.probabilities, np.float32), note

    # ------------------------------------------------------------------ messages -> widgets

    @on(Placed)
    def _placed(self, message: Placed) -> None:
        self.layouts[message.method] = message.layout
        if message.note:
            self.note = message.note
        if message.method != "pca" or self.note:
            self.progress = ""
        elif self.progress.startswith("computing the embeddings"):
            self.progress = "islands: starting…"
        if message.method != "pca" or not self.method:
            self._show_layout(message.method)
        self._show_status()

    @on(Progress)
    def _progressed(self, message: Progress) -> None:
        if message.error:
            self.progress = f"No islands layout: {message.error}"
        else:
            self.progress = f"islands: {message.fraction:.0%} ({message.stage})"
        self._show_status()

    def _show_layout(self, method: str) -> None:
        self.method = method
        plot = self.query_one(ScatterPlot)
        plot.border_title = f"{LAYOUT_NAMES.get(method, method)} of the penultimate layer"
        if self.note:
            plot.border_title = "PCA of the output probabilities"
        plot.set_points(self.layouts[method], ~self.predictions.correct, self.current_index)

    @on(ScatterPlot.SelectionChanged)
    def _selection_changed(self, message: ScatterPlot.SelectionChanged) -> None:
        self.selected_indices = message.indices
        self._show_legend()

    # ------------------------------------------------------------------ colour and legend

    def _colour_classes(self) -> tuple[np.ndarray, tuple[str, ...], list[str]]:
        p = self.predictions
        if self.colour_mode == "confidence":
            return confidence_classes(p.confidence), CONFIDENCE_COLOURS, list(CONFIDENCE_NAMES)
        classes = p.labels if self.colour_mode == "true" else p.predicted
        return np.asarray(classes, np.int64), DIGIT_COLOURS, [str(d) for d in MNIST.classes]

    def _recolour(self) -> None:
        classes, palette, _ = self._colour_classes()
        self.query_one(ScatterPlot).colour_by(classes, palette)
        self._show_legend()

    def _show_legend(self) -> None:
        classes, palette, names = self._colour_classes()
        totals = class_counts(classes, len(names))
        inside = class_counts(classes, len(names), self.selected_indices)
        title = {"true": "true digit", "predicted": "predicted digit", "confidence": "confidence"}[self.colour_mode]
        text = Text.assemble(("Colour: ", "bold"), title, " (k)\n")
        for c, name in enumerate(names):
            text.append("■ ", style=palette[c])
            if self.colour_mode == "confidence":
                text.append(f"{name:<11}", style="bold")
                text.append(f"{inside[c]:,} of {totals[c]:,}\n")
            else:
                text.append(f"{name} ", style="bold")
                text.append(count_phrase(c, int(inside[c]), int(totals[c])) + "\n")
        mistakes = int((~self.predictions.correct[self.selected_indices]).sum()) if len(self.selected_indices) else 0
        text.append("\nSelected ", style="bold")
        text.append(f"{len(self.selected_indices):,} images, {mistakes:,} mistakes")
        self.query_one("#map-legend", Static).update(text)

    def _show_status(self) -> None:
        text = Text()
        text.append("■ ", style="bold on #6b1f1f")
        text.append("a mistake  ")
        text.append("◉", style="bold #ffffff on #9c36b5")
        text.append(" this image\n")
        if self.method:
            text.append(f"Layout: {LAYOUT_NAMES.get(self.method, self.method)}")
            if len(self.layouts) > 1:
                text.append(" (v switches)")
            text.append("\n")
        if self.note:
            text.append(self.note + "\n", style="yellow")
        if self.progress:
            text.append(self.progress)
        self.query_one("#map-status", Static).update(text)

    # ------------------------------------------------------------------ actions

    def action_move(self, rows: int, cols: int) -> None:
        self.query_one(ScatterPlot).move_selection(rows, cols)

    def action_grow(self, rows: int, cols: int) -> None:
        self.query_one(ScatterPlot).resize_selection(rows, cols)

    def action_colour(self) -> None:
        self.colour_mode = COLOUR_MODES[(COLOUR_MODES.index(self.colour_mode) + 1) % len(COLOUR_MODES)]
        self._recolour()

    def action_layout(self) -> None:
        methods = list(self.layouts)
        if len(methods) > 1:
            self._show_layout(methods[(methods.index(self.method) + 1) % len(methods)])
            self._show_status()

    def action_open(self) -> None:
        if not len(self.selected_indices):
            self.notify("The selection is empty: move it over some dots first.", severity="warning", timeout=3)
            return
        self.dismiss(self.selected_indices.copy())


def _first_line(exc: BaseException, otherwise: str) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else otherwise
