"""Snapshots of LineChart alone, at 80x24 and 120x40, fed with a run's epoch and batch curves.

Regenerate with ``pytest tests/ui/test_chart_snapshots.py --snapshot-update`` and look
at every changed SVG before committing it.
"""

from __future__ import annotations

import math

import pytest
from textual.app import App, ComposeResult

from mnist_tui.widgets.chart import LineChart

SIZES = [(80, 24), (120, 40)]

# A ten-epoch run of the reference model: validation loss bottoms out at epoch 6.
LOSS = [0.2589, 0.1142, 0.0791, 0.0598, 0.0466, 0.0378, 0.0310, 0.0262, 0.0221, 0.0187]
VAL_LOSS = [0.1338, 0.0978, 0.0822, 0.0745, 0.0712, 0.0683, 0.0701, 0.0698, 0.0735, 0.0762]
ACCURACY = [0.9251, 0.9661, 0.9762, 0.9817, 0.9855, 0.9882, 0.9903, 0.9918, 0.9931, 0.9942]
VAL_ACCURACY = [0.9589, 0.9703, 0.9748, 0.9771, 0.9785, 0.9796, 0.9792, 0.9801, 0.9797, 0.9790]
STEPS = 300  # batches per epoch, enough for a cloud of batch losses


def batch_losses() -> tuple[list[float], list[float]]:
    """A deterministic noisy batch loss and its position in epochs (no random generator)."""
    xs = [i / STEPS for i in range(10 * STEPS)]
    ys = [
        0.25 * math.exp(-x / 1.5) + 0.03 + 0.02 * abs(math.sin(i * 12.9898) * 43758.5453 % 1) for i, x in enumerate(xs)
    ]
    return ys, xs


def loss(chart: LineChart) -> None:
    chart.set_series("loss", LOSS)
    chart.set_series("val_loss", VAL_LOSS)


def accuracy(chart: LineChart) -> None:
    chart.set_series("accuracy", ACCURACY)
    chart.set_series("val_accuracy", VAL_ACCURACY)


def batches(chart: LineChart) -> None:
    ys, xs = batch_losses()
    chart.set_series("batch loss", ys, x=xs, markers=False)
    chart.set_series("val_loss", VAL_LOSS)


def one_epoch(chart: LineChart) -> None:
    chart.set_series("loss", LOSS[:1])
    chart.set_series("val_loss", VAL_LOSS[:1])


def nothing(chart: LineChart) -> None:
    pass


STATES = {
    "loss": (loss, {"title": "Loss", "y_label": "loss"}, False),
    "loss-log": (loss, {"title": "Loss", "y_label": "loss"}, True),
    "accuracy": (accuracy, {"title": "Accuracy", "percent": True, "higher_is_better": True}, False),
    "batches": (batches, {"title": "Batch loss"}, False),
    "one-epoch": (one_epoch, {"title": "Loss"}, False),
    "empty": (nothing, {"title": "Loss"}, False),
}


class ChartApp(App):
    CSS = "LineChart { padding: 0 1; }"

    def __init__(self, fill, options: dict, log: bool) -> None:
        super().__init__()
        self.fill, self.options, self.log_y = fill, options, log

    def compose(self) -> ComposeResult:
        yield LineChart(**self.options)

    def on_mount(self) -> None:
        chart = self.query_one(LineChart)
        self.fill(chart)
        chart.log_y = self.log_y


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("state", list(STATES))
def test_line_chart(snap_compare, state, size):
    fill, options, log = STATES[state]
    app = ChartApp(fill, options, log)
    app.animation_level = "none"
    assert snap_compare(app, terminal_size=size)
