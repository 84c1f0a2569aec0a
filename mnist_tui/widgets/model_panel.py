"""A panel that shows what the model process answers about the current image.

The answers take from milliseconds to seconds (the first nearest-neighbour query embeds
the whole training set), so they are asked on a Textual thread worker and come back as
messages; only the newest image waits its turn, however fast a person browses. Every
answer (or the reason there is none) is kept for the last :attr:`ModelPanel.CACHE_SIZE`
images, so going back is instant.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from functools import partial
from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import work
from textual.message import Message
from textual.strip import Strip
from textual.worker import get_current_worker

from ..events import ModelServerError, ModelService, one_line
from .cached import CachedLines

Progress = Callable[[str], None]
"""Called from the request thread with a line to show while a slow answer is on its way."""

Fetch = Callable[[ModelService, Progress, threading.Event], Any]
"""``fetch(model, progress, cancel)``: runs on the request thread, returns the answer or raises.

``cancel`` is set when the panel goes away (the request then stops waiting)."""

NO_MODEL = "There is no model in this session to ask."
LOADING = "Loading the model (TensorFlow takes a few seconds to start)…"
NOT_SERVED = "This model is not served by a model process, so it cannot be asked."


def reason(exc: BaseException) -> str:
    """An exception as the one line a panel shows."""
    return str(exc) if isinstance(exc, ModelServerError) and str(exc) else one_line(exc)


class ModelPanel(CachedLines):
    """Asks the model process about one image at a time and draws the answer.

    Subclasses call :meth:`want` for the image shown and draw :attr:`answer` (or
    :attr:`status`, a line saying what is happening or why there is no answer) in
    :meth:`build`.
    """

    CACHE_SIZE = 128

    class Done(Message, bubble=False):
        """An answer (or an error) arrived for ``key``."""

        def __init__(self, key: Hashable, value: Any, error: str | None) -> None:
            super().__init__()
            self.key, self.value, self.error = key, value, error

    class Working(Message, bubble=False):
        """Progress of a slow answer for ``key``."""

        def __init__(self, key: Hashable, text: str) -> None:
            super().__init__()
            self.key, self.text = key, text

    def __init__(self, model: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model = model
        self.key: Hashable | None = None
        self.answer: Any = None
        self.status: str = ""
        self.failed = False
        self._answers: OrderedDict[Hashable, tuple[Any, str | None]] = OrderedDict()
        self._ask_lock = threading.Lock()
        self._wanted: tuple[Hashable, Fetch] | None = None
        self._asking = False

    @property
    def pending(self) -> bool:
        """Whether the answer for the current image is still on its way."""
        return self.key is not None and self.key not in self._answers

    def want(self, key: Hashable, fetch: Fetch, waiting: str = "Computing…") -> None:
        """Show the answer for ``key``, asking for it with ``fetch`` unless it is cached."""
        self.key = key
        if key in self._answers:
            self._answers.move_to_end(key)
            self._show(*self._answers[key])
            return
        if not isinstance(self.model, ModelService):
            self._remember(key, None, NO_MODEL if self.model is None else NOT_SERVED)
            self._show(None, NO_MODEL if self.model is None else NOT_SERVED)
            return
        self._show(None, None, waiting)
        with self._ask_lock:
            self._wanted = (key, fetch)
            if self._asking:
                return
            self._asking = True
        self._work()

    def show_message(self, text: str) -> None:
        """Show ``text`` instead of an answer, for no image in particular."""
        self.key = None
        self._show(None, None, text)

    def forget(self) -> None:
        """Stop following an image (the panel was hidden); an answer on its way is still kept."""
        self.key = None

    # Not exclusive: a thread cannot be interrupted, so one worker at a time asks, and
    # takes the newest wanted image when its answer is in (see ``want``).
    @work(thread=True, group="model-panel")
    def _work(self) -> None:
        """Request thread: answer the newest wanted key, then the next, until none is left."""
        cancel = get_current_worker().cancelled_event
        while not cancel.is_set():
            with self._ask_lock:
                job, self._wanted = self._wanted, None
                if job is None:
                    self._asking = False
                    return
            key, fetch = job
            if not self.model.ready:  # a saved model's process is still starting
                self.post_message(self.Working(key, LOADING))
            try:
                progress = partial(self._progress, key)
                value, error = fetch(self.model, progress, cancel), None
            except Exception as exc:  # every failure becomes the panel's message
                value, error = None, reason(exc)
            if cancel.is_set():  # the panel is going away: "cancelled" is no answer to keep
                break
            self.post_message(self.Done(key, value, error))
        with self._ask_lock:
            self._asking = False

    def _progress(self, key: Hashable, text: str) -> None:
        self.post_message(self.Working(key, text))

    def _remember(self, key: Hashable, value: Any, error: str | None) -> None:
        self._answers[key] = (value, error)
        while len(self._answers) > self.CACHE_SIZE:
            self._answers.popitem(last=False)

    def on_model_panel_done(self, message: Done) -> None:
        self._remember(message.key, message.value, message.error)
        if message.key == self.key:
            self._show(message.value, message.error)

    def on_model_panel_working(self, message: Working) -> None:
        if message.key == self.key and self.pending:
            self._show(None, None, message.text)

    def _show(self, value: Any, error: str | None, waiting: str | None = None) -> None:
        self.answer = value
        self.failed = error is not None
        self.status = error or waiting or ""
        self.set_class(self.failed, "-error")
        self.set_class(waiting is not None, "-waiting")
        self.invalidate()

    # ------------------------------------------------------------------ drawing helpers

    def status_lines(self, width: int) -> list[Strip]:
        """:attr:`status` wrapped to ``width``: in the error colour when it says why there is no answer."""
        style = self.rich_style + (Style(color="red", bold=True) if self.failed else Style(dim=True))
        text = Text(self.status, style=style)
        lines = text.wrap(self.app.console, max(width, 1))
        return [Strip([Segment(line.plain, style)]).adjust_cell_length(width, self.rich_style) for line in lines]
