"""The drawing canvas and MNIST-style preprocessing (NumPy only)."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_tui.datasets import MNIST
from mnist_tui.drawing import Canvas, centre_of_mass, mnist_style, resize
from tests.support.fakes import digit_image


def extent(image: np.ndarray) -> tuple[int, int]:
    rows = np.flatnonzero((image > 12).any(axis=1))
    cols = np.flatnonzero((image > 12).any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def test_a_small_digit_in_a_corner_is_scaled_and_centred():
    small = np.zeros((28, 28), np.uint8)
    small[1:9, 2:8] = (np.clip(resize(digit_image(8).astype(np.float32) / 255, 8, 6), 0, 1) * 255).astype(np.uint8)
    out = mnist_style(small)
    assert out.shape == (28, 28) and out.dtype == np.uint8
    assert max(extent(out)) in (MNIST.ink_box - 1, MNIST.ink_box)
    cy, cx = centre_of_mass(out)
    assert abs(cy - 14) <= 0.75 and abs(cx - 14) <= 0.75


def test_aspect_ratio_is_kept():
    one = np.zeros((28, 28), np.uint8)
    one[10:18, 20:22] = 255  # a short upright stroke far to the right
    height, width = extent(mnist_style(one))
    assert height == MNIST.ink_box and width <= 6


@pytest.mark.parametrize("shift", [-3, 0, 3])
def test_the_same_digit_anywhere_comes_out_the_same(shift):
    reference = mnist_style(digit_image(2))
    moved = mnist_style(digit_image(2, shift=shift))
    assert np.abs(moved.astype(int) - reference.astype(int)).max() <= 1


def test_an_mnist_digit_is_left_as_it_is(real_mnist):
    from mnist_tui.data import load_path

    images = load_path(real_mnist).x_test[:200]
    diffs = [np.abs(mnist_style(image).astype(int) - image.astype(int)).mean() for image in images]
    assert np.mean(diffs) < 0.5


def test_empty_drawing_stays_empty():
    assert not mnist_style(np.zeros((28, 28), np.uint8)).any()


def test_a_fast_stroke_leaves_no_gaps_and_is_soft():
    canvas = Canvas()
    canvas.stroke_to(2, 14)
    canvas.stroke_to(25, 14)  # one big jump, as from a fast mouse
    assert (canvas.pixels[14, 2:26] == 1.0).all()
    assert 0.5 < canvas.pixels[15, 10] < 1 and 0 < canvas.pixels[16, 10] < 0.5  # a soft edge
    assert canvas.pixels[17, 10] == 0
    thickness = int((canvas.pixels[:, 10] > 0.5).sum())
    assert 2 <= thickness <= 4  # about an MNIST pen stroke


def test_lift_starts_a_new_stroke():
    canvas = Canvas()
    canvas.stroke_to(3, 3)
    canvas.lift()
    canvas.stroke_to(24, 24)
    assert canvas.pixels[14, 14] == 0


def test_erase_and_clear():
    canvas = Canvas()
    canvas.stroke_to(2, 14)
    canvas.stroke_to(25, 14)
    canvas.lift()
    canvas.stroke_to(14, 14, erase=True)
    assert canvas.pixels[14, 14] == 0 and canvas.pixels[14, 3] == 1.0
    assert not canvas.is_empty
    canvas.clear()
    assert canvas.is_empty and canvas.image.dtype == np.uint8 and not canvas.image.any()
