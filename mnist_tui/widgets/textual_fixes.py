"""Work-arounds for Textual bugs that this app runs into, each applied once, each undone by a Textual that fixes it.

``StylesCache.get_inner_outer`` (Textual 8) is an ``lru_cache`` on an instance method, so its
1,024 entries are keyed by, and keep alive, the style caches of widgets long removed, with
every line they last rendered (Textualize/textual#6665). Browsing and training screens come
and go, so the app kept some 430,000 dead objects; every full garbage collection walked
them all. The same colours from a cache keyed by the colours alone.
"""

from __future__ import annotations

from functools import lru_cache

from textual._styles_cache import StylesCache
from textual.color import Color
from textual.style import Style


def let_go_of_dead_styles() -> None:
    """Cache ``StylesCache.get_inner_outer`` by its colours alone (a no-op once Textual does not key it by instance)."""
    method = StylesCache.__dict__.get("get_inner_outer")
    compute = getattr(method, "__wrapped__", None)
    if compute is None or not hasattr(method, "cache_info"):  # not the cached instance method this mends
        return

    @lru_cache(1024)
    def get_inner_outer(base_background: Color, background: Color) -> tuple[Style, Style]:
        return compute(None, base_background, background)

    StylesCache.get_inner_outer = staticmethod(get_inner_outer)  # type: ignore[assignment,method-assign]
