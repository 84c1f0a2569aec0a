"""The dialogs of reviewing labels: pick a tag, give the label you believe, type a query.

Each answers with a plain value (a tag, a label, a query) and does nothing else: the
browser and the grid write the store (:mod:`mnist_tui.screens.curating`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label

from ..analysis.query import KEYWORDS, Query, QueryError
from ..runs import StoreError
from ..runs.tags import BUILT_IN, check_tag
from .base import AppModalScreen, bindings

DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{ width: 60; height: auto; border: thick $primary; background: $surface; padding: 0 1; }}
{name} Input, {name} Input:focus {{ height: 1; border: none; padding: 0 1; margin: 1 0 0 0; background: $primary 30%; }}
{name} .error {{ color: $error; text-style: bold; }}
{name} .dim {{ color: $text-muted; }}
"""


class TagPicker(AppModalScreen[str | None]):
    """Pick a tag for one image or many: a built-in one with a key, or a typed one.

    Args:
        count: How many images will be tagged.
        have: The tags every one of them has already (choosing one again takes it off).
        others: Other tags in use, offered by name.
    """

    DEFAULT_CSS = DIALOG_CSS.format(name="TagPicker")
    KEYS = "tag"
    BINDINGS = bindings(KEYS)
    AUTO_FOCUS = None  # the keys pick; t focuses the field for a typed tag

    def __init__(self, count: int, have: tuple[str, ...] = (), others: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.count, self.have, self.others = count, have, others

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = f"Tag {'this image' if self.count == 1 else f'{self.count:,} images'}"
            for tag in BUILT_IN:
                state = "[dim]  (has it: again removes it)[/]" if tag in self.have else ""
                yield Label(f"[b]{tag[0]}  [/]{tag}{state}")
            if self.others:
                yield Label(f"[dim]in use: {escape(', '.join(self.others))}[/]")
            field = Input(placeholder="t: type another tag, then enter", id="tag-input", max_length=32)
            field.can_focus = False  # until t: the letters pick first
            yield field
            yield Label("m a f pick · t type · escape cancel", id="tag-message", classes="dim")

    def action_pick(self, tag: str) -> None:
        self.dismiss(tag)

    def action_type(self) -> None:
        field = self.query_one(Input)
        field.can_focus = True
        field.focus()

    @on(Input.Submitted)
    def _typed(self, event: Input.Submitted) -> None:
        try:
            self.dismiss(check_tag(event.value))
        except StoreError as exc:
            message = self.query_one("#tag-message", Label)
            message.set_classes("error")
            message.update(escape(str(exc)))


class RelabelDialog(AppModalScreen[int | None]):
    """The label you believe is right: a digit key, ``enter`` for the model's; ``-1`` forgets a relabel.

    Args:
        index: The image's dataset index.
        given: Its label in the dataset.
        suggested: The model's label, offered first.
        current: The relabel recorded already, if any.
    """

    DEFAULT_CSS = DIALOG_CSS.format(name="RelabelDialog")
    KEYS = "relabel"
    BINDINGS = bindings(KEYS)

    def __init__(self, index: int, given: int, suggested: int, current: int | None = None, count: int = 1) -> None:
        super().__init__()
        self.index, self.given, self.suggested, self.current, self.count = index, given, suggested, current, count

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            what = f"index {self.index}" if self.count == 1 else f"{self.count:,} images"
            box.border_title = f"Correct the label of {what}"
            yield Label(f"The dataset says [b]{self.given}[/]; the model says [b]{self.suggested}[/].")
            if self.current is not None:
                yield Label(f"You said [b]{self.current}[/] before (backspace forgets it).")
            yield Label(f"\n[b]enter[/]  {self.suggested} (the model's label)\n[b]0 … 9[/]  that label")
            yield Label("escape cancel", classes="dim")

    def action_choose(self, label: int) -> None:
        self.dismiss(self.suggested if label < 0 else label)

    def action_forget(self) -> None:
        self.dismiss(-1)


@dataclass(frozen=True)
class QueryChoice:
    """What the query dialog answers: the query (empty: none) and the name to keep it under."""

    text: str
    name: str | None = None


def read_choice(text: str, saved: dict[str, str], classes: int = 10) -> tuple[QueryChoice, Query | None]:
    """``NAME: query`` names a query, a saved name alone reopens one; raises :class:`QueryError`.

    Returns the choice and the parsed query (``None`` for an empty text: show every image).
    """
    text = text.strip()
    if not text:
        return QueryChoice(""), None
    if text.lower() in saved:
        return QueryChoice(saved[text.lower()]), Query.read(saved[text.lower()], classes)
    name = None
    head, colon, rest = text.partition(":")
    if colon and head.strip().replace("-", "").replace("_", "").isalnum() and " " not in head.strip():
        name, text = head.strip().lower(), rest.strip()
        if name in (*KEYWORDS, "and", "or"):
            raise QueryError(f"{name!r} is a word of queries: name the query otherwise", 0, "another name")
        offset = len(head) + 1 + (len(rest) - len(rest.lstrip()))
        try:
            query = Query.read(text, classes)
        except QueryError as exc:
            raise QueryError(exc.message, exc.position + offset, exc.expected) from None
        return QueryChoice(query.text, name), query
    query = Query.read(text, classes)
    return QueryChoice(query.text), query


class QueryDialog(AppModalScreen[QueryChoice | None]):
    """Type a query; errors show as you type, under the column they are at, with the count it would show.

    Args:
        current: The query in force (empty: none).
        saved: Named queries, name -> text.
        count: Says how many images a parsed query keeps in the view.
        classes: How many classes the labels have.
    """

    DEFAULT_CSS = DIALOG_CSS.format(name="QueryDialog") + "QueryDialog > Vertical { width: 76; }"
    KEYS = "query"
    BINDINGS = bindings(KEYS)

    def __init__(self, current: str, saved: dict[str, str], count: Callable[[Query], int], classes: int = 10) -> None:
        super().__init__()
        self.current, self.saved, self.count, self.n_classes = current, saved, count, classes

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Query"
            yield Label("[dim]e.g. [/]label 7 and pred 9 and conf < 0.6 · mistakes and not tag fine")
            yield Input(
                self.current, placeholder="label, pred, conf, score, mistakes, tag NAME, index A..B", id="query-input"
            )
            yield Label("", id="query-caret", classes="error")
            yield Label("", id="query-message")
            names = ", ".join(self.saved) if self.saved else "none yet (NAME: query names one)"
            yield Label(f"[dim]saved: {escape(names)}[/]", id="query-saved")
            yield Label("enter apply · empty: no query · NAME: query saves it · escape cancel", classes="dim")

    def on_mount(self) -> None:
        self._check(self.current)

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self._check(event.value)

    def _check(self, text: str) -> tuple[QueryChoice, Query | None] | None:
        caret = self.query_one("#query-caret", Label)
        message = self.query_one("#query-message", Label)
        try:
            choice, query = read_choice(text, self.saved, self.n_classes)
        except QueryError as exc:
            # a rule to the caret, not blanks: SVG exports drop a line's leading blanks
            caret.update("─" * (exc.position + 1) + "^")
            message.set_classes("error")
            message.update(escape(str(exc)))
            return None
        caret.update("")
        message.set_classes("")
        if query is None:
            message.update("no query: every image of the view")
        else:
            n = self.count(query)
            said = f"{n:,} image{'s' if n != 1 else ''}"
            message.update(f"{said} · {escape(choice.text)}" if text.strip() != choice.text else said)
        return choice, query

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        checked = self._check(event.value)
        if checked is not None:
            self.dismiss(checked[0])
