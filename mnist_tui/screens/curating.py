"""What the browser and the grid share to review labels: the query in force, the tags, the relabels.

:class:`Curating` is a mixin of the results browser. The tags live in the run store
(:class:`~mnist_tui.runs.tags.TagBook`, opened through the app's session); a browser whose
store cannot be opened still browses, and says so when asked to tag.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..analysis.labels import given_label_probability
from ..analysis.query import Query, QueryData
from ..runs import StoreError
from ..runs.tags import BUILT_IN, Marks, TagBook
from .marking import QueryChoice, QueryDialog, RelabelDialog, TagPicker

if TYPE_CHECKING:
    from textual.screen import Screen

    from ..predictions import Predictions, ViewCache, ViewFilter


class Curating:
    """Mixin: the query, the marks and the tag / relabel / query actions of a browser."""

    predictions: Predictions
    run_id: int | None
    # the browser's view, which the grid shows too
    views: ViewCache
    view: ViewFilter
    indices: np.ndarray
    position: int
    query_in_force: Query | None = None
    _book: TagBook | None = None
    _book_error: str | None = None
    _marks: Marks | None = None
    _query_data: QueryData | None = None

    @property
    def _screen(self) -> Screen:
        return self  # type: ignore[return-value]

    def refresh_view(self) -> None:  # pragma: no cover - the screen's
        raise NotImplementedError

    def describe_view(self) -> str:  # pragma: no cover - the screen's
        raise NotImplementedError

    # ------------------------------------------------------------------ the store

    def tag_book(self) -> TagBook | None:
        """The store's tags for the test set, opened once; ``None`` (said once) when the store cannot open."""
        if self._book is None and self._book_error is None:
            session = getattr(self._screen.app, "session", None)
            if session is None:
                self._book_error = "there is no run store in this session"
                return None
            try:
                self._book = TagBook(session.open_store(), self.predictions.dataset, size=len(self.predictions))
            except StoreError as exc:
                self._book_error = str(exc)
        return self._book

    @property
    def marks(self) -> Marks:
        """The tags and relabels of the test images (read once, again after each change)."""
        if self._marks is None:
            book = self.tag_book()
            marks = Marks(size=len(self.predictions))
            if book is not None:
                try:
                    marks = book.read()
                except StoreError as exc:
                    self._screen.notify(f"Cannot read the tags: {exc}", severity="error", timeout=6)
            self._marks = marks
        return self._marks

    def _changed_marks(self) -> None:
        self._marks = None
        self._query_data = None
        self.refresh_view()

    def query_data(self) -> QueryData:
        if self._query_data is None:
            p, marks = self.predictions, self.marks
            self._query_data = QueryData(
                labels=p.labels.astype(np.int64),
                predicted=p.predicted,
                confidence=p.confidence,
                ptrue=given_label_probability(p.probabilities, p.labels),
                tags=marks.masks(),
                relabelled=marks.relabelled(),
            )
        return self._query_data

    def queried(self, indices: np.ndarray) -> np.ndarray:
        """The view's ``indices`` the query in force keeps (all of them without one)."""
        if self.query_in_force is None:
            return indices
        return self.query_in_force.select(indices, self.query_data())

    # ------------------------------------------------------------------ actions

    def ask_query(self, base: np.ndarray, done: Callable[[], None] | None = None) -> None:
        """Open the query dialog over the view's images ``base`` (before any query)."""
        book = self.tag_book()
        try:
            saved = book.queries() if book is not None else {}
        except StoreError:
            saved = {}

        def count(query: Query) -> int:
            return int(query.mask(self.query_data())[base].sum())

        def chosen(choice: QueryChoice | None) -> None:
            if choice is None:
                return
            if choice.name and book is not None:
                try:
                    book.save_query(choice.name, choice.text)
                    self._screen.notify(f"Saved the query as {choice.name}", timeout=3)
                except StoreError as exc:
                    self._screen.notify(str(exc), severity="error", timeout=6)
            self.query_in_force = Query.read(choice.text, self.predictions.dataset.num_classes) if choice.text else None
            self.refresh_view()
            if done is not None:
                done()

        current = self.query_in_force.text if self.query_in_force else ""
        self._screen.app.push_screen(QueryDialog(current, saved, count, self.predictions.dataset.num_classes), chosen)

    def ask_tag(self, indices: Sequence[int], done: Callable[[], None] | None = None) -> None:
        """Pick a tag and put it on ``indices`` (or take it off, when they all have it)."""
        book = self.tag_book()
        if book is None:
            self._screen.notify(f"Cannot tag: {self._book_error}", severity="error", timeout=6)
            return
        if not len(indices):
            return
        marks = self.marks
        have = tuple(t for t in {*marks.names(), *BUILT_IN} if all(t in marks.tags.get(i, ()) for i in indices))
        others = tuple(t for t in marks.names() if t not in BUILT_IN)

        def chosen(tag: str | None) -> None:
            if tag is None:
                return
            try:
                tagged = book.toggle(indices, tag, self.run_id)
            except StoreError as exc:
                self._screen.notify(str(exc), severity="error", timeout=6)
                return
            what = f"index {indices[0]}" if len(indices) == 1 else f"{len(indices):,} images"  # after "Tagged"
            self._screen.notify(f"{'Tagged' if tagged else 'Untagged'} {what} {tag}", timeout=2)
            self._changed_marks()
            if done is not None:
                done()

        self._screen.app.push_screen(TagPicker(len(indices), have, others), chosen)

    def ask_relabel(self, indices: Iterable[int], done: Callable[[], None] | None = None) -> None:
        """Record the label the person believes for ``indices`` (the first one's model label offered)."""
        chosen_indices = [int(i) for i in indices]
        book = self.tag_book()
        if book is None:
            self._screen.notify(f"Cannot relabel: {self._book_error}", severity="error", timeout=6)
            return
        if not chosen_indices:
            return
        first = chosen_indices[0]
        p = self.predictions

        def chosen(label: int | None) -> None:
            if label is None:
                return
            try:
                if label < 0:
                    book.unrelabel(chosen_indices)
                else:
                    book.relabel(chosen_indices, label, self.run_id)
            except StoreError as exc:
                self._screen.notify(str(exc), severity="error", timeout=6)
                return
            what = f"Index {first}" if len(chosen_indices) == 1 else f"{len(chosen_indices):,} images"
            self._screen.notify(
                f"{what}: back to the dataset's label" if label < 0 else f"{what} relabelled {label}", timeout=2
            )
            self._changed_marks()
            if done is not None:
                done()

        dialog = RelabelDialog(
            first, int(p.labels[first]), int(p.predicted[first]), self.marks.relabels.get(first), len(chosen_indices)
        )
        self._screen.app.push_screen(dialog, chosen)

    def mark_words(self, index: int) -> str:
        """The image's tags and relabel in words, for a title: ``mislabelled · you: 9``."""
        marks = self.marks
        words = list(marks.tags.get(index, ()))
        if index in marks.relabels:
            words.append(f"you: {marks.relabels[index]}")
        return " · ".join(words)
