"""A page of small heatmaps, one per hidden unit or filter, drawn in half blocks.

Each map's values are in [-1, 1]: positive weights in a warm colour, negative ones in a
cool colour, both fading into the background as they near zero. One character cell
shows two pixels (``▀`` with the top pixel as foreground and the bottom as background).
"""

from __future__ import annotations

import numpy as np
from rich.color import Color as RichColor
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from .cached import CachedLines

POSITIVE = (255, 140, 66)
"""Excites the unit: warm orange."""
NEGATIVE = (78, 168, 255)
"""Inhibits the unit: cool blue."""
LEVELS = 8
"""Shades per sign; a 28x28 map needs no more to read, and the styles stay few."""
WANT = 8
"""Maps a page should show before they are drawn smaller (8 at 120x40 at full size)."""
POOL_FROM = 10
"""Maps at least twice this side (the MLP's 28x28 units) may be drawn at half size."""


def tile_scale(side: int) -> int:
    """How many cells across (and half-cells down) one weight takes: small filters are enlarged."""
    return max(1, min(4, 20 // max(side, 1)))


class WeightGrid(CachedLines):
    """Pages of heatmaps with a caption above each; :attr:`page` picks the page."""

    DEFAULT_CSS = """
    WeightGrid { width: 1fr; height: 1fr; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.maps = np.zeros((0, 1, 1), np.float32)
        self.captions: list[str] = []
        self.short_captions: list[str] = []
        self.page = 0

    def show_maps(self, maps: np.ndarray, captions: list[str], short: list[str] | None = None) -> None:
        """``(units, h, w)`` maps in [-1, 1] and one caption each, from the first page.

        ``short``: the captions for tiles too narrow for ``captions``.
        """
        self.maps = np.asarray(maps, np.float32)
        self.captions = list(captions)
        self.short_captions = list(short) if short is not None else list(captions)
        self.page = 0
        self.invalidate()

    # ------------------------------------------------------------------ geometry

    def geometry(self, width: int | None = None, height: int | None = None) -> tuple[int, int, int, int, int, int]:
        """``(scale, pool, tile width, tile height, columns, rows)``: the largest drawing that shows
        :data:`WANT` maps a page (or all of them), else the one that shows the most.

        A small filter is enlarged (``scale`` cells a weight, 4 down to 1); a map as large as a
        digit (the MLP's 28x28) may be drawn at half size, ``pool`` 2: 2x2 weights averaged.
        """
        width = self.size.width if width is None else width
        height = self.size.height if height is None else height
        _, h, w = self.maps.shape
        want = min(len(self.maps), WANT)
        options = [(scale, 1) for scale in range(tile_scale(max(h, w)), 0, -1)]
        if max(h, w) >= 2 * POOL_FROM:
            options.append((1, 2))
        chosen = (1, 1, w, (h + 1) // 2 + 1, 1, 1)
        for scale, pool in options:
            tile_w, tile_h = -(-w // pool) * scale, (-(-h // pool) * scale + 1) // 2 + 1
            columns, rows = max(1, (width + 1) // (tile_w + 1)), max(1, height // tile_h)
            chosen = (scale, pool, tile_w, tile_h, columns, rows)
            if columns * rows >= want and tile_h <= max(height, 1):
                break
        return chosen

    def tile_size(self) -> tuple[int, int]:
        """``(width, height)`` of one tile in cells, caption row included."""
        return self.geometry()[2:4]

    def tile_grid(self, width: int | None = None, height: int | None = None) -> tuple[int, int]:
        """``(columns, rows)`` of tiles that fit the widget (at least 1x1)."""
        return self.geometry(width, height)[4:6]

    @property
    def per_page(self) -> int:
        columns, rows = self.tile_grid()
        return columns * rows

    @property
    def pages(self) -> int:
        return max(1, -(-len(self.maps) // self.per_page))

    def turn(self, pages: int) -> None:
        """Go ``pages`` forward (or back); stops at the first and last page."""
        page = min(max(self.page + pages, 0), self.pages - 1)
        if page != self.page:
            self.page = page
            self.invalidate()

    def on_resize(self) -> None:
        self.page = min(self.page, self.pages - 1)

    # ------------------------------------------------------------------ drawing

    def _colours(self) -> list[RichColor]:
        """Index ``LEVELS + s * level``: 0..LEVELS-1 negative (strongest first) through 2*LEVELS positive."""
        _, background = self.background_colors
        base = background.rgb
        colours = []
        for value in range(-LEVELS, LEVELS + 1):
            target = POSITIVE if value > 0 else NEGATIVE
            share = abs(value) / LEVELS
            rgb = tuple(int(b + (t - b) * share) for b, t in zip(base, target))
            colours.append(RichColor.from_rgb(*rgb))
        return colours

    def build(self, width: int, height: int) -> list[Strip]:
        base = self.rich_style
        blank = [Strip.blank(width, base) for _ in range(height)]
        count = len(self.maps)
        if count == 0 or width <= 0:
            return blank
        scale, pool, tile_w, tile_h, columns, rows = self.geometry(width, height)
        colours = self._colours()
        styles: dict[tuple[int, int], Style] = {}
        caption_style = base + Style(dim=True)
        first = self.page * columns * rows
        lines: list[list[Segment]] = [[] for _ in range(height)]
        for slot in range(columns * rows):
            unit = first + slot
            row_of_tiles, column = divmod(slot, columns)
            top = row_of_tiles * tile_h
            gap = [Segment(" ", base)] if column else []
            if unit >= count:
                for y in range(top, min(top + tile_h, height)):
                    lines[y] += gap + [Segment(" " * tile_w, base)]
                continue
            levels = np.rint(np.clip(_pooled(self.maps[unit], pool), -1, 1) * LEVELS).astype(np.int64) + LEVELS
            big = np.repeat(np.repeat(levels, scale, axis=0), scale, axis=1)
            if len(big) % 2:
                big = np.vstack([big, np.full((1, big.shape[1]), LEVELS)])
            caption = self.captions[unit] if unit < len(self.captions) else ""
            if len(caption) > tile_w and unit < len(self.short_captions):
                caption = self.short_captions[unit]
            caption = caption[:tile_w]
            lines[top] += gap + [Segment(caption.ljust(tile_w), caption_style)]
            for pair in range(len(big) // 2):
                y = top + 1 + pair
                if y >= height:
                    break
                segments = list(gap)
                for upper, lower in zip(big[2 * pair], big[2 * pair + 1]):
                    key = (int(upper), int(lower))
                    style = styles.get(key)
                    if style is None:
                        style = styles[key] = base + Style(color=colours[key[0]], bgcolor=colours[key[1]])
                    segments.append(Segment("▀", style))
                lines[y] += Segment.simplify(segments)
        return [
            Strip(line).extend_cell_length(width, base).crop(0, width) if line else blank[i]
            for i, line in enumerate(lines)
        ]


def _pooled(values: np.ndarray, pool: int) -> np.ndarray:
    """``values`` averaged over ``pool`` x ``pool`` blocks (edges padded with zeros, no weight)."""
    if pool == 1:
        return values
    h, w = values.shape
    padded = np.zeros((-(-h // pool) * pool, -(-w // pool) * pool), np.float32)
    padded[:h, :w] = values
    return padded.reshape(padded.shape[0] // pool, pool, padded.shape[1] // pool, pool).mean(axis=(1, 3))
