"""One grid cell's text: a thumbnail (half blocks or braille) and its caption. NumPy and Rich, no Textual.

A cell is :data:`CELL_WIDTH` columns by :data:`CELL_HEIGHT` lines: the thumbnail's
:data:`THUMB_LINES` lines, a caption, a blank line between rows of cells. Both renderings
fit a 28 x 28 image in 14 x 7 cells: half blocks show grey levels of the image halved
(2 x 2 pixels to a pixel, two pixels to a cell), braille shows every pixel as a dot
(2 x 4 pixels to a cell), inked or not.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from rich.color import Color
from rich.segment import Segment
from rich.style import Style

from ..render import UPPER_HALF, pooled

THUMB_COLUMNS = 14
THUMB_LINES = 7
CELL_WIDTH = THUMB_COLUMNS + 2
"""The thumbnail and one column each side (the cursor's and the selection's bars)."""
CELL_HEIGHT = THUMB_LINES + 2
"""The thumbnail, its caption and a blank line."""

HALF_BLOCKS, BRAILLE = "half-block", "braille"
MODES = (HALF_BLOCKS, BRAILLE)

BRAILLE_INK = 96
"""The grey level from which a pixel is a braille dot: the strokes' soft edges stay out, thin strokes stay in."""

_BRAILLE_BITS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]], dtype=np.uint16)

TAG_LETTERS = {"mislabelled": "M", "ambiguous": "A", "fine": "F"}
"""The caption's letter for each built-in tag; any other tag shows as ``+``."""
RELABEL_MARK = "⇒"


def _fit(image: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """``image`` padded with black (or cropped around its centre) to ``rows`` x ``cols``."""
    out = np.zeros((rows, cols), np.uint8)
    height, width = image.shape
    top, left = max((height - rows) // 2, 0), max((width - cols) // 2, 0)
    src = image[top : top + rows, left : left + cols]
    out[: src.shape[0], : src.shape[1]] = src
    return out


GREY_STEP = 8
"""Thumbnails use 32 grey levels: no eye tells them from 256 at this size, and 32 x 32 styles stay cached."""


@lru_cache(maxsize=(256 // GREY_STEP + 1) ** 2)
def _grey_pair(upper: int, lower: int) -> Style:
    return Style(color=Color.from_rgb(upper, upper, upper), bgcolor=Color.from_rgb(lower, lower, lower))


def halfblock_thumbnail(image: np.ndarray) -> list[list[Segment]]:
    """The image in :data:`THUMB_LINES` lines of :data:`THUMB_COLUMNS` half blocks (grey levels kept)."""
    image = np.asarray(image)
    factor = max(1, -(-image.shape[1] // THUMB_COLUMNS), -(-image.shape[0] // (2 * THUMB_LINES)))
    small = _fit(pooled(image, factor), 2 * THUMB_LINES, THUMB_COLUMNS).astype(np.int64)
    levels = np.where(small < GREY_STEP, 0, small | (GREY_STEP - 1)).tolist()  # black stays black, white white
    # runs of one grey merge into one segment: fewer, longer writes to the terminal per frame
    return [
        list(Segment.simplify(Segment(UPPER_HALF, _grey_pair(u, d)) for u, d in zip(levels[r], levels[r + 1])))
        for r in range(0, len(levels), 2)
    ]


def braille_thumbnail(image: np.ndarray, style: Style) -> list[list[Segment]]:
    """The image in braille, one dot per pixel above :data:`BRAILLE_INK`, in ``style``."""
    pixels = _fit(np.asarray(image), 4 * THUMB_LINES, 2 * THUMB_COLUMNS) >= BRAILLE_INK
    cells = pixels.reshape(THUMB_LINES, 4, THUMB_COLUMNS, 2)
    codes = (cells * _BRAILLE_BITS[None, :, None, :]).sum(axis=(1, 3))
    return [[Segment("".join(chr(0x2800 + int(c)) for c in row), style)] for row in codes]


def tag_marks(tags: tuple[str, ...], relabel: int | None) -> str:
    """The caption's marks: a letter per built-in tag, ``+`` for others, ``⇒7`` for a corrected label."""
    letters = "".join(TAG_LETTERS[t] for t in TAG_LETTERS if t in tags)
    if any(t not in TAG_LETTERS for t in tags):
        letters += "+"
    if relabel is not None:
        letters += f"{RELABEL_MARK}{relabel}"
    return letters


def caption(index: int, true: int, predicted: int, marks: str, width: int = THUMB_COLUMNS) -> str:
    """The line under a thumbnail, ``width`` columns: ``✗7→9 M⇒9 1234``.

    A mistake starts with ``✗`` and shows true → predicted; a right answer shows its label.
    The dataset index is at the right.
    """
    labels = f"✗{true}→{predicted}" if true != predicted else f"{true}   "
    left = f"{labels} {marks}"
    right = str(index)
    room = width - len(right) - 1
    return f"{left[:room]:<{room}} {right}"
