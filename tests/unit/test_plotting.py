"""The chart's maths: round ticks, log scales, labels, scaling and the braille rasteriser, cell for cell."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mnist_tui.plotting import (
    DOT_BITS,
    Axis,
    braille,
    braille_codes,
    finite,
    format_value,
    line_codes,
    line_mask,
    linear_axis,
    log_axis,
    rasterise,
    tick_labels,
    value_axis,
)


def is_one_two_five(step: float) -> bool:
    mantissa = step / 10 ** math.floor(math.log10(step) + 1e-9)
    return any(math.isclose(mantissa, m) for m in (1, 2, 5))


@pytest.mark.parametrize(
    "lo, hi, max_ticks",
    [
        (0.07, 0.31, 4),
        (0.9, 0.98, 4),
        (0.0, 1.0, 5),
        (-0.3, 0.2, 5),
        (0.018, 0.26, 3),
        (0.31, 0.39, 2),
        (1e-4, 3e-4, 3),
        (0.0, 3000.0, 6),
        (123456.0, 123789.0, 4),
        (0.9712, 0.9713, 4),
    ],
)
def test_linear_ticks_are_round_inside_and_few_enough(lo, hi, max_ticks):
    axis = linear_axis(lo, hi, max_ticks)
    assert is_one_two_five(axis.step)
    assert 2 <= len(axis.ticks) <= max_ticks + 1  # widening to enclosing ticks may add one
    assert axis.lo <= lo and axis.hi >= hi
    assert all(axis.lo - 1e-12 <= t <= axis.hi + 1e-12 for t in axis.ticks)
    for tick in axis.ticks:
        assert math.isclose(tick / axis.step, round(tick / axis.step), abs_tol=1e-6)
    assert list(axis.ticks) == sorted(set(axis.ticks))


def test_linear_ticks_known_values():
    assert linear_axis(0.07, 0.31, 4).ticks == (0.1, 0.2, 0.3)
    assert linear_axis(0.0, 1.0, 5).ticks == (0.0, 0.5, 1.0)  # 0.2 would make six
    assert linear_axis(1, 10, 5, integer=True, loose=False).ticks == (2, 4, 6, 8, 10)
    assert linear_axis(0.1, 0.3, 3).ticks == (0.1, 0.2, 0.3)  # no 0.30000000000000004


def test_a_narrow_range_is_widened_to_the_ticks_that_enclose_it():
    axis = linear_axis(0.31, 0.39, 2)
    assert (axis.lo, axis.hi, axis.ticks) == (0.3, 0.4, (0.3, 0.35, 0.4))


def test_a_narrow_range_that_may_not_widen_takes_smaller_steps():
    axis = linear_axis(0.31, 0.39, 2, loose=False)
    assert (axis.lo, axis.hi) == (0.31, 0.39)
    assert len(axis.ticks) >= 2


@pytest.mark.parametrize(
    "lo, hi, max_ticks",
    [
        (3.0005, 3.3733, 2),  # the batches of a stopped run's fourth epoch, on a narrow chart
        (0.024, 0.028, 2),
        (0.0241, 0.0279, 2),
        (0.0005, 2.0, 2),
        (0.31, 0.39, 2),
        (0.31, 0.39, 3),
        (1.001, 1.3, 2),
        (123.4, 123.9, 2),
    ],
)
def test_a_range_that_may_not_widen_gets_a_few_round_ticks(lo, hi, max_ticks):
    """Not a comb of one tick per thousandth (0.02400 0.02401 ...): the largest step that puts two inside."""
    axis = linear_axis(lo, hi, max_ticks, loose=False)
    assert (axis.lo, axis.hi) == (lo, hi)
    assert is_one_two_five(axis.step)
    assert 2 <= len(axis.ticks) <= 5
    labels = tick_labels(axis)
    assert max(map(len, labels)) <= max(len(f"{hi:g}"), 5)


@pytest.mark.parametrize("value", [0.0, 0.5, -3.0, 1e-6, 12345.0])
def test_a_constant_series_gets_a_range_around_its_value(value):
    axis = linear_axis(value, value, 4)
    assert axis.lo < value < axis.hi
    assert len(axis.ticks) >= 2


def test_integer_ticks_never_fall_between_epochs():
    for hi in range(2, 60):
        axis = linear_axis(1, hi, 8, integer=True, loose=False)
        assert all(float(t).is_integer() for t in axis.ticks)
        assert axis.step >= 1
    one = linear_axis(1, 1, 8, integer=True, loose=False)  # a single epoch sits in the middle
    assert (one.lo, one.hi, one.ticks) == (0.5, 1.5, (1.0,))


def test_non_finite_bounds_fall_back_to_a_unit_range():
    assert (linear_axis(math.nan, 1.0).lo, linear_axis(math.nan, 1.0).hi) == (0.0, 1.0)


def test_finite_drops_nan_and_infinities():
    assert finite([1.0, math.nan, math.inf, -math.inf, 2.0]).tolist() == [1.0, 2.0]


def test_value_axis_ignores_nan_and_inf():
    axis = value_axis([0.2, math.nan, math.inf, 0.1, -math.inf], 4)
    assert axis.lo <= 0.1 and axis.hi >= 0.2 and axis.hi < 1


@pytest.mark.parametrize("values", [[], [math.nan], [math.inf, -math.inf]])
def test_value_axis_of_no_finite_value_is_still_an_axis(values):
    for log in (False, True):
        axis = value_axis(values, 4, log=log)
        assert axis.hi > axis.lo and len(axis.ticks) >= 2


def test_value_axis_of_one_point():
    axis = value_axis([0.071], 4)
    assert axis.lo < 0.071 < axis.hi and len(axis.ticks) >= 2


def test_log_ticks_at_powers_of_ten_over_decades():
    assert log_axis(1e-4, 1.0, 5).ticks == (1e-4, 1e-3, 1e-2, 0.1, 1.0)
    many = log_axis(1e-9, 0.5, 4)
    assert len(many.ticks) <= 4 and all(math.log10(t).is_integer() for t in many.ticks)


def test_log_ticks_within_a_decade_use_one_two_five():
    assert log_axis(0.05, 0.3, 4).ticks == (0.05, 0.1, 0.2)


def test_log_ticks_in_a_narrow_range_fall_back_to_linear_steps():
    axis = log_axis(0.06, 0.09, 4)
    assert axis.log and axis.ticks == (0.06, 0.07, 0.08, 0.09)


def test_log_scale_clips_zero_and_negatives_to_the_smallest_positive_value():
    axis = value_axis([0.0, -1.0, 0.1, 0.5, math.nan], 4, log=True)
    assert axis.log and axis.lo == 0.1 and axis.hi == 0.5
    positions = axis.position([0.0, 0.1, 0.5], 9)
    assert positions.tolist() == pytest.approx([0.0, 0.0, 8.0])


def test_log_scale_near_zero_keeps_the_span_bounded():
    axis = value_axis([1e-300, 0.5], 4, log=True)
    assert axis.lo >= 0.5 * 1e-12 and len(axis.ticks) >= 2


def test_log_scale_without_a_positive_value_stays_linear():
    axis = value_axis([-1.0, -2.0], 4, log=True)
    assert not axis.log


def test_constant_series_on_a_log_scale():
    axis = value_axis([0.07, 0.07], 3, log=True)
    assert axis.lo < 0.07 < axis.hi and len(axis.ticks) >= 2


def test_positions_are_linear_and_log_as_asked():
    axis = Axis(0.0, 1.0, (0.0, 1.0), 1.0)
    assert axis.position([0.0, 0.5, 1.0, math.nan], 11)[:3].tolist() == [0.0, 5.0, 10.0]
    assert math.isnan(axis.position([math.nan], 11)[0])
    log = Axis(0.01, 1.0, (0.01, 0.1, 1.0), 0.0, log=True)
    assert log.position([0.01, 0.1, 1.0], 9).tolist() == pytest.approx([0.0, 4.0, 8.0])


@pytest.mark.parametrize(
    "axis, percent, labels",
    [
        (Axis(0.0, 0.3, (0.1, 0.2, 0.3), 0.1), False, ["0.1", "0.2", "0.3"]),
        (Axis(0.06, 0.08, (0.065, 0.07, 0.075), 0.005), False, ["0.065", "0.070", "0.075"]),
        (Axis(0.9, 1.0, (0.94, 0.96, 0.98), 0.02), True, ["94%", "96%", "98%"]),
        (Axis(0.97, 0.98, (0.97, 0.975, 0.98), 0.005), True, ["97.0%", "97.5%", "98.0%"]),
        (Axis(0.0, 3e-4, (1e-4, 2e-4, 3e-4), 1e-4), False, ["1e-4", "2e-4", "3e-4"]),
        (Axis(0.0, 3000.0, (0.0, 1000.0, 2000.0), 1000.0), False, ["0", "1000", "2000"]),
        (Axis(0.0, 6e4, (0.0, 2e4, 4e4, 6e4), 2e4), False, ["0", "20k", "40k", "60k"]),
        (Axis(1e-4, 1.0, (1e-4, 1e-3, 0.01, 0.1, 1.0), 0.0, log=True), False, ["1e-4", "1e-3", "0.01", "0.1", "1"]),
        (Axis(-0.3, 0.2, (-0.2, 0.0, 0.2), 0.2), False, ["-0.2", "0.0", "0.2"]),
    ],
)
def test_tick_labels_stay_short(axis, percent, labels):
    assert tick_labels(axis, percent=percent) == labels


@pytest.mark.parametrize(
    "value, percent, text",
    [
        (0.0712, False, "0.0712"),
        (0.071, False, "0.071"),
        (0.98123, True, "98.12%"),
        (1.234e-5, False, "1.23e-5"),
        (2.5, False, "2.5"),
        (1234.5, False, "1234"),
        (math.nan, False, "nan"),
    ],
)
def test_format_value(value, percent, text):
    assert format_value(value, percent=percent) == text


def test_format_value_with_fewer_digits():
    assert format_value(0.0712, digits=2) == "0.071"
    assert format_value(0.98123, percent=True, digits=2) == "98.1%"


# --- the rasteriser ----------------------------------------------------------------------


def cells(xs, ys, width, height, **kwargs):
    raster = rasterise([(np.array(xs, dtype=float), np.array(ys, dtype=float))], width, height, **kwargs)
    return ["".join(braille(int(c)) for c in row) for row in raster.codes]


def test_dot_bits_follow_the_braille_numbering():
    assert DOT_BITS.tolist() == [[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]]
    assert braille(0) == " " and braille(0xFF) == "⣿" and braille(0x01) == "⠁"


@pytest.mark.parametrize(
    "x, y, char",
    [(0, 0, "⠁"), (0, 1, "⠂"), (0, 2, "⠄"), (0, 3, "⡀"), (1, 0, "⠈"), (1, 1, "⠐"), (1, 2, "⠠"), (1, 3, "⢀")],
)
def test_each_dot_of_a_cell(x, y, char):
    assert cells([x], [y], 1, 1) == [char]


def test_a_horizontal_line():
    assert cells([0, 3], [0, 0], 2, 1) == ["⠉⠉"]


def test_a_vertical_line():
    assert cells([0, 0], [0, 3], 1, 1) == ["⡇"]


def test_a_steep_diagonal_is_one_dot_per_row():
    # (0,0) to (3,7): x = round(3t/7) for t = 0..7 -> 0,0,1,1,2,2,3,3
    assert cells([0, 3], [0, 7], 2, 2) == ["⢣ ", " ⢣"]
    raster = rasterise([(np.array([0.0, 3.0]), np.array([0.0, 7.0]))], 2, 2)
    assert raster.codes.tolist() == [[0x01 | 0x02 | 0x20 | 0x80, 0], [0, 0x01 | 0x02 | 0x20 | 0x80]]
    assert raster.owner.tolist() == [[0, -1], [-1, 0]]


@pytest.mark.parametrize("xs, ys", [([0, 3], [0, 39]), ([5, 6], [39, 0]), ([0, 1, 2], [0, 39, 2]), ([2, 2], [1, 38])])
def test_points_far_apart_vertically_are_joined_by_a_connected_run_of_dots(xs, ys):
    """A steep segment is a line, not a dotted column: every dot row between its ends, each dot touching the next."""
    mask = line_mask(np.array(xs, dtype=float), np.array(ys, dtype=float), 8, 40)
    rows, columns = np.nonzero(mask)
    assert set(rows) == set(range(min(ys), max(ys) + 1))
    for y0, y1 in zip(ys, ys[1:]):  # walk each segment: neighbours one dot apart
        step = 1 if y1 > y0 else -1
        walk = [columns[rows == y].tolist() for y in range(y0, y1 + step, step)]
        for here, there in zip(walk, walk[1:]):
            assert min(abs(a - b) for a in here for b in there) <= 1


def test_a_shallow_line_rounds_to_the_nearest_dot():
    # (0,0) to (5,1): y = round(t/5) -> 0,0,0,1,1,1 (the tie at t = 2.5 rounds up)
    assert cells([0, 5], [0, 1], 3, 1) == ["⠉⠑⠒"]


def test_a_polyline_through_three_points():
    # (0,3)->(2,0): (0,3) (1,2) (1,1) (2,0); (2,0)->(3,3): (2,1) (3,2) (3,3)
    assert cells([0, 2, 3], [3, 0, 3], 2, 1) == [
        chr(0x2800 + (0x40 | 0x20 | 0x10)) + chr(0x2800 + (0x01 | 0x02 | 0x20 | 0x80))
    ]


def test_nan_breaks_the_line_and_a_lone_point_is_a_dot():
    assert cells([0, math.nan, 3], [0, 0, 0], 2, 1) == ["⠁⠈"]
    assert cells([0, 1, 2, 3], [0, math.nan, 3, 3], 2, 1) == ["⠁⣀"]


def test_dots_off_the_canvas_are_dropped():
    assert cells([-4, 3], [0, 0], 2, 1) == ["⠉⠉"]
    assert cells([0, 3], [-1, -1], 2, 1) == ["  "]
    assert cells([0, 0], [-10, 10], 1, 1) == ["⡇"]


def test_points_sharing_a_column_draw_their_whole_extent():
    assert cells([0, 0, 0, 0, 0, 0, 0], [1, 3, 2, 1, 2, 3, 2], 1, 1) == ["⡆"]


def reference_mask(xs, ys, width, height):
    """Every segment expanded dot by dot in plain Python, the slow and obvious way."""
    dots = np.zeros((height, width), dtype=bool)
    points = [
        (math.floor(x + 0.5), math.floor(y + 0.5)) if math.isfinite(x) and math.isfinite(y) else None
        for x, y in zip(xs, ys)
    ]
    for i, point in enumerate(points):
        if point is None:
            continue
        plotted = [point]
        if i + 1 < len(points) and points[i + 1] is not None:
            (x0, y0), (x1, y1) = point, points[i + 1]
            n = max(abs(x1 - x0), abs(y1 - y0))
            for t in range(n + 1):
                fraction = t / max(n, 1)
                plotted.append(
                    (x0 + math.floor((x1 - x0) * fraction + 0.5), y0 + math.floor((y1 - y0) * fraction + 0.5))
                )
        for x, y in plotted:
            if 0 <= x < width and 0 <= y < height:
                dots[y, x] = True
    return dots


@pytest.mark.parametrize("seed", range(6))
def test_dense_lines_match_the_dot_by_dot_drawing(seed):
    rng = np.random.default_rng(seed)
    n = 400
    xs = np.sort(rng.uniform(-3, 50, n)) if seed % 2 else rng.uniform(-3, 50, n)  # monotone and not
    ys = np.cumsum(rng.normal(0, 3, n)) + 20
    ys[rng.integers(0, n, 5)] = np.nan
    assert (line_mask(xs, ys, 48, 40) == reference_mask(xs, ys, 48, 40)).all()


def test_braille_codes_pack_each_cell():
    dots = np.zeros((8, 4), dtype=bool)
    dots[0, 0] = dots[3, 1] = True  # cell (0, 0): dots 1 and 8
    dots[4:8, 2] = True  # cell (1, 1): the left column
    assert braille_codes(dots).tolist() == [[0x81, 0], [0, 0x47]]


def test_lines_in_one_layer_share_a_cell_in_the_last_ones_colour():
    first = (np.array([0.0, 1.0]), np.array([0.0, 0.0]))
    second = (np.array([0.0, 1.0]), np.array([3.0, 3.0]))
    raster = rasterise([first, second], 1, 1)
    assert raster.codes.tolist() == [[0x09 | 0xC0]] and raster.owner.tolist() == [[1]]


def test_a_higher_layer_hides_the_lower_ones_in_its_cells():
    cloud = (np.array([0.0, 0.0, 1.0, 1.0, 2.0, 3.0]), np.array([0.0, 3.0, 3.0, 0.0, 0.0, 3.0]))
    line = (np.array([0.0, 1.0]), np.array([1.0, 1.0]))
    raster = rasterise([cloud, line], 2, 1, layers=[0, 1])
    assert raster.owner.tolist() == [[1, 0]]
    assert raster.codes[0, 0] == 0x02 | 0x10  # only the line's dots in its cell
    assert raster.codes[0, 1] != 0  # the cloud elsewhere is untouched
    # drawn in the other order, the lower layer cannot cover the higher one
    again = rasterise([line, cloud], 2, 1, layers=[1, 0])
    assert again.codes.tolist() == raster.codes.tolist() and again.owner.tolist() == [[0, 1]]


def test_an_empty_line_draws_nothing():
    raster = rasterise([(np.array([]), np.array([]))], 3, 2)
    assert not raster.codes.any() and (raster.owner == -1).all()


@pytest.mark.parametrize("seed", range(4))
def test_sparse_and_dense_lines_pack_the_same_cells_as_their_mask(seed):
    rng = np.random.default_rng(seed)
    n = 12 if seed < 2 else 500  # a few epochs, or many batches per column
    xs = np.linspace(-2, 41, n) if seed % 2 else rng.uniform(-2, 41, n)
    ys = rng.uniform(-3, 35, n)
    assert (line_codes(xs, ys, 20, 8) == braille_codes(line_mask(xs, ys, 40, 32))).all()
