"""Pure rendering: 28x28 images and probability vectors to text. No Textual, no TensorFlow."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
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
    """The image as ASCII art: 28 lines of 56 characters for an MNIST digit."""
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

    A 28x28 image takes 14 lines of 28 cells.
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
    """Ten lines ``d ████▌     97.1%``; the predicted class bold, the true class marked."""
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


def format_duration(seconds: float | None) -> str:
    """``75`` -> ``1:15``; ``3725`` -> ``1:02:05``; ``None`` -> ``--:--``."""
    if seconds is None or not np.isfinite(seconds) or seconds < 0:
        return "--:--"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
