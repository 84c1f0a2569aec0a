"""Pure rendering: images and probability vectors to text. No Textual, no TensorFlow.

Everything follows the shape of the image and the length of the vector it is given:
nothing here knows a dataset's image size or number of classes.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

RAMP = " .:-=+*#%@"
"""Light to dense; each pixel is drawn as two of these so the digit keeps its aspect ratio."""

UPPER_HALF = "▀"


def ramp_indices(image: np.ndarray, ramp: str = RAMP) -> np.ndarray:
    """Map uint8 intensities 0..255 to indices into ``ramp`` (0 stays blank, 255 is densest)."""
    levels = len(ramp)
    return (np.asarray(image, dtype=np.uint16) * levels // 256).astype(np.intp)


def ascii_lines(image: np.ndarray, ramp: str = RAMP, width: int = 2) -> list[str]:
    """One string per pixel row, ``width`` characters per pixel (two keep a digit's aspect ratio)."""
    chars = np.array([c * width for c in ramp])
    return ["".join(row) for row in chars[ramp_indices(image, ramp)]]


def ascii_art(image: np.ndarray, ramp: str = RAMP) -> str:
    """The image as ASCII art: one line per pixel row, two characters per pixel."""
    return "\n".join(ascii_lines(image, ramp))


def ink_rows(image: np.ndarray) -> tuple[int, int]:
    """The first and one past the last pixel row that holds ink; ``(0, 0)`` for a blank image."""
    inked = np.flatnonzero(np.asarray(image).max(axis=1) > 0)
    return (int(inked[0]), int(inked[-1]) + 1) if inked.size else (0, 0)


def fit_rows(image: np.ndarray, lines: int, rows_per_line: int = 1) -> tuple[int, int, int]:
    """Which pixel rows to draw in ``lines`` text lines so that every row with ink is shown.

    Each text line normally shows ``rows_per_line`` pixel rows (1 in ASCII, 2 with half
    blocks). When the image is taller than that, blank margins are trimmed first (the
    band kept is centred on the ink); when the ink itself is taller, each drawn row
    stands for ``step`` pixel rows (see :func:`shrink`), never a cut digit.

    Args:
        image: A 2-D image, rows first.
        lines: Text lines available (at least one is assumed).
        rows_per_line: Pixel rows one text line shows at full size.

    Returns:
        ``(top, bottom, step)``: draw ``image[top:bottom]`` with ``step`` pixel rows per
        drawn row; ``step`` is 1 at full size.
    """
    height = image.shape[0]
    capacity = max(lines, 1) * rows_per_line
    if height <= capacity:
        return 0, height, 1
    ink_top, ink_bottom = ink_rows(image)
    span = ink_bottom - ink_top
    step = max(1, -(-span // capacity))
    rows = min(height, capacity * step)
    centre = (ink_top + ink_bottom) / 2 if span else height / 2
    top = min(max(int(round(centre - rows / 2)), 0), height - rows)
    return top, top + rows, step


def shrink(image: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Each ``rows`` x ``cols`` block of pixels becomes one pixel, its brightest.

    The maximum rather than the mean keeps thin strokes visible; a ragged last block
    is padded with black.
    """
    pixels = np.asarray(image)
    if rows == 1 and cols == 1:
        return pixels
    height, width = pixels.shape
    padded = np.zeros((-(-height // rows) * rows, -(-width // cols) * cols), pixels.dtype)
    padded[:height, :width] = pixels
    return padded.reshape(padded.shape[0] // rows, rows, padded.shape[1] // cols, cols).max(axis=(1, 3))


def ascii_fit(image: np.ndarray, lines: int, ramp: str = RAMP) -> tuple[list[str], int]:
    """The whole digit as ASCII art in at most ``lines`` lines.

    At full size each pixel is two characters on its own line. When the ink is taller
    than ``lines``, ``step`` pixel rows share a line and the columns shrink to match
    (two rows per line: one character per pixel), so the digit keeps its shape.

    Returns:
        The lines and the ``step`` used (1 at full size).
    """
    top, bottom, step = fit_rows(image, lines)
    band = np.asarray(image)[top:bottom]
    if step == 1:
        return ascii_lines(band, ramp), 1
    # full size is two characters per pixel: ``step`` rows per line go with step / 2 columns per character
    return ascii_lines(shrink(band, step, max(step // 2, 1)), ramp, width=1), step


def grey(level: int) -> str:
    return f"rgb({level},{level},{level})"


def halfblock_levels(image: np.ndarray) -> list[list[tuple[int, int]]]:
    """(upper, lower) grey levels of each half-block cell; an odd last row pairs with black."""
    pixels = np.asarray(image, dtype=np.uint8)
    if pixels.shape[0] % 2:
        pixels = np.vstack([pixels, np.zeros((1, pixels.shape[1]), np.uint8)])
    return [list(zip(pixels[r].tolist(), pixels[r + 1].tolist())) for r in range(0, pixels.shape[0], 2)]


@lru_cache(maxsize=256 * 4)
def halfblock_style(upper: int, lower: int) -> Style:
    """An upper half block's style: the upper pixel's grey in front, the lower one's behind."""
    return Style.parse(f"{grey(upper)} on {grey(lower)}")


def halfblock_segments(image: np.ndarray) -> list[list[Segment]]:
    """The image drawn with upper half blocks: one cell per pixel column, two pixel rows per line.

    An image ``height`` x ``width`` takes ``ceil(height / 2)`` lines of ``width`` cells.
    """
    return [[Segment(UPPER_HALF, halfblock_style(*cell)) for cell in row] for row in halfblock_levels(image)]


def halfblock_fit(image: np.ndarray, lines: int) -> tuple[list[list[Segment]], int]:
    """The whole digit in half blocks in at most ``lines`` lines (see :func:`fit_rows`).

    Returns:
        The rows of segments and the ``step`` used (1 at full size).
    """
    top, bottom, step = fit_rows(image, lines, rows_per_line=2)
    return halfblock_segments(shrink(np.asarray(image)[top:bottom], step, step)), step


def bar(fraction: float, width: int) -> str:
    """A horizontal bar of ``width`` cells, filled in eighths."""
    fraction = min(max(float(fraction), 0.0), 1.0)
    eighths = int(round(fraction * width * 8))
    full, part = divmod(eighths, 8)
    partial = " ▏▎▍▌▋▊▉"[part] if part else ""
    return ("█" * full + partial).ljust(width)[:width]


def probability_bars(
    probabilities: np.ndarray,
    predicted: int | None = None,
    true: int | None = None,
    width: int = 20,
) -> Text:
    """One line per class, ``d ████▌     97.1%``; the predicted class bold, the true class marked."""
    text = Text(no_wrap=True, overflow="crop")
    for digit, p in enumerate(np.asarray(probabilities, dtype=np.float64).tolist()):
        if digit:
            text.append("\n")
        is_pred, is_true = digit == predicted, digit == true
        if is_pred and is_true:
            style = "bold green"
        elif is_pred:
            style = "bold red"
        elif is_true:
            style = "bold yellow"
        else:
            style = "dim"
        text.append(f"{digit} ", style="bold" if is_pred or is_true else "")
        text.append(bar(p, width), style=style)
        text.append(f" {p * 100:5.1f}%", style=style if (is_pred or is_true) else "")
        text.append(" ◂" if is_true and not is_pred else "", style="yellow")
    return text


# ---------------------------------------------------------------------- signed maps (why-maps)

WARM = ((150, 40, 20), (255, 220, 90))
"""A positive value's colour at low and at full strength: dark red to amber."""
COOL = ((25, 60, 150), (120, 215, 255))
"""A negative value's colour at low and at full strength: deep blue to cyan."""
MAP_LEVELS = 12
"""Steps per sign a map value is rounded to: enough to read, few enough to cache every style."""
INK_LEVELS = 8
INK_GREY = 0.45
"""How bright the digit shows under a map where the map is near zero: visible, never louder than colour."""


def _mix(a: tuple[float, ...], b: tuple[float, ...], t: float) -> tuple[int, int, int]:
    return tuple(int(round(x + (y - x) * t)) for x, y in zip(a, b))  # type: ignore[return-value]


@lru_cache(maxsize=(2 * MAP_LEVELS + 1) * INK_LEVELS)
def signed_rgb(level: int, ink: int) -> tuple[int, int, int]:
    """The colour of one pixel of a signed map.

    Args:
        level: the map value rounded to ``-MAP_LEVELS .. MAP_LEVELS`` (positive: toward).
        ink: the image's intensity rounded to ``0 .. INK_LEVELS - 1``.

    Returns:
        The digit's grey where ``level`` is 0, warming (or cooling) toward full colour.
    """
    base = (ink * 255 / (INK_LEVELS - 1) * INK_GREY,) * 3
    if level == 0:
        return _mix(base, base, 0)
    t = min(abs(level) / MAP_LEVELS, 1.0)
    low, high = WARM if level > 0 else COOL
    return _mix(base, _mix(low, high, t), min(1.0, 0.4 + t))


@lru_cache(maxsize=4096)
def _signed_style(upper: tuple[int, int], lower: tuple[int, int]) -> Style:
    return Style(color=Color.from_rgb(*signed_rgb(*upper)), bgcolor=Color.from_rgb(*signed_rgb(*lower)))


def signed_levels(values: np.ndarray, image: np.ndarray) -> np.ndarray:
    """``(rows, cols, 2)`` int: each pixel's rounded map value and rounded ink (see :func:`signed_rgb`)."""
    values = np.clip(np.nan_to_num(np.asarray(values, np.float64)), -1.0, 1.0)
    level = np.rint(values * MAP_LEVELS).astype(np.int64)
    ink = np.asarray(image, np.int64) * (INK_LEVELS - 1) // 255
    return np.stack([level, ink], axis=-1)


def signed_halfblock_segments(values: np.ndarray, image: np.ndarray) -> list[list[Segment]]:
    """A signed map over its image in upper half blocks: warm toward, cool against, the digit in grey.

    Args:
        values: the map scaled into ``[-1, 1]`` (e.g. :func:`~mnist_tui.analysis.normalise_signed`).
        image: the uint8 image the map explains, the same shape, drawn dim beneath the map.

    Returns:
        One list of segments per two pixel rows, one segment per pixel column.
    """
    levels = signed_levels(values, image)
    if levels.shape[0] % 2:
        levels = np.concatenate([levels, np.zeros((1, *levels.shape[1:]), levels.dtype)])
    rows = []
    for r in range(0, levels.shape[0], 2):
        upper, lower = levels[r].tolist(), levels[r + 1].tolist()
        rows.append([Segment(UPPER_HALF, _signed_style(tuple(u), tuple(d))) for u, d in zip(upper, lower)])
    return rows


def pooled(image: np.ndarray, factor: int = 2) -> np.ndarray:
    """The image ``factor`` times smaller, each block the mean of its pixels (uint8).

    The mean keeps a small digit's strokes soft and their width honest, where the
    maximum (:func:`shrink`) thickens them; a ragged last block is padded with black.
    """
    pixels = np.asarray(image, np.float64)
    if factor <= 1:
        return np.asarray(image, np.uint8)
    height, width = pixels.shape
    padded = np.zeros((-(-height // factor) * factor, -(-width // factor) * factor))
    padded[:height, :width] = pixels
    blocks = padded.reshape(padded.shape[0] // factor, factor, padded.shape[1] // factor, factor)
    return np.clip(np.rint(blocks.mean(axis=(1, 3))), 0, 255).astype(np.uint8)
