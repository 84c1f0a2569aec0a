"""Pure rendering: exact output for known arrays."""

from __future__ import annotations

import numpy as np
import pytest
from rich.style import Style

from mnist_tui.render import (
    RAMP,
    ascii_art,
    ascii_fit,
    ascii_lines,
    bar,
    fit_rows,
    halfblock_fit,
    halfblock_levels,
    halfblock_segments,
    ink_rows,
    probability_bars,
    shrink,
)
from tests.support.fakes import digit_image


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


def test_fit_rows_trims_blank_rows_centred_on_the_digit():
    image = np.zeros((28, 28), np.uint8)
    image[10:14] = 255  # ink in rows 10..13, centre 12
    assert fit_rows(image, 28) == (0, 28, 1)
    assert fit_rows(image, 40) == (0, 28, 1)
    assert fit_rows(image, 8) == (8, 16, 1)
    assert fit_rows(image, 7, rows_per_line=2) == (5, 19, 1)
    image[:] = 0
    image[0:3] = 255
    assert fit_rows(image, 10) == (0, 10, 1)  # clamped at the top
    assert fit_rows(np.zeros((28, 28), np.uint8), 10) == (9, 19, 1)  # blank: the middle


def test_fit_rows_shrinks_ink_taller_than_the_lines():
    image = np.zeros((28, 28), np.uint8)
    image[4:25] = 255  # 21 rows of ink
    assert fit_rows(image, 18) == (0, 28, 2)  # 18 lines hold 36 rows at two a line: the whole image
    assert fit_rows(image, 21) == (4, 25, 1)  # just fits at full size
    assert fit_rows(image, 7) == (4, 25, 3)  # 7 lines of three rows: exactly the ink
    assert fit_rows(image, 5, rows_per_line=2) == (0, 28, 3)


def test_ink_rows():
    image = np.zeros((28, 28), np.uint8)
    assert ink_rows(image) == (0, 0)
    image[3, 5] = image[20, 0] = 1
    assert ink_rows(image) == (3, 21)


def test_shrink_keeps_the_brightest_pixel_of_each_block():
    image = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]], np.uint8)
    assert shrink(image, 1, 1) is image
    assert shrink(image, 2, 1).tolist() == [[4, 5, 6], [7, 8, 9]]
    assert shrink(image, 2, 2).tolist() == [[5, 6], [8, 9]]
    assert shrink(image, 3, 3).tolist() == [[9]]


def test_ascii_fit_full_size_when_it_fits():
    image = digit_image(8)
    assert ascii_fit(image, 28) == (ascii_lines(image), 1)
    top, bottom = ink_rows(image)
    lines, step = ascii_fit(image, bottom - top)
    assert step == 1 and lines == ascii_lines(image[top:bottom])


def test_ascii_fit_two_rows_a_line_keeps_the_shape():
    image = np.zeros((28, 28), np.uint8)
    image[2:26, 4] = 255
    lines, step = ascii_fit(image, 18)
    assert step == 2 and len(lines) == 14 and {len(line) for line in lines} == {28}
    assert [line[4] for line in lines] == [" "] + ["@"] * 12 + [" "]


def digit_shapes() -> list[np.ndarray]:
    """Test-set-like digits: the ten shapes shifted, stretched to every ink height, and bands at every place."""
    shapes = [digit_image(d, shift) for d in range(10) for shift in (-2, 0, 2)]
    for d in (2, 8, 9):  # the tall ones that lost their bottom at 80x24
        tall = np.zeros((28, 28), np.uint8)
        tall[4:25] = digit_image(d)[np.linspace(5, 22, 21).astype(int)]
        shapes.append(tall)
    for top in range(28):
        for bottom in range(top + 1, 29, 3):
            band = np.zeros((28, 28), np.uint8)
            band[top:bottom, 10:18] = 200
            band[top, 12] = band[bottom - 1, 15] = 255
            shapes.append(band)
    return shapes


SHAPES = digit_shapes()


def drawn_ink_rows(lines: list[str]) -> int:
    return sum(1 for line in lines if line.strip())


@pytest.mark.parametrize("height", range(1, 29))
def test_every_ink_row_appears_in_ascii_at_every_height(height):
    for image in SHAPES:
        lines, step = ascii_fit(image, height)
        assert len(lines) <= height
        top, bottom, _ = fit_rows(image, height)
        ink_top, ink_bottom = ink_rows(image)
        assert top <= ink_top and ink_bottom <= bottom  # no ink row is left out of the band
        for row in range(ink_top, ink_bottom):
            if image[row].any():
                assert lines[(row - top) // step].strip(), (height, row)
        # nothing is drawn that is not ink: the drawn lines hold exactly the inked groups of rows
        groups = {(row - top) // step for row in range(ink_top, ink_bottom) if image[row].any()}
        assert drawn_ink_rows(lines) == len(groups)


@pytest.mark.parametrize("height", range(1, 15))
def test_every_ink_row_appears_in_half_blocks_at_every_height(height):
    for image in SHAPES[::4]:
        rows, step = halfblock_fit(image, height)
        assert len(rows) <= height
        top, _, _ = fit_rows(image, height, rows_per_line=2)
        ink_top, ink_bottom = ink_rows(image)
        for row in range(ink_top, ink_bottom):
            if image[row].any():
                line, half = divmod((row - top) // step, 2)
                lit = [segment.style.bgcolor if half else segment.style.color for segment in rows[line]]
                assert any(colour.triplet != (0, 0, 0) for colour in lit), (height, row)


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


def test_one_duration_format_everywhere():
    from mnist_tui.runs.format import duration

    assert duration(5.24) == "5.2 s"
    assert duration(11.3) == "11 s"
    assert duration(18.4) == "18 s"
    assert duration(59.6) == "1 min 00 s"
    assert duration(65) == "1 min 05 s"
    assert duration(3725) == "1 h 02 min"
    assert duration(None) == duration(float("nan")) == duration(-1) == "–"


def test_no_second_duration_format_remains():
    """The training screen and --headless write durations with the one helper, not their own."""
    from pathlib import Path

    import mnist_tui.render as render

    assert not hasattr(render, "format_duration")
    package = Path(render.__file__).parent
    for name in ("screens/training.py", "headless.py", "screens/compare.py", "widgets/runs_table.py"):
        text = (package / name).read_text()
        assert "duration" in text and ':.1f} s"' not in text and ':.1f}s"' not in text, name


async def test_results_at_80x24_show_every_ink_row_of_a_tall_digit():
    from mnist_tui.app import MnistApp
    from mnist_tui.widgets.digit import DigitView
    from tests.support.fakes import fake_predictions

    predictions = fake_predictions()
    tall = np.zeros((28, 28), np.uint8)
    tall[4:25, 9:19] = 90
    tall[4:25:4, 9:19] = 255
    tall[24, 9:19] = 255  # the last row of ink, the one a cut digit loses
    predictions.images[0] = tall
    app = MnistApp(predictions=predictions)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        digit = app.screen.query_one(DigitView)
        panel = app.screen.query_one("#digit-panel")
        assert digit.region.height > 0
        assert panel.content_region.contains_region(digit.region)  # no line hidden below the panel
        lines = [digit.render_line(y).text for y in range(digit.size.height)]
    inked = [line for line in lines if line.strip() and "shrunk" not in line]
    assert len(inked) == 11  # rows 4..24 at two a line: lines 2..12 of the shrunk image
    assert "@" in inked[0] and "@" in inked[-1]  # the first and the last ink rows
    assert any("shrunk" in line for line in lines)
