"""A widget drawn with the Line API from strips built once per change of content or size."""

from __future__ import annotations

from textual.strip import Strip
from textual.widget import Widget


class CachedLines(Widget):
    """Builds its lines with :meth:`build` when first drawn after :meth:`invalidate` or a resize.

    For widgets that change often and cheaply but whose lines are costly to make
    through ``render()`` (a ``Text`` or Rich renderable turned into strips on every
    refresh): here a refresh hands out strips that already exist.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._lines: list[Strip] = []
        self._built_for: tuple[int, int] | None = None

    def invalidate(self) -> None:
        """The content changed: build the lines again when next drawn."""
        self._built_for = None
        self.refresh()

    def build(self, width: int, height: int) -> list[Strip]:
        """The widget's lines, top to bottom (missing ones are drawn blank)."""
        raise NotImplementedError

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._built_for = None  # the theme's colours may have changed

    def render_line(self, y: int) -> Strip:
        width, height = self.size
        if self._built_for != (width, height):
            self._lines = self.build(width, height)
            self._built_for = (width, height)
        return self._lines[y] if y < len(self._lines) else Strip.blank(width, self.rich_style)
