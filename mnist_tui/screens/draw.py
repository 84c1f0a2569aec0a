"""Draw a digit and watch the trained model read it as you draw."""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import Digits, Footer, Header, Static

from ..drawing import mnist_style
from ..events import ModelHandle
from ..widgets.canvas import DrawCanvas
from ..widgets.digit import DigitView
from ..widgets.probabilities import ProbabilityBars
from ..worker.protocol import ModelLoading, ModelServerError
from .base import AppScreen

# A prediction takes a few milliseconds; asking at most this often keeps a fast
# stroke smooth while the guess still follows the pen.
PREDICT_EVERY = 0.03
RETRY_LOADING = 0.5  # seconds between looks at a model that is still loading
# Below this height the canvas uses half blocks (14 rows) instead of 28.
FULL_CANVAS_HEIGHT = 34


class DrawScreen(AppScreen):
    """A canvas, the drawing as the model sees it (MNIST-style), and the model's guess."""

    BINDINGS = [
        Binding("up", "move(0, -1)", "Move", key_display="←↑↓→"),
        Binding("down", "move(0, 1)", "Move", show=False),
        Binding("left", "move(-1, 0)", "Move", show=False),
        Binding("right", "move(1, 0)", "Move", show=False),
        Binding("space", "paint", "Paint"),
        Binding("backspace,delete", "paint(True)", "Erase", show=False),
        Binding("p", "pen", "Pen"),
        Binding("x", "clear", "Clear"),
        Binding("escape", "app.pop_screen", "Back"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, model: ModelHandle, *, title: str = "") -> None:
        super().__init__()
        self.model = model
        self.sub_title = f"Draw a digit · {title}" if title else "Draw a digit"
        self.probabilities: np.ndarray | None = None
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="draw"):
            with Vertical(id="canvas-panel") as panel:
                panel.border_title = "Draw here"
                panel.border_subtitle = "left paint · right erase"
                yield DrawCanvas(id="canvas")
            with Vertical(id="guess-panel") as guess:
                guess.border_title = "Prediction"
                yield Static(id="guess-label")
                yield Digits("", id="guess")
                yield Static(id="guess-confidence")
                yield ProbabilityBars(id="draw-probabilities")
            with Vertical(id="seen-panel") as seen:
                seen.border_title = "Model sees"
                seen.border_subtitle = "20x20, centred"
                yield DigitView(np.zeros((28, 28), np.uint8), mode="blocks", id="seen")
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
        if canvas.is_empty:
            self._show(None)
            return
        try:
            probabilities = np.asarray(self.model.predict(seen[None]), dtype=np.float64)[0]
        except ModelServerError as exc:  # the model's process is loading, or gone
            self._show(None)
            loading = isinstance(exc, ModelLoading)
            self.query_one("#guess-label", Static).update(Text(str(exc), style="dim" if loading else "bold red"))
            if loading and self._timer is None:
                self._timer = self.set_timer(RETRY_LOADING, self.predict_now)
            return
        self._show(probabilities)

    def _show(self, probabilities: np.ndarray | None) -> None:
        self.probabilities = probabilities
        bars = self.query_one(ProbabilityBars)
        if probabilities is None:
            self.query_one("#guess-label", Static).update(Text("Draw a digit", style="dim"))
            self.query_one("#guess", Digits).update("?")
            self.query_one("#guess-confidence", Static).update("")
            bars.show(np.zeros(10), None, None)
            return
        guess = int(np.argmax(probabilities))
        self.query_one("#guess-label", Static).update(Text("It looks like", style="bold"))
        self.query_one("#guess", Digits).update(str(guess))
        confidence = float(probabilities[guess])
        style = "bold green" if confidence >= 0.9 else "bold yellow" if confidence >= 0.5 else "bold red"
        self.query_one("#guess-confidence", Static).update(Text(f"{confidence:.1%} sure", style=style))
        bars.show(probabilities, guess, None)

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
