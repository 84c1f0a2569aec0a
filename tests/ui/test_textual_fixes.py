"""The app's work-arounds for Textual bugs (mnist_tui/widgets/textual_fixes.py)."""

from __future__ import annotations

import gc

from textual._styles_cache import StylesCache
from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.widgets import Label

import mnist_tui.app  # noqa: F401  (applies the work-arounds, as launching the app does)


class Churn(App):
    """A list whose cards are all replaced, again and again (as the app's screens come and go)."""

    CSS = "Label { background: $panel; }"

    def compose(self) -> ComposeResult:
        yield Vertical(id="cards")


def style_caches() -> int:
    gc.collect()
    return sum(isinstance(o, StylesCache) for o in gc.get_objects())


async def test_removed_widgets_leave_no_style_caches_behind():
    app = Churn()
    async with app.run_test(size=(40, 20)) as pilot:
        cards = app.query_one("#cards")
        await cards.mount_all(Label(f"card {i}") for i in range(10))
        await pilot.pause()
        before = style_caches()
        for round_ in range(6):
            await cards.remove_children()
            await cards.mount_all(Label(f"card {round_}.{i}") for i in range(10))
            await pilot.pause()
        # 60 cards were removed; their caches (and every line they rendered) must go with them,
        # once the last ones' message loops have ended (a moment on a loaded machine: with the
        # bug, all 60 stay however long one waits)
        for _ in range(50):
            if style_caches() - before <= 5:
                break
            await pilot.pause(0.02)
        assert style_caches() - before <= 5
