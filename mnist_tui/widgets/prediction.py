"""The model's answer for one image: a line above, the predicted digit large, a verdict, every class's bars.

One panel for the results browser (a test image: its true label, right or wrong) and the
draw screen (a drawing: how sure the model is).
"""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Digits, Static

from ..datasets import MNIST
from .probabilities import ProbabilityBars

SURE, UNSURE = 0.9, 0.5
"""A drawing's confidence at or above ``SURE`` shows green, below ``UNSURE`` red, between them yellow."""


class PredictionPanel(Vertical):
    """The model's answer for one image, titled "Prediction".

    Args:
        fixed: Its lines are one line high and never wrap, so that an update repaints
            without a layout pass (the results browser updates it on every key).
    """

    DEFAULT_CSS = """
    PredictionPanel > #prediction-verdict { margin-bottom: 1; }
    PredictionPanel.-fixed > #prediction-label, PredictionPanel.-fixed > #prediction-verdict { height: 1; }
    """

    TITLE = "Prediction"

    def __init__(self, *, fixed: bool = False, id: str | None = None) -> None:
        super().__init__(id=id, classes="-fixed" if fixed else "")
        self.fixed = fixed
        self.border_title = self.TITLE

    def compose(self) -> ComposeResult:
        yield Static(id="prediction-label")
        yield Digits("", id="prediction-digit")
        yield Static(id="prediction-verdict")
        yield ProbabilityBars(id="prediction-bars")

    def show_test_image(
        self, probabilities: np.ndarray, predicted: int, true: int, confidence: float | None = None
    ) -> None:
        """A labelled image: its true label, the prediction, right or wrong and how sure, the bars."""
        confidence = float(probabilities[predicted]) if confidence is None else confidence
        # a styled part ends with its spaces, none starts with one: SVG viewers drop leading spaces
        verdict = Text("✓ correct ", style="bold green") if true == predicted else Text("✗ wrong ", style="bold red")
        verdict.append(f"· {confidence:.1%}", style="")
        self._lines(Text.assemble("True ", (f"{true}   ", "bold"), "Predicted"), str(predicted), verdict)
        self._bars(probabilities, predicted, true)

    def show_unpredicted(self, true: int, note: Text | str) -> None:
        """A labelled image whose prediction is not known (yet): its true label, ``note`` where the verdict goes."""
        self._lines(Text.assemble("True ", (f"{true}   ", "bold"), "Predicted"), "", note)
        self.query_one(ProbabilityBars).display = False

    def show_drawing(self, probabilities: np.ndarray) -> None:
        """A drawing: the model's guess and how sure it is, the bars."""
        guess = int(np.argmax(probabilities))
        confidence = float(probabilities[guess])
        style = "bold green" if confidence >= SURE else "bold yellow" if confidence >= UNSURE else "bold red"
        self._lines(Text("It looks like", style="bold"), str(guess), Text(f"{confidence:.1%} sure", style=style))
        self._bars(probabilities, guess, None)

    def show_nothing(self, label: Text | str = "", digit: str = "", *, bars: bool = False) -> None:
        """No answer: ``label`` says why; the bars stay, empty, when ``bars``."""
        self._lines(label, digit, "")
        if bars:
            self._bars(np.zeros(MNIST.num_classes), None, None)
        else:
            self.query_one(ProbabilityBars).display = False

    def say(self, label: Text | str) -> None:
        """Put ``label`` on the line above the digit (a note, an error)."""
        self.query_one("#prediction-label", Static).update(label, layout=not self.fixed)

    def _lines(self, label: Text | str, digit: str, verdict: Text | str) -> None:
        self.say(label)
        self.query_one(Digits).update(digit)
        self.query_one("#prediction-verdict", Static).update(verdict, layout=not self.fixed)

    def _bars(self, probabilities: np.ndarray, predicted: int | None, true: int | None) -> None:
        bars = self.query_one(ProbabilityBars)
        bars.display = True
        bars.show(probabilities, predicted, true)
