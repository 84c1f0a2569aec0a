"""What every screen shares: below the smallest usable terminal, a "make it larger" notice.

The notice hides the screen's widgets without touching them, so a run keeps training
and the browser keeps its place; when the terminal grows again the screen is back as it was.
"""

from __future__ import annotations

from typing import TypeVar

from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Static

MIN_WIDTH = 80
MIN_HEIGHT = 22

ResultType = TypeVar("ResultType")


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


class AppScreen(FitsTerminal, Screen[ResultType]):
    """A full screen of mnist-tui."""


class AppModalScreen(FitsTerminal, ModalScreen[ResultType]):
    """A dialog of mnist-tui."""
