"""LineChart in a running app: what it draws, the log toggle, and that it redraws only on change."""

from __future__ import annotations

import math

import pytest
from textual.app import App, ComposeResult
from textual.geometry import Region

from mnist_tui.widgets.chart import BEST, LATEST, PALETTE, LineChart

LOSS = [0.2589, 0.1142, 0.0791, 0.0598, 0.0466, 0.0378, 0.0310, 0.0262, 0.0221, 0.0187]
VAL_LOSS = [0.1338, 0.0978, 0.0822, 0.0745, 0.0712, 0.0683, 0.0701, 0.0698, 0.0735, 0.0762]


class CountingChart(LineChart):
    """Counts how often its lines are built."""

    builds = 0

    def build(self, width, height):
        self.builds += 1
        return super().build(width, height)


class ChartApp(App):
    CSS = "CountingChart { width: 1fr; height: 1fr; }"

    def __init__(self, **chart_options) -> None:
        super().__init__()
        self.chart_options = chart_options

    def compose(self) -> ComposeResult:
        yield CountingChart(**self.chart_options)


def text(chart: LineChart) -> list[str]:
    width, height = chart.size
    strips = chart.render_lines(Region(0, 0, width, height))
    assert all(strip.cell_length == width for strip in strips)
    return [strip.text for strip in strips]


def y_labels(lines: list[str]) -> list[str]:
    """The tick labels left of the y axis, top to bottom."""
    return [line.split("┤")[0].strip() for line in lines if "┤" in line]


async def test_empty_chart_says_it_is_waiting():
    app = ChartApp(title="Loss")
    async with app.run_test(size=(40, 10)) as pilot:
        await pilot.pause()
        lines = text(app.query_one(LineChart))
        assert lines[0].startswith("Loss")
        assert any("waiting for the first epoch" in line for line in lines)


async def test_setting_series_draws_them_with_axes_and_a_legend():
    app = ChartApp(title="Loss")
    async with app.run_test(size=(60, 16)) as pilot:
        chart = app.query_one(LineChart)
        await pilot.pause()
        empty = text(chart)
        chart.set_series("loss", LOSS)
        chart.set_series("val_loss", VAL_LOSS)
        await pilot.pause()
        lines = text(chart)
        assert lines != empty
        legend = " ".join(lines[:2])
        assert "loss 0.0187" in legend and "val_loss 0.0762" in legend
        assert f"{BEST}0.0683@6" in legend  # val_loss was best at epoch 6
        assert len(y_labels(lines)) >= 2
        assert any("└" in line and "┬" in line for line in lines)
        assert "epoch" in lines[-1] and "10" in lines[-1]
        body = "".join(lines[1:-2])
        assert any(0x2800 < ord(char) <= 0x28FF for char in body)
        assert LATEST in body and BEST in body
        chart.set_series("val_loss", VAL_LOSS[:5])
        await pilot.pause()
        assert text(chart) != lines


async def test_toggle_log_changes_the_ticks():
    app = ChartApp(title="Loss")
    async with app.run_test(size=(50, 20)) as pilot:
        chart = app.query_one(LineChart)
        chart.set_series("loss", [1.0, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001])
        await pilot.pause()
        linear = y_labels(text(chart))
        chart.toggle_log()
        await pilot.pause()
        assert chart.log_y
        log = y_labels(text(chart))
        assert log != linear
        assert "1e-3" in log and "0.01" in log and "1" in log
        assert "(log)" in text(chart)[0]
        chart.toggle_log()
        await pilot.pause()
        assert y_labels(text(chart)) == linear


async def test_redraws_only_when_data_or_size_change():
    app = ChartApp(title="Loss")
    async with app.run_test(size=(60, 16)) as pilot:
        chart = app.query_one(CountingChart)
        chart.set_series("loss", LOSS)
        await pilot.pause()
        text(chart)
        built = chart.builds
        assert built >= 1
        for _ in range(5):  # repaints and idle time build nothing
            chart.refresh()
            await pilot.pause()
        await pilot.pause(0.3)
        text(chart)
        assert chart.builds == built
        chart.set_series("val_loss", VAL_LOSS)
        await pilot.pause()
        text(chart)
        assert chart.builds == built + 1
        version = chart.version
        chart.toggle_log()
        await pilot.pause()
        text(chart)
        assert chart.builds == built + 2 and chart.version == version + 1
        await pilot.resize_terminal(70, 18)
        await pilot.pause()
        text(chart)
        assert chart.builds == built + 3


