"""A 28x28 digit drawn as ASCII art (two characters per pixel) or with half blocks."""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from ..render import ascii_lines, halfblock_text, ink_window

MODES = ("ascii", "blocks")


class DigitView(Widget):
    """Shows one image; trims blank rows rather than squashing when the widget is short."""

    DEFAULT_CSS = """
    DigitView { width: 56; height: 28; }
    DigitView.-blocks { width: 28; height: 14; }
    """

    image: reactive[np.ndarray | None] = reactive(None, always_update=True)
    mode: reactive[str] = reactive("ascii")

    def __init__(self, image: np.ndarray | None = None, *, mode: str = "ascii", **kwargs) -> None:
        super().__init__(**kwargs)
        self.set_reactive(DigitView.image, image)
        self.set_reactive(DigitView.mode, mode)
        self.set_class(mode == "blocks", "-blocks")

    def watch_mode(self, mode: str) -> None:
        self.set_class(mode == "blocks", "-blocks")

    def render(self) -> Text:
        image = self.image
        if image is None:
            return Text("")
        if self.mode == "blocks":
            return halfblock_text(image)
        top, bottom = ink_window(image, self.content_size.height or image.shape[0])
        return Text("\n".join(ascii_lines(image[top:bottom])), no_wrap=True, overflow="crop")
