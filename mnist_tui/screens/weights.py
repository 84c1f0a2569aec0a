"""What the model learned: its first layer's units (or filters) as heatmaps, most used first."""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import Footer, Header, Static
from textual.worker import get_current_worker

from ..analysis import unit_maps
from ..events import LayerWeights, ModelService
from ..widgets.weights import NEGATIVE, POSITIVE, WeightGrid
from .base import AppScreen, bindings


class WeightsScreen(AppScreen[None]):
    """A grid of the first layer's hidden units (MLP) or filters (CNN), paged.

    Args:
        model: the model handle; a model process (:class:`~mnist_tui.events.ModelService`)
            answers with the weights.
    """

    KEYS = "weights"
    BINDINGS = bindings(KEYS)
    DEFAULT_CSS = """
    WeightsScreen #weights-info { height: auto; padding: 0 1; }
    WeightsScreen #weights-grid { padding: 1 1 0 1; }
    """

    class Loaded(Message):
        """The model process's answer to ``weights``, or why there is none (``error``)."""

        def __init__(self, answer: LayerWeights | None, error: str | None = None) -> None:
            super().__init__()
            self.answer = answer
            self.error = error

    def __init__(self, model: Any) -> None:
        super().__init__()
        self.model = model
        self.describe = "Reading the first layer's weights…"
        self.sub_title = "What the model learned"

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self.describe, id="weights-info")
        yield WeightGrid(id="weights-grid")
        yield Footer()

    def on_mount(self) -> None:
        self._fetch()

    @work(thread=True, exclusive=True, group="weights")
    def _fetch(self) -> None:
        if not isinstance(self.model, ModelService):
            self.post_message(self.Loaded(None, "there is no model process in this session to read weights from"))
            return
        try:
            self.post_message(self.Loaded(self.model.weights(cancel=get_current_worker().cancelled_event)))
        except Exception as exc:  # ModelServerError: a model without such layers, or a process gone
            text = str(exc).strip()
            self.post_message(self.Loaded(None, text.splitlines()[0] if text else type(exc).__name__))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        grid = self.query_one(WeightGrid)
        answer = message.answer
        if answer is None:
            self.describe = f"Nothing to show: {message.error}."
            self._show_info()
            return
        kernel = np.asarray(answer.kernel)
        following = answer.next_kernel
        try:
            maps = unit_maps(kernel, None if following is None else np.asarray(following))
        except ValueError as exc:
            self.describe = f"Nothing to show: {exc}."
            self._show_info()
            return
        noun = "unit" if answer.kind == "dense" else "filter"
        grid.show_maps(
            maps.maps,
            [f"{noun} {u} · use {s:.2f}" for u, s in zip(maps.order, maps.usage)],
            [f"#{u} use {s:.2f}" for u, s in zip(maps.order, maps.usage)],  # a half-size tile: 14 columns
        )
        size = "x".join(map(str, maps.maps.shape[1:]))
        how = "its outgoing weights" if following is not None else "the size of its weights"
        layer = "hidden units" if answer.kind == "dense" else "convolution filters"
        self.describe = (
            f"The first layer's {len(maps.order)} {layer} ({answer.layer}, {size}), most used first (by {how})."
        )
        self.call_after_refresh(self._show_info)
        self._show_info()

    def _show_info(self) -> None:
        grid = self.query_one(WeightGrid)
        text = Text(self.describe)
        if len(grid.maps):
            first = grid.page * grid.per_page
            last = min(first + grid.per_page, len(grid.maps))
            text.append(f"\nShowing {first + 1}-{last} of {len(grid.maps)} · page {grid.page + 1} of {grid.pages} · ")
            text.append("■", style="rgb({},{},{})".format(*POSITIVE))
            text.append(" excites  ")
            text.append("■", style="rgb({},{},{})".format(*NEGATIVE))
            text.append(" inhibits")
        self.query_one("#weights-info", Static).update(text)

    def on_resize(self) -> None:
        self.call_after_refresh(self._show_info)

    def action_turn(self, pages: int) -> None:
        self.query_one(WeightGrid).turn(pages)
        self._show_info()