async def test_readable_when_small():
    app = ChartApp(title="Loss")
    async with app.run_test(size=(30, 8)) as pilot:
        chart = app.query_one(LineChart)
        chart.set_series("loss", LOSS)
        chart.set_series("val_loss", VAL_LOSS)
        await pilot.pause()
        lines = text(chart)
        assert len(y_labels(lines)) >= 2
        assert "loss" in lines[0] and "val_loss" in lines[0]


@pytest.mark.parametrize("size", [(8, 2), (12, 3), (20, 4), (9, 30)])
async def test_tiny_sizes_do_not_break(size):
    app = ChartApp(title="Accuracy", percent=True, higher_is_better=True)
    async with app.run_test(size=size) as pilot:
        chart = app.query_one(LineChart)
        chart.set_series("accuracy", [0.9, 0.95, 0.97])
        await pilot.pause()
        assert len(text(chart)) == chart.size.height


async def test_one_point_is_marked():
    app = ChartApp(title="Accuracy", percent=True, higher_is_better=True)
    async with app.run_test(size=(40, 12)) as pilot:
        chart = app.query_one(LineChart)
        chart.set_series("val_accuracy", [0.9712])
        await pilot.pause()
        lines = text(chart)
        assert "97.12%" in " ".join(lines[:2])
        assert any(BEST in line for line in lines[1:])  # the only point is the best one
        assert len(y_labels(lines)) >= 2
        assert "1" in lines[-1]


async def test_gaps_and_non_finite_values_are_skipped():
    app = ChartApp(title="Loss")
    async with app.run_test(size=(40, 12)) as pilot:
        chart = app.query_one(LineChart)
        chart.set_series("loss", [0.3, math.nan, 0.2, math.inf, 0.1])
        chart.set_series("broken", [math.nan, math.nan])
        await pilot.pause()
        lines = text(chart)
        assert "broken" not in " ".join(lines)  # nothing to draw: no legend entry
        assert "loss 0.1" in " ".join(lines[:2])


async def test_batches_on_an_epoch_axis_stay_under_the_epoch_points():
    app = ChartApp(title="Loss")
    async with app.run_test(size=(60, 16)) as pilot:
        chart = app.query_one(LineChart)
        batches = [0.3 * math.exp(-i / 400) + 0.02 * math.sin(i) for i in range(3000)]
        chart.set_series("batch loss", batches, x=[i / 300 for i in range(3000)], markers=False)
        chart.set_series("val_loss", VAL_LOSS)
        await pilot.pause()
        lines = text(chart)
        assert "batch loss" in " ".join(lines[:2])
        assert any(LATEST in line for line in lines)  # val_loss is marked, the batches are not


async def test_colours_are_stable_per_name():
    app = ChartApp()
    async with app.run_test(size=(40, 10)) as pilot:
        chart = app.query_one(LineChart)
        chart.set_series("loss", LOSS)
        chart.set_series("val_loss", VAL_LOSS)
        assert [chart._series[name].colour for name in chart.series_names] == list(PALETTE[:2])
        chart.clear()
        chart.set_series("val_loss", VAL_LOSS)  # back in the other order: same colours
        chart.set_series("loss", LOSS)
        assert chart._series["loss"].colour == PALETTE[0] and chart._series["val_loss"].colour == PALETTE[1]
        chart.set_series("run 3", LOSS, colour="#123456")
        assert chart._series["run 3"].colour == "#123456"
        await pilot.pause()


def test_x_and_y_must_be_the_same_length():
    chart = LineChart()
    with pytest.raises(ValueError):
        chart.set_series("loss", [1.0, 2.0], x=[1.0])


