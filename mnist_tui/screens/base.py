"""What every screen shares: its keys from :mod:`mnist_tui.keys`, the messages to the app, and
below the smallest usable terminal, a "make it larger" notice.

The notice hides the screen's widgets without touching them, so a run keeps training
and the browser keeps its place; when the terminal grows again the screen is back as it was.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar, TypeVar

from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Footer, Input, Label, Static

from ..keys import SCREENS, HelpRow, Key, help_rows

MIN_WIDTH = 80
MIN_HEIGHT = 22
KEYS_WHEN_TOO_SMALL = frozenset({"q", "ctrl+c"})
"""The keys that still work while the "make it larger" notice hides the screen: leaving."""

ResultType = TypeVar("ResultType")


def bindings(screen: str) -> list[BindingType]:
    """The Textual bindings of ``screen``'s keys in :data:`mnist_tui.keys.SCREENS` (those it binds itself)."""
    return [
        Binding(
            key.keys,
            key.action,
            key.label,
            show=key.show,
            key_display=key.display or None,
            priority=key.priority,
        )
        for key in SCREENS[screen].keys
        if key.bound and key.action
    ]


class TrainAgain(Message):
    """Ask for a new run's options (the last run's filled in), then start it; the app does both."""


class NewSweep(Message):
    """Ask for a sweep's options (the last run's fix what it does not search), then start it and show it live."""


class ShowLastResults(Message):
    """Open the results browser on the latest run that finished; the app keeps them."""


def too_small(width: int, height: int) -> bool:
    return width < MIN_WIDTH or height < MIN_HEIGHT


class TooSmall(Static):
    """Fills the screen while the terminal is below the minimum size."""

    def show_size(self, width: int, height: int) -> None:
        self.update(
            "[b]Make the terminal larger[/b]\n\n"
            f"mnist-tui needs at least {MIN_WIDTH}x{MIN_HEIGHT};\n"
            f"this one is {width}x{height}.\n\n"
            "Everything keeps running meanwhile.\n"
            "[dim]q quits[/dim]"
        )


class FitsTerminal:
    """Mixin for screens: shows :class:`TooSmall` in place of the content when the terminal is too small."""

    # Plain handler names: Textual calls the handler of every class in the MRO, so these
    # run as well as the screen's own on_mount / on_resize.
    def on_mount(self) -> None:
        screen: Screen = self  # type: ignore[assignment]
        # ctrl+p opens the command palette from every screen; the footer keeps its
        # 80 columns for the screen's own keys
        for footer in screen.query(Footer):
            footer.show_command_palette = False
        screen.mount(TooSmall(id="too-small"))
        self._fit()

    def on_resize(self) -> None:
        self._fit()

    def on_key(self, event: events.Key) -> None:
        """While the notice hides the screen, swallow the keys (but q) that would act on it unseen.

        Otherwise a key of the screen that does nothing in its present state says why.
        """
        screen: Screen = self  # type: ignore[assignment]
        if screen.has_class("-too-small"):
            if event.key not in KEYS_WHEN_TOO_SMALL:
                event.stop()
                event.prevent_default()
            return
        why_not = getattr(self, "why_not", None)
        reason = why_not(event.key) if why_not is not None else None
        if reason:
            event.stop()
            event.prevent_default()
            screen.notify(reason, timeout=4)

    def on_screen_resume(self) -> None:
        self._fit()

    def _fit(self) -> None:
        screen: Screen = self  # type: ignore[assignment]
        width, height = screen.app.size
        small = too_small(width, height)
        was_small = screen.has_class("-too-small")
        if small and not was_small:
            self._focus_before_small = screen.focused  # hiding the content takes its focus
        screen.set_class(small, "-too-small")
        if small and screen.is_mounted:
            for notice in screen.query(TooSmall):
                notice.show_size(width, height)
        if was_small and not small:
            widget, self._focus_before_small = getattr(self, "_focus_before_small", None), None
            if widget is not None and widget.is_attached:
                screen.call_after_refresh(screen.set_focus, widget)  # once it is displayed again


class KeyedScreen:
    """Mixin for screens whose keys come from :mod:`mnist_tui.keys`: the help lists those they bind.

    A mixin, not a :class:`Screen` subclass: a screen class ahead of ``ModalScreen`` in
    a dialog's bases changes how Textual styles the dialog (the help's snapshot did).
    """

    KEYS: ClassVar[str] = ""
    """The screen's name in :data:`mnist_tui.keys.SCREENS` (its ``BINDINGS`` are built from it)."""

    def unavailable(self, action: str) -> str | None:
        """Why the screen's ``action`` does nothing now, for a person; ``None`` when it does something.

        A screen whose keys depend on its state says so here, and its ``check_action`` hides
        those keys from the footer and the palette while this gives a reason.
        """
        return None

    def why_not(self, key: str) -> str | None:
        """Why ``key`` does nothing now, when it is one of this screen's keys whose action is unavailable."""
        screen: Screen = self  # type: ignore[assignment]
        for bound, binding in screen._bindings:
            if bound == key:
                reason = self.unavailable(binding.action)
                if reason:
                    return reason
        return None

    def own_bindings(self) -> dict[str, list[str]]:
        """The actions this screen binds itself, each with its keys (a keymap applied).

        A focused widget may take one of the keys first (``enter`` on a table); the
        screen still offers the action, so its help lists it.
        """
        screen: Screen = self  # type: ignore[assignment]
        actions: dict[str, list[str]] = {}
        # Textual has no public accessor for a node's own bindings; these are this screen's.
        for key, binding in screen._bindings:
            actions.setdefault(binding.action, []).append(key)
        return actions

    def live_elsewhere(self) -> dict[str, list[str]]:
        """The actions the app, Textual or the focused widget bind on this screen now, each with its keys."""
        screen: Screen = self  # type: ignore[assignment]
        actions: dict[str, list[str]] = {}
        for key, active in screen.active_bindings.items():
            action = active.binding.action
            if active.node is screen.app and "." not in action:
                action = f"app.{action}"  # as the screens name the app's actions
            actions.setdefault(action, []).append(key)
        return actions

    def help_rows(self) -> list[HelpRow]:
        """The lines of this screen's help: its keys in :mod:`mnist_tui.keys`, those bound here now."""
        own, elsewhere = self.own_bindings(), self.live_elsewhere()

        def live(key: Key) -> list[str] | None:
            return (own if key.bound else elsewhere).get(key.action)

        return help_rows(self.KEYS, live)


class AppScreen(KeyedScreen, FitsTerminal, Screen[ResultType]):
    """A full screen of mnist-tui."""


class AppModalScreen(KeyedScreen, FitsTerminal, ModalScreen[ResultType]):
    """A dialog of mnist-tui."""


def field_error(name: str) -> Label:
    """The hidden line under the form field ``#field-NAME`` that says what is wrong with it."""
    error = Label("", id=f"field-{name}-error", classes="field-error")
    error.display = False
    return error


def show_field_errors(form: Screen, names: Iterable[str], errors: Mapping[str, str]) -> None:
    """A form checked as it is typed: mark each text field of ``names`` that is wrong, say why
    under it (:func:`field_error`), and allow ``#start`` only while nothing is wrong."""
    for name in names:
        form.query_one(f"#field-{name}", Input).set_class(name in errors, "-invalid")
        error = form.query_one(f"#field-{name}-error", Label)
        error.update(errors.get(name, ""))
        error.display = name in errors
    form.query_one("#start", Button).disabled = bool(errors)
