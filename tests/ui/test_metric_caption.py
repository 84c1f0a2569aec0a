"""The "This epoch" panel's captions: the longest that fits, never a number cut by an ellipsis."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Label

from mnist_tui.widgets.metric import MetricSpark


class OneMetric(App):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.width = width

    def compose(self) -> ComposeResult:
        spark = MetricSpark("accuracy", short="acc", higher_is_better=True, percent=True)
        spark.styles.width = self.width
        yield spark


@pytest.mark.parametrize(
    ("width", "expected"),
    [
        (40, "accuracy 91.40% · best 95.00%"),
        (26, "acc 91.40% · best 95.00%"),
        (23, "acc 91.40% best 95.00%"),
        (14, "acc 91.40%"),
    ],
)
async def test_caption_fits_the_width(width: int, expected: str) -> None:
    app = OneMetric(width)
    async with app.run_test(size=(60, 10)) as pilot:
        spark = app.query_one(MetricSpark)
        spark.set_values([0.5, 0.95, 0.914])
        await pilot.pause()
        caption = str(spark.query_one(Label).render())
        assert caption == expected
        assert len(caption) <= width


async def test_caption_follows_a_resize() -> None:
    app = OneMetric(14)
    async with app.run_test(size=(60, 10)) as pilot:
        spark = app.query_one(MetricSpark)
        spark.set_values([0.95, 0.914])
        await pilot.pause()
        assert str(spark.query_one(Label).render()) == "acc 91.40%"
        spark.styles.width = 40
        await pilot.pause()
        await pilot.pause()
        assert str(spark.query_one(Label).render()) == "accuracy 91.40% · best 95.00%"
