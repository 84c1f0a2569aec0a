"""Draw a digit and watch the trained model read it as you draw."""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Footer, Header
from textual.worker import get_current_worker

from ..datasets import MNIST
from ..drawing import mnist_style
from ..events import ModelHandle, ModelLoading, ModelServerError
from ..widgets.canvas import DrawCanvas
from ..widgets.digit import DigitView
from ..widgets.neighbours import NeighboursPanel
from ..widgets.prediction import PredictionPanel
from .base import AppModalScreen, AppScreen, bindings

# A prediction takes a few milliseconds; asking at most this often keeps a fast
# stroke smooth while the guess still follows the pen.
PREDICT_EVERY = 0.03
RETRY_LOADING = 0.5  # seconds between looks at a model that is still loading
# Below this height the canvas uses half blocks (14 rows) instead of 28.
FULL_CANVAS_HEIGHT = 34


class DrawScreen(AppScreen):
    """A canvas, the drawing as the model sees it (MNIST-style), and the model's guess."""

    class Predicted(Message):
        """The model's answer for drawing number ``asked``: probabilities, or the error it raised."""

        def __init__(self, asked: int, probabilities: np.ndarray | None, error: ModelServerError | None) -> None:
            super().__init__()
            self.asked, self.probabilities, self.error = asked, probabilities, error

    KEYS = "draw"
    BINDINGS = bindings(KEYS)

    def __init__(self, model: ModelHandle, *, title: str = "") -> None:
        super().__init__()
        self.model = model
        self.sub_title = f"Draw a digit · {title}" if title else "Draw a digit"
        self.probabilities: np.ndarray | None = None
        self._timer: Timer | None = None
        self._asked = 0  # drawings sent to the model so far; only the newest one's answer is shown

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="draw"):
            with Vertical(id="canvas-panel") as panel:
                panel.border_title = "Draw here"
                panel.border_subtitle = "left paint · right erase"
                yield DrawCanvas(id="canvas")
            yield PredictionPanel(id="guess-panel")
            with Vertical(id="seen-panel") as seen:
                seen.border_title = "Model sees"
                seen.border_subtitle = "20x20, centred"
                yield DigitView(np.zeros(MNIST.image_shape, np.uint8), mode="blocks", id="seen")
        yield Footer()

    def on_mount(self) -> None:
        self._show(None)

    def on_resize(self) -> None:
        self.query_one(DrawCanvas).set_class(self.size.height < FULL_CANVAS_HEIGHT, "-compact")

    # ------------------------------------------------------------------ prediction

    @on(DrawCanvas.Changed)
    def _drawing_changed(self) -> None:
        if self._timer is None:
            self._timer = self.set_timer(PREDICT_EVERY, self.predict_now)

    def predict_now(self) -> None:
        """Preprocess the drawing and ask the model (the timer calls this during strokes)."""
        self._timer = None
        canvas = self.query_one(DrawCanvas).canvas
        seen = mnist_style(canvas.image)
        self.query_one("#seen", DigitView).image = seen
        self._asked += 1  # an answer to an older drawing (or to a canvas since cleared) is dropped
        if canvas.is_empty:
            self._show(None)
            return
        self._predict(self._asked, seen)

    @work(thread=True, exclusive=True, group="draw-predict")
    def _predict(self, asked: int, seen: np.ndarray) -> None:
        """Ask the model on a worker thread: a model process that is busy or slow never holds up a key."""
        try:
            probabilities, error = np.asarray(self.model.predict(seen[None]), dtype=np.float64)[0], None
        except ModelServerError as exc:  # the model's process is loading, or gone
            probabilities, error = None, exc
        if not get_current_worker().is_cancelled:
            self.post_message(self.Predicted(asked, probabilities, error))

    @on(Predicted)
    def _predicted(self, message: Predicted) -> None:
        if message.asked != self._asked:
            return
        if message.error is None:
            self._show(message.probabilities)
            return
        self._show(None)
        loading = isinstance(message.error, ModelLoading)
        self.query_one(PredictionPanel).say(Text(str(message.error), style="dim" if loading else "bold red"))
        if loading and self._timer is None:
            self._timer = self.set_timer(RETRY_LOADING, self.predict_now)

    def _show(self, probabilities: np.ndarray | None) -> None:
        self.probabilities = probabilities
        panel = self.query_one(PredictionPanel)
        if probabilities is None:
            panel.show_nothing(Text("Draw a digit", style="dim"), "?", bars=True)
        else:
            panel.show_drawing(probabilities)

    @property
    def guess(self) -> int | None:
        return None if self.probabilities is None else int(np.argmax(self.probabilities))

    # ------------------------------------------------------------------ keys

    def action_move(self, dx: int, dy: int) -> None:
        self.query_one(DrawCanvas).move_cursor(dx, dy)

    def action_paint(self, erase: bool = False) -> None:
        self.query_one(DrawCanvas).paint_cursor(erase=erase)

    def action_pen(self) -> None:
        canvas = self.query_one(DrawCanvas)
        canvas.toggle_pen()
        self.query_one("#canvas-panel").border_subtitle = (
            "pen down: arrows draw · p lifts" if canvas.pen_down else "left paint · right erase"
        )

    def action_clear(self) -> None:
        self.query_one(DrawCanvas).clear()

    def action_nearest(self) -> None:
        """The training images the model sees as most like the drawing (as the model sees it)."""
        canvas = self.query_one(DrawCanvas).canvas
        if canvas.is_empty:
            self.notify("Draw a digit first: n finds the training images most like it.", timeout=3)
            return
        self._asked += 1
        guess = self.guess if self.guess is not None else -1
        self.app.push_screen(NearestDialog(self.model, mnist_style(canvas.image), guess, self._asked))


class NearestDialog(AppModalScreen[None]):
    """The training images nearest to a drawing in the model's penultimate layer (cosine).

    Args:
        model: The model's process.
        image: The drawing as the model sees it (MNIST-style, 28x28).
        guess: The model's label for it (-1: none yet), shown green on the neighbours that share it.
        key: A new number per drawing, so that an answer is never shown for another one.
    """

    DEFAULT_CSS = """
    NearestDialog { align: center middle; }
    NearestDialog NeighboursPanel {
        width: 52; height: 20; border: thick $primary; background: $surface; padding: 0 2;
    }
    """
    KEYS = "nearest"
    BINDINGS = bindings(KEYS)

    def __init__(self, model: ModelHandle, image: np.ndarray, guess: int, key: int) -> None:
        super().__init__()
        self.model, self.image, self.guess, self.key = model, image, guess, key

    def compose(self) -> ComposeResult:
        panel = NeighboursPanel(self.model, id="drawing-neighbours")
        panel.border_title = "Training images most like your drawing"
        panel.border_subtitle = "escape back"
        yield panel

    def on_mount(self) -> None:
        # the label shown green is the model's guess for the drawing (a drawing has no true label)
        self.query_one(NeighboursPanel).show_image(self.key, self.image, self.guess, -1)
