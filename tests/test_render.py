"""Pure rendering: exact output for known arrays."""

from __future__ import annotations

import numpy as np
from rich.style import Style

from mnist_tui.render import (
    RAMP, ascii_art, ascii_lines, bar, format_duration, halfblock_levels, halfblock_segments, ink_window, probability_bars,
)  # fmt: skip


def test_ramp_maps_intensity_bands():
    row = np.array([[0, 25, 26, 128, 230, 255]], dtype=np.uint8)
    # 10 levels: index = value * 10 // 256
    assert ascii_lines(row) == ["    ..++%%@@"]  # 0 0 1 5 8 9


def test_ascii_art_exact_for_a_small_image():
    image = np.array([[0, 255, 0], [128, 0, 64]], dtype=np.uint8)
    assert ascii_art(image) == "  @@  \n++  ::"


def test_full_image_is_28_lines_of_56():
    lines = ascii_lines(np.full((28, 28), 200, np.uint8))
    assert len(lines) == 28 and {len(line) for line in lines} == {56}
    assert set("".join(lines)) == {RAMP[200 * 10 // 256]}


def test_halfblock_pairs_rows_and_colours_cells():
    image = np.zeros((4, 2), np.uint8)
    image[0, 0], image[1, 0], image[2, 1], image[3, 1] = 255, 10, 40, 90
    assert halfblock_levels(image) == [[(255, 10), (0, 0)], [(0, 0), (40, 90)]]
    rows = halfblock_segments(image)
    assert plain(rows) == ["▀▀", "▀▀"]
    assert rows[0][0].style == Style.parse("rgb(255,255,255) on rgb(10,10,10)")
    assert rows[1][1].style == Style.parse("rgb(40,40,40) on rgb(90,90,90)")
    assert sum(len(row) for row in rows) == 4


def plain(rows) -> list[str]:
    return ["".join(segment.text for segment in row) for row in rows]


def test_halfblock_odd_height_pads_a_blank_row():
    rows = halfblock_segments(np.full((3, 1), 255, np.uint8))
    assert plain(rows) == ["▀", "▀"]
    assert rows[1][0].style == Style.parse("rgb(255,255,255) on rgb(0,0,0)")


def test_halfblock_mnist_size():
    assert plain(halfblock_segments(np.zeros((28, 28), np.uint8))) == ["▀" * 28] * 14


def test_ink_window_centres_on_the_digit():
    image = np.zeros((28, 28), np.uint8)
    image[10:14] = 255  # ink in rows 10..13, centre 12
    assert ink_window(image, 28) == (0, 28)
    assert ink_window(image, 40) == (0, 28)
    assert ink_window(image, 8) == (8, 16)
    image[:] = 0
    image[0:3] = 255
    assert ink_window(image, 10) == (0, 10)  # clamped at the top
    assert ink_window(np.zeros((28, 28), np.uint8), 10) == (9, 19)  # blank: the middle


def test_bar_eighths():
    assert bar(0, 4) == "    "
    assert bar(1, 4) == "████"
    assert bar(0.5, 4) == "██  "
    assert bar(1 / 32, 4) == "▏   "  # one eighth of one cell
    assert bar(1 / 8, 4) == "▌   "
    assert bar(2.0, 3) == "███"


def test_probability_bars_mark_prediction_and_truth():
    probs = np.zeros(10)
    probs[3], probs[8] = 0.75, 0.25
    text = probability_bars(probs, predicted=3, true=8, width=8)
    lines = text.plain.split("\n")
    assert len(lines) == 10
    assert lines[3] == "3 ██████    75.0%"
    assert lines[8] == "8 ██        25.0% ◂"
    assert lines[0] == "0            0.0%"


def test_format_duration():
    assert format_duration(75) == "1:15"
    assert format_duration(3725) == "1:02:05"
    assert format_duration(None) == "--:--"
    assert format_duration(float("nan")) == "--:--"
