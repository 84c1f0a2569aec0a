"""The results browser on a subset of the test images, with a second run's prediction for each one."""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual.css.query import NoMatches
from textual.widgets import Static

from ..predictions import Predictions, ViewCache, ViewFilter
from ..widgets.prediction import PredictionPanel
from .dialogs import GotoDialog
from .results import ResultsScreen


class SubsetViews(ViewCache):
    """The browser's views, restricted to a fixed set of images: every filter and order stays inside it."""

    def __init__(self, predictions: Predictions, subset: np.ndarray) -> None:
        super().__init__(predictions)
        self.allowed = np.zeros(len(predictions), dtype=bool)
        self.allowed[np.asarray(subset, dtype=np.int64)] = True

    def _compute(self, view: ViewFilter) -> np.ndarray:
        indices = super()._compute(view)
        return indices[self.allowed[indices]]


class FlippedResults(ResultsScreen):
    """Browse the images one run gets right and another wrong, showing both runs' predictions.

    The main run's prediction fills the usual panel; the other run's prediction and
    confidence show in two lines under its verdict.

    Args:
        predictions: The main run's predictions (with the test images).
        other_probabilities: The other run's ``(n, classes)`` probabilities for the same images.
        subset: The dataset indices to browse; no filter or order leaves them.
        run: Names the main run (``run 3``): the prediction panel's title.
        other: Names the other run (``run 5``) in its lines.
        title: The screen's subtitle.
    """

    DEFAULT_CSS = """
    FlippedResults #other-run { height: 2; margin-bottom: 1; }
    FlippedResults.short #other-run { margin-bottom: 0; }
    """

    def __init__(
        self,
        predictions: Predictions,
        other_probabilities: np.ndarray,
        subset: np.ndarray,
        *,
        run: str,
        other: str,
        title: str = "Flipped images",
    ) -> None:
        super().__init__(predictions, title=title)
        self.other_probabilities = np.asarray(other_probabilities)
        self.run_name = run
        self.info_title = run  # the prediction panel is the main run's
        self.other_name = other
        self.subset = SubsetViews(predictions, subset)
        self.views = self.subset
        self.indices = self.views.indices(self.view)
        self.position = 0

    @property
    def total_images(self) -> int:
        """The flipped images' count, as the screen's title and the footer say it (not the test set's)."""
        return int(self.subset.allowed.sum())

    def on_mount(self) -> None:
        # runs before the browser's own on_mount (Textual calls the subclass's handler first)
        extra = Static(id="other-run")
        try:
            panel = self.query_one(PredictionPanel)
            panel.border_title = self.info_title
            panel.mount(extra, after="#prediction-verdict")
        except NoMatches:  # the browser's layout changed: the lines go above the summary instead
            self.mount(extra, before=self.query_one("#summary"))
        self.call_after_refresh(self._show_other)

    def set_view(self, view: ViewFilter) -> None:
        super().set_view(view)
        self._show_other()

    def move_to(self, position: int) -> None:
        super().move_to(position)
        self._show_other()

    def _show_other(self) -> None:
        """The other run's prediction and confidence for the image shown."""
        try:
            extra = self.query_one("#other-run", Static)
        except NoMatches:
            return
        index = self.current
        if index is None:
            extra.update("")
            return
        probabilities = self.other_probabilities[index]
        guess = int(probabilities.argmax())
        right = guess == int(self.predictions.labels[index])
        extra.update(
            Text.assemble(
                (f"{self.other_name} says ", ""),
                (str(guess), "bold"),
                "\n",
                ("✓ correct " if right else "✗ wrong ", "bold green" if right else "bold red"),
                f"· {probabilities[guess]:.1%}",  # the space ends the styled part (see PredictionPanel)
            )
        )

    def action_goto(self) -> None:
        """Go to an index among these images; any other index is refused with a note."""

        def go(index: int | None) -> None:
            if index is None:
                return
            if not self.subset.allowed[index]:
                self.notify(f"Index {index} is not among these images.", severity="warning", timeout=3)
                return
            if not np.any(self.indices == index):
                self.set_view(ViewFilter().with_order(self.view.order))
            self.move_to(int(np.flatnonzero(self.indices == index)[0]))

        self.app.push_screen(GotoDialog(len(self.predictions)), go)