async def test_a_new_theme_redraws_in_its_colours():
    app = ChartApp(title="Loss")
    async with app.run_test(size=(40, 10)) as pilot:
        app.theme = "textual-dark"
        chart = app.query_one(CountingChart)
        chart.set_series("loss", LOSS)
        await pilot.pause()
        width, height = chart.size
        before = chart.render_lines(Region(0, 0, width, height))[-1]
        built = chart.builds
        app.theme = "textual-light"
        await pilot.pause()
        after = chart.render_lines(Region(0, 0, width, height))[-1]
        assert chart.builds > built
        assert [s.style for s in before] != [s.style for s in after]


async def test_remove_series_and_points_without_a_finite_x():
    app = ChartApp(title="Loss")
    async with app.run_test(size=(50, 12)) as pilot:
        chart = app.query_one(LineChart)
        chart.set_series("loss", LOSS)
        chart.set_series("lost", [0.1, 0.2], x=[math.nan, math.inf])  # nowhere to draw it
        chart.set_series("val_loss", VAL_LOSS)
        await pilot.pause()
        assert "lost" not in " ".join(text(chart)[:2])
        version = chart.version
        chart.remove_series("val_loss")
        chart.remove_series("never there")
        await pilot.pause()
        assert chart.version == version + 1
        assert chart.series_names == ["loss", "lost"]
        assert "val_loss" not in " ".join(text(chart))


def plot_columns(lines: list[str]) -> tuple[int, int, int, int]:
    """The first and last columns of the x axis's line and of everything drawn above it."""
    axis_row = next(i for i, line in enumerate(lines) if "└" in line)
    axis_line = lines[axis_row]
    axis_first = axis_line.index("└") + 1
    axis_last = max(axis_line.rfind("─"), axis_line.rfind("┬"))
    drawn = [
        column
        for line in lines[:axis_row]
        for column, char in enumerate(line)
        if (0x2800 < ord(char) <= 0x28FF or char in (LATEST, BEST)) and column > axis_first - 2
    ]
    return axis_first, axis_last, min(drawn), max(drawn)


@pytest.mark.parametrize("width", [24, 31, 40, 57, 66, 80])
@pytest.mark.parametrize("points", [1, 2, 3, 4, 10, 187, 700, 3000])
async def test_every_point_lies_over_the_x_axis(width, points):
    """The axis line and the data share one x range: no dot left of its start or right of its end."""
    app = ChartApp(title="Loss")
    async with app.run_test(size=(width, 12)) as pilot:
        chart = app.query_one(LineChart)
        if points > 10:  # batches, in fractional epochs, under the epochs so far
            xs = [3 + (i + 1) / 1875 for i in range(points)]
            chart.set_series("batch loss", [0.3 * math.exp(-i / 200) for i in range(points)], x=xs, markers=False)
        else:
            chart.set_series("loss", LOSS[:points])
            chart.set_series("val_loss", VAL_LOSS[: max(points - 1, 1)])
        await pilot.pause()
        lines = text(chart)
        axis_first, axis_last, first, last = plot_columns(lines)
        assert axis_first <= first and last <= axis_last
        if points > 1:  # one point sits in the middle of the range around it
            assert last == axis_last  # the axis is no longer than the data either


@pytest.mark.parametrize("width", [24, 28, 31, 40, 66])
async def test_fractional_epochs_get_a_few_round_ticks_at_any_width(width):
    """The batches of epoch 4 so far: ticks like 3.1 3.2 3.3, not a comb labelled 3.054 3.144 3.237."""
    app = ChartApp(title="Loss")
    async with app.run_test(size=(width, 10)) as pilot:
        chart = app.query_one(LineChart)
        xs = [3 + (i + 1) / 1875 for i in range(700)]
        chart.set_series("batch loss", [0.1 * math.exp(-i / 200) for i in range(700)], x=xs, markers=False)
        await pilot.pause()
        lines = text(chart)
        axis_line = next(line for line in lines if "└" in line)
        assert 2 <= axis_line.count("┬") <= 5
        assert "┬┬" not in axis_line
        labels = lines[-1].replace("epoch", "").split()
        assert labels and all(len(label) <= 3 for label in labels)  # 3.1, 3.2, 3.3
