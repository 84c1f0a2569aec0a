"""Drawing a digit: a canvas of the dataset's image size painted with a soft brush, and MNIST's preprocessing.

NumPy only, so the draw screen and its tests never import TensorFlow.

MNIST digits were made by fitting each handwritten digit into a 20x20 box (keeping its
aspect ratio, with anti-aliasing) and then placing that box in the image's field so that
the digit's centre of mass sits at the centre. :func:`mnist_style` does the same to a
drawing (with the dataset's :attr:`~mnist_tui.datasets.Dataset.ink_box`), so that a digit
drawn small, large or off to one side is seen the way the model saw its training data.
"""

from __future__ import annotations

import numpy as np

from .datasets import MNIST, Dataset

INK = 0.05  # pixels fainter than this do not count as part of the digit's extent


class Canvas:
    """A field of ink in ``[0, 1]`` the size of ``dataset``'s images, painted in strokes with a soft, round brush.

    Coordinates are in pixels, pixel ``(x, y)`` centred on ``(x, y)``; fractions are
    fine. The brush is fully dark within ``core`` pixels of its centre and fades out
    over the next ``feather`` pixels, which gives strokes about as thick and as soft
    as MNIST's pen strokes.
    """

    def __init__(self, core: float = 0.7, feather: float = 1.6, dataset: Dataset = MNIST) -> None:
        self.height, self.width = dataset.image_shape
        self.pixels = np.zeros(dataset.image_shape, np.float32)
        self.core = core
        self.feather = feather
        self._last: tuple[float, float] | None = None
        self._ys, self._xs = np.mgrid[0 : self.height, 0 : self.width].astype(np.float32)

    @property
    def image(self) -> np.ndarray:
        """The drawing as a uint8 image, 255 where the ink is darkest."""
        return np.round(self.pixels * 255).astype(np.uint8)

    @property
    def is_empty(self) -> bool:
        return not np.any(self.pixels > INK)

    def clear(self) -> None:
        self.pixels[:] = 0
        self._last = None

    def dab(self, x: float, y: float, *, erase: bool = False) -> None:
        """One touch of the brush at ``(x, y)``, not joined to any stroke."""
        distance = np.hypot(self._xs - x, self._ys - y)
        strength = np.clip(1.0 - (distance - self.core) / self.feather, 0.0, 1.0)
        if erase:
            self.pixels *= 1.0 - strength
        else:
            np.maximum(self.pixels, strength, out=self.pixels)

    def stroke_to(self, x: float, y: float, *, erase: bool = False) -> None:
        """Continue the stroke to ``(x, y)``, leaving no gaps however fast the pointer moved."""
        if self._last is None:
            self.dab(x, y, erase=erase)
        else:
            x0, y0 = self._last
            steps = max(1, int(np.ceil(np.hypot(x - x0, y - y0) / 0.5)))
            for t in np.linspace(0.0, 1.0, steps + 1)[1:]:
                self.dab(x0 + (x - x0) * t, y0 + (y - y0) * t, erase=erase)
        self._last = (x, y)

    def lift(self) -> None:
        """End the stroke: the next one starts afresh."""
        self._last = None


def resample_weights(old: int, new: int) -> np.ndarray:
    """A ``(new, old)`` matrix that resizes one axis with a tent filter, anti-aliased when shrinking."""
    scale = old / new
    support = max(scale, 1.0)
    centres_new = (np.arange(new) + 0.5) * scale - 0.5
    distance = np.abs(centres_new[:, None] - np.arange(old)[None, :])
    weights = np.clip(1.0 - distance / support, 0.0, None)
    return weights / weights.sum(axis=1, keepdims=True)


def resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize a float image to ``height`` x ``width`` (separable tent filter)."""
    rows = resample_weights(image.shape[0], height)
    cols = resample_weights(image.shape[1], width)
    return rows @ image @ cols.T


def mnist_style(image: np.ndarray, dataset: Dataset = MNIST) -> np.ndarray:
    """Fit the digit into the dataset's ink box and centre it by its centre of mass in an image of its shape.

    Args:
        image: A 2-D drawing, uint8 (0..255) or float (0..1), 255/1 meaning ink.
        dataset: The image shape and the ink box (MNIST's digits fill a 20x20 box).

    Returns:
        A ``dataset.image_shape`` uint8 image preprocessed like the dataset's images;
        all zeros when nothing is drawn.
    """
    pixels = np.asarray(image, dtype=np.float32)
    if pixels.max(initial=0.0) > 1.0:
        pixels = pixels / 255.0
    rows = np.flatnonzero((pixels > INK).any(axis=1))
    cols = np.flatnonzero((pixels > INK).any(axis=0))
    field_h, field_w = dataset.image_shape
    box = dataset.ink_box or min(field_h, field_w)
    field = np.zeros((field_h, field_w), np.float32)
    if not len(rows):
        return field.astype(np.uint8)
    digit = pixels[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    height, width = digit.shape
    scale = box / max(height, width)
    new_h = max(1, min(box, int(round(height * scale))))
    new_w = max(1, min(box, int(round(width * scale))))
    boxed = np.clip(resize(digit, new_h, new_w), 0.0, 1.0)
    mass = boxed.sum()
    cy = float((boxed.sum(axis=1) * np.arange(new_h)).sum() / mass)
    cx = float((boxed.sum(axis=0) * np.arange(new_w)).sum() / mass)
    # MNIST put the centre of mass at the field's centre, pixel (14, 14): this reproduces its digits exactly
    top = int(np.clip(round(field_h / 2 - cy), 0, field_h - new_h))
    left = int(np.clip(round(field_w / 2 - cx), 0, field_w - new_w))
    field[top : top + new_h, left : left + new_w] = boxed
    return np.round(field * 255).astype(np.uint8)


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """``(row, column)`` of an image's centre of mass."""
    pixels = np.asarray(image, dtype=np.float64)
    mass = pixels.sum()
    ys, xs = np.mgrid[0 : pixels.shape[0], 0 : pixels.shape[1]]
    return float((pixels * ys).sum() / mass), float((pixels * xs).sum() / mass)
