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


def ascii_lines(image: np.ndarray, ramp: str = RAMP) -> list[str]:
    """One string per pixel row, two characters per pixel."""
    chars = np.array([c * 2 for c in ramp])
    return ["".join(row) for row in chars[ramp_indices(image, ramp)]]


def ascii_art(image: np.ndarray, ramp: str = RAMP) -> str:
    """The image as ASCII art: 28 lines of 56 characters for an MNIST digit."""
    return "\n".join(ascii_lines(image, ramp))


def ink_window(image: np.ndarray, rows: int) -> tuple[int, int]:
    """The ``rows``-tall band of pixel rows to show when the whole image does not fit.

    Centred on the rows that hold ink, so a short terminal trims blank margins first.
    """
    height = image.shape[0]
    if rows >= height:
        return 0, height
    rows = max(rows, 1)
    inked = np.flatnonzero(np.asarray(image).max(axis=1) > 0)
    centre = (inked[0] + inked[-1] + 1) / 2 if inked.size else height / 2
    top = int(round(centre - rows / 2))
    top = min(max(top, 0), height - rows)
    return top, top + rows


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
