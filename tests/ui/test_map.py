"""The map, the confusion matrix's margins and the weight grid: Pilot tests, fed by the fake model server.

:class:`tests.support.fakes.FakeModelServer` stands in for the model process: it answers the
map's and the weight grid's typed requests with fixed arrays, with no Keras and no
process. The layouts' NumPy code and the served model's answers are tested below it.
"""

from __future__ import annotations

import numpy as np
import pytest

from mnist_tui.analysis import class_metrics
from mnist_tui.app import MnistApp
from mnist_tui.screens.confusion import ConfusionScreen
from mnist_tui.screens.map import MapScreen
from mnist_tui.widgets.scatter import ScatterPlot
from mnist_tui.widgets.weights import WeightGrid
from mnist_tui.worker.protocol import Embeddings, Layout, Weights
from tests.support import fakes
from tests.support.apps import map_screen, open_weights, results_app
from tests.support.fakes import FakeModelServer
from tests.support.pilot import wait_until


async def open_map(pilot, screen: MapScreen, results: list | None = None) -> MapScreen:
    """Open the map and wait until its worker has placed everything it will place."""
    await pilot.app.push_screen(screen, results.append if results is not None else None)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    return screen


def legend(screen) -> str:
    return str(screen.query_one("#map-legend").render())


def counted_by_hand(screen: MapScreen) -> np.ndarray:
    """Labels of the points whose cell lies in the box, from the scatter's own cell of each point."""
    plot = screen.query_one(ScatterPlot)
    top, left, bottom, right = plot.box
    scatter = plot.scatter
    inside = [
        i for i in range(len(scatter.rows)) if top <= scatter.rows[i] <= bottom and left <= scatter.cols[i] <= right
    ]
    return np.bincount(screen.predictions.labels[inside].astype(int), minlength=10)


# ------------------------------------------------------------------ the map


async def test_map_shows_pca_then_islands_and_counts_the_selection():
    app = results_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_map(pilot, map_screen())
        assert screen.model.kinds == [Embeddings, Layout]
        assert set(screen.layouts) == {"pca", "islands"} and screen.method == "islands"
        plot = screen.query_one(ScatterPlot)
        current = plot.scatter.cell_of(3)
        top, left, bottom, right = plot.box
        assert top <= current[0] <= bottom and left <= current[1] <= right  # the box starts on this image
        for keys in (["left"] * 6, ["down"] * 4, ["shift+right"] * 9, ["shift+down"] * 5, ["shift+up"] * 2):
            await pilot.press(*keys)
            hand = counted_by_hand(screen)
            assert hand.sum() == len(screen.selected_indices) > 0
            for digit in range(10):
                assert f"{digit} {hand[digit]} of 20 " in legend(screen)
            assert f"Selected {hand.sum()} images" in legend(screen)


async def test_enter_dismisses_with_the_selected_indices_and_escape_with_none():
    app = results_app()
    async with app.run_test(size=(120, 40)) as pilot:
        results: list = []
        screen = await open_map(pilot, map_screen(), results)
        await pilot.press("shift+left", "shift+left")
        expected = screen.query_one(ScatterPlot).selected()
        await pilot.press("enter")
        assert len(results) == 1 and np.array_equal(results[0], expected)
        assert np.all(np.diff(results[0]) > 0)
        await open_map(pilot, map_screen(), results)
        await pilot.press("escape")
        assert results[1] is None


async def test_a_mouse_drag_draws_the_box():
    app = results_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_map(pilot, map_screen())
        plot = screen.query_one(ScatterPlot)
        await pilot.mouse_down(plot, offset=(12, 20))
        await pilot.hover(plot, offset=(2, 5))
        await pilot.mouse_up(plot, offset=(2, 5))
        # offsets count from the widget's outer edge; the border takes one cell
        assert plot.box == (4, 1, 19, 11)
        assert np.array_equal(screen.selected_indices, plot.scatter.select(4, 1, 19, 11))


async def test_k_cycles_the_colours_and_v_the_layouts():
    app = results_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_map(pilot, map_screen())
        plot = screen.query_one(ScatterPlot)
        assert "true digit" in legend(screen) and np.array_equal(plot.point_classes, screen.predictions.labels)
        await pilot.press("k")
        assert "predicted digit" in legend(screen)
        assert np.array_equal(plot.point_classes, screen.predictions.predicted)
        await pilot.press("k")
        assert "confidence" in legend(screen) and "below 50%" in legend(screen)
        assert plot.point_classes.max() <= 3
        await pilot.press("k")
        assert "true digit" in legend(screen)
        await pilot.press("v")
        assert screen.method == "pca" and "PCA" in plot.border_title
        await pilot.press("v")
        assert screen.method == "islands"


async def test_progress_shows_while_the_layout_computes_and_closing_the_map_stops_waiting():
    app = results_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = map_screen(layout_done=False)
        await pilot.app.push_screen(screen)
        await wait_until(pilot, lambda: "40%" in screen.progress)
        assert screen.method == "pca"
        assert "islands: 40% (layout)" in str(screen.query_one("#map-status").render())
        assert Layout in screen.model.waiting  # pushed progress, no polling: the request is still on its way
        await pilot.press("escape")
        await app.workers.wait_for_complete()  # the map's worker was cancelled, and its wait with it
        assert Layout not in screen.model.waiting


async def test_a_model_without_a_penultimate_layer_is_placed_by_its_probabilities():
    app = results_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_map(pilot, map_screen(embeddings_error="this model's layers cannot be read as a graph"))
        assert screen.method == "pca" and Layout not in screen.model.kinds
        status = str(screen.query_one("#map-status").render())
        assert "Placed by the output probabilities: this model's layers cannot be read as a graph." in status
        assert len(screen.query_one(ScatterPlot).selected()) > 0


async def test_the_map_without_a_model_process():
    app = results_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_map(pilot, MapScreen(fakes.fake_predictions(), None, None))
        assert "no model process in this session" in str(screen.query_one("#map-status").render())
        await pilot.press("right", "enter")
        assert app.screen is not screen or len(screen.selected_indices) == 0


async def test_a_reopened_map_asks_the_model_process_again_and_shows_the_islands():
    # The model process keeps the embeddings and the layout (tested below, on a real model):
    # the UI keeps no copy of its own.
    predictions = fakes.fake_predictions()
    model = FakeModelServer(predictions.labels)
    app = results_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_map(pilot, MapScreen(predictions, model, 0))
        await pilot.press("escape")
        screen = await open_map(pilot, MapScreen(predictions, model, 0))
        assert model.kinds == [Embeddings, Layout, Embeddings, Layout]
        assert screen.method == "islands"


# ------------------------------------------------------------------ the confusion matrix's margins


def predictions_for(confusion: np.ndarray):
    """Predictions whose confusion matrix is ``confusion`` (rows true, columns predicted)."""
    from mnist_tui.predictions import Predictions

    pairs = [(t, p) for t in range(10) for p in range(10) for _ in range(int(confusion[t, p]))]
    labels = np.array([t for t, _ in pairs], np.uint8)
    probabilities = np.full((len(pairs), 10), 0.01, np.float32)
    probabilities[np.arange(len(pairs)), [p for _, p in pairs]] = 0.91
    return Predictions(np.zeros((len(pairs), 28, 28), np.uint8), labels, probabilities)


SMALL = np.zeros((10, 10), np.int64)
SMALL[:3, :3] = [[5, 1, 0], [2, 3, 1], [0, 0, 4]]


async def test_margins_match_a_hand_calculation():
    # By hand: precision = 5/7, 3/4, 4/5; recall = 5/6, 3/6, 4/4; F1 = 10/13, 6/10, 8/9;
    # accuracy 12/16; macro F1 over the digits that occur = (10/13 + 6/10 + 8/9) / 3 = 0.7527.
    class Host(MnistApp):
        pass

    app = Host(predictions=predictions_for(SMALL))
    async with app.run_test(size=(120, 40)) as pilot:
        await app.push_screen(
            ConfusionScreen(app.predictions if hasattr(app, "predictions") else predictions_for(SMALL))
        )
        await pilot.pause()
        table = app.screen.query_one("#confusion")

        def cell(row: int, column: int) -> str:
            return str(table.get_cell_at((row, column))).strip()

        assert [cell(11, 1 + d) for d in range(3)] == ["71.4", "75.0", "80.0"]  # precision row
        assert [cell(d, 12) for d in range(3)] == ["83.3%", "50.0%", "100%"]  # recall column
        assert [cell(d, 13) for d in range(3)] == ["76.9%", "60.0%", "88.9%"]  # F1 column
        assert cell(5, 12) == "–" and cell(11, 6) == "–"  # a digit that never occurs
        assert table.border_subtitle == "accuracy 75.00% · macro F1 75.27%"
        metrics = class_metrics(SMALL)
        assert metrics.macro_f1 == pytest.approx((10 / 13 + 6 / 10 + 8 / 9) / 3)
        options = app.screen.query_one("#confused")
        assert [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)] == [
            "1 → 0: 2 images",
            "0 → 1: 1 image",
            "1 → 2: 1 image",
        ]


async def test_a_confused_pair_opens_like_a_cell():
    app = results_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("tab", "down", "enter")
        await pilot.pause()
        screen = app.screen
        assert (screen.view.digit, screen.view.predicted) == (3, 6)
        assert all(screen.predictions.labels[i] == 3 and screen.predictions.predicted[i] == 6 for i in screen.indices)
        assert len(screen.indices) == 5


async def test_moving_onto_a_margin_explains_it():
    app = results_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("c")
        await pilot.pause()
        await pilot.press(*["right"] * 11)
        info = str(app.screen.query_one("#cell-info").render())
        assert info == "Recall of 0: 100.0%: 20 of 20 zeros recognised"
        await pilot.press("down", "enter")
        assert app.screen.query_one("#cell-info") is not None  # enter on a margin stays on the matrix


async def test_tab_to_the_pairs_updates_the_hint_at_once():
    app = results_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("c")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ConfusionScreen)
        true, pred, count = screen.pairs[0]
        before = str(screen.query_one("#cell-info").render())
        await pilot.press("tab")
        await pilot.pause()
        info = str(screen.query_one("#cell-info").render())
        assert info != before
        assert info == f"{count:,} images of a {true} predicted as {pred} · enter to browse them"
        assert screen.query_one("#confusion").cursor_coordinate == (true, pred + 1)


async def test_enter_on_an_empty_cell_says_no_images_and_stays():
    app = results_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("c")
        await pilot.pause()
        screen = app.screen
        counts = screen.predictions.confusion
        true, pred = (int(v) for v in np.argwhere(counts == 0)[0])
        screen.query_one("#confusion").cursor_coordinate = (true, pred + 1)
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen  # no empty view opened
        messages = [n.message for n in app._notifications]
        assert any(m.startswith("No images") for m in messages), messages


async def test_the_matrix_writes_thousands_with_a_separator():
    class Host(MnistApp):
        pass

    big = np.zeros((10, 10), np.int64)
    big[0, 0], big[1, 1], big[1, 0] = 1200, 30, 2
    app = Host(predictions=predictions_for(big))
    async with app.run_test(size=(120, 40)) as pilot:
        await app.push_screen(ConfusionScreen(predictions_for(big)))
        await pilot.pause()
        table = app.screen.query_one("#confusion")
        assert str(table.get_cell_at((0, 1))).strip() == "1,200"
        assert str(table.get_cell_at((10, 11))).strip() == "1,232"  # the total of totals


# ------------------------------------------------------------------ the weight grid


async def test_the_weight_grid_pages_through_units_most_used_first():
    app = results_app()
    async with app.run_test(size=(120, 40)) as pilot:
        model = FakeModelServer(fakes.fake_predictions().labels)
        await open_weights(pilot, model)
        assert model.kinds == [Weights]
        grid = app.screen.query_one(WeightGrid)
        assert grid.maps.shape == (12, 28, 28) and grid.per_page == 8 and grid.pages == 2
        assert grid.captions[0] == "unit 0 · use 3.16"  # the next kernel's rows shrink with the unit number
        info = str(app.screen.query_one("#weights-info").render())
        assert "12 hidden units (dense, 28x28)" in info and "Showing 1-8 of 12 · page 1 of 2" in info
        await pilot.press("pagedown")
        assert grid.page == 1 and "Showing 9-12 of 12 · page 2 of 2" in str(
            app.screen.query_one("#weights-info").render()
        )
        await pilot.press("pagedown")
        assert grid.page == 1
        await pilot.press("pageup")
        assert grid.page == 0


async def test_at_80x24_the_weight_grid_draws_units_at_half_size_to_show_ten_a_page():
    app = results_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_weights(pilot, FakeModelServer(fakes.fake_predictions().labels))
        grid = app.screen.query_one(WeightGrid)
        scale, pool, tile_w, tile_h, columns, rows = grid.geometry()
        assert (pool, tile_w, tile_h) == (2, 14, 8)  # 28x28 pooled to 14x14: 7 lines of half blocks and a caption
        assert grid.per_page == columns * rows == 10 and grid.pages == 2
        assert rows * tile_h <= grid.content_size.height and columns * (tile_w + 1) - 1 <= grid.content_size.width
        drawn = "\n".join("".join(s.text for s in grid.render_line(y)) for y in range(grid.size.height))
        assert "#0 use 3.16" in drawn and "#9 use" in drawn  # every tile keeps its (short) caption
        assert "Showing 1-10 of 12 · page 1 of 2" in str(app.screen.query_one("#weights-info").render())


def test_small_filters_are_enlarged_only_as_far_as_a_page_still_shows_eight():
    grid = WeightGrid()
    grid.show_maps(np.zeros((32, 5, 5), np.float32), [f"filter {i} · use 0.50" for i in range(32)])
    assert grid.geometry(118, 33)[0] == 4  # room enough: 4 cells a weight
    scale, pool, *_, columns, rows = grid.geometry(78, 18)
    assert pool == 1 and scale < 4 and columns * rows >= 8
    grid.show_maps(np.zeros((2, 28, 28), np.float32), ["a", "b"])
    assert grid.geometry(78, 18)[1] == 1  # both fit at full size: no need to draw them smaller
    grid.show_maps(np.zeros((3, 28, 28), np.float32), ["a", "b", "c"])
    assert grid.geometry(78, 18)[1] == 2  # the third would need a page of its own


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (None, "Nothing to show: there is no model process in this session to read weights from."),
        ("no Dense layer over the 784 pixels", "Nothing to show: no Dense layer over the 784 pixels."),
    ],
)
async def test_the_weight_grid_says_why_it_is_empty(model, expected):
    app = results_app()
    async with app.run_test(size=(80, 24)) as pilot:
        handle = None if model is None else FakeModelServer(np.zeros(200), weights=model)
        await open_weights(pilot, handle)
        assert str(app.screen.query_one("#weights-info").render()) == expected


# ------------------------------------------------------------------ the islands layout (NumPy)


def test_islands_keep_separate_blobs_apart():
    from mnist_tui.analysis import knn_label_agreement, pca_2d
    from mnist_tui.worker.layouts import islands_layout

    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(6), 60)
    centres = rng.normal(0, 1, (6, 20)) * 4
    points = centres[labels] + rng.normal(0, 1, (len(labels), 20))
    seen: list[float] = []
    layout = islands_layout(points, epochs=60, progress=lambda fraction, stage: seen.append(fraction))
    assert layout.shape == (360, 2) and layout.dtype == np.float32
    assert knn_label_agreement(layout, labels) > 0.98
    assert seen == sorted(seen) and seen[-1] == 1.0
    assert np.array_equal(layout, islands_layout(points, epochs=60))  # seeded: the same every time
    assert knn_label_agreement(pca_2d(points), labels) < knn_label_agreement(layout, labels) + 1e-9


def test_the_layout_cache_keeps_each_layout_in_memory_and_in_the_runs_folder(tmp_path):
    from mnist_tui.files import temporaries
    from mnist_tui.worker.layouts import LayoutCache, compute_layout

    rng = np.random.default_rng(1)
    points = np.r_[rng.normal(0, 1, (40, 5)), rng.normal(8, 1, (40, 5))].astype(np.float32)
    stages: list[str] = []
    cache = LayoutCache()
    method, layout = cache.get(points, "islands", "test set", tmp_path, lambda fraction, stage: stages.append(stage))
    assert method == "islands" and layout.shape == (80, 2) and "layout" in stages and stages[-1] == "done"
    assert (tmp_path / "map-islands.npy").is_file() and temporaries(tmp_path) == []
    stages.clear()
    assert cache.get(points, "islands", "test set", tmp_path, lambda f, stage: stages.append(stage))[1] is layout
    assert stages == ["done"]  # from memory: nothing computed
    (tmp_path / "map-islands.npy").unlink()
    assert cache.get(points, "islands", "test set", tmp_path)[1] is layout  # memory first, file second
    cache.get(points, "islands", "other key", tmp_path)  # computed again, and written
    method, again = LayoutCache().get(points, "islands", "test set", tmp_path)  # a new process: from the file
    assert np.array_equal(again, layout)
    _, fewer = LayoutCache().get(points[:30], "islands", "fewer", tmp_path)  # the file is for 80 points
    assert fewer.shape == (30, 2)
    with pytest.raises(ValueError, match="unknown layout method"):
        compute_layout(points, "tsne")


# ------------------------------------------------------------------ the served model's answers (real Keras)


@pytest.mark.keras
def test_the_served_model_embeds_lays_out_and_reads_weights_on_tiny_models(tmp_path):
    from types import SimpleNamespace

    import keras

    from mnist_tui.worker.explain import ExplainError
    from mnist_tui.worker.served import ServedModel

    mlp = keras.Sequential(
        [
            keras.Input(shape=(28, 28)),
            keras.layers.Flatten(),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    served = ServedModel(SimpleNamespace(model=mlp, name="mlp"))
    images = np.stack([fakes.digit_image(d) for d in range(10)] * 3)
    embeddings = served.answer(Embeddings(1, images))
    assert embeddings.shape == (30, 8) and embeddings.dtype == np.float32
    hidden = keras.Model(mlp.inputs, mlp.layers[1].output)
    assert np.allclose(embeddings, np.asarray(hidden(images.astype(np.float32) / 255)), atol=1e-5)
    assert served.answer(Embeddings(2, images.copy())) is embeddings  # the same images: embedded once
    weights = served.answer(Weights(3))
    assert weights.kind == "dense" and weights.kernel.shape == (784, 8) and weights.next_kernel.shape == (8, 10)
    stages: list[str] = []
    layout = served.answer(Layout(4, images, "islands", tmp_path), lambda fraction, stage: stages.append(stage))
    assert layout.method == "islands" and layout.points.shape == (30, 2) and "layout" in stages
    stages.clear()
    again = served.answer(Layout(5, images, "islands", tmp_path), lambda fraction, stage: stages.append(stage))
    assert again.points is layout.points and stages == ["done"]  # one cache: nothing embedded or computed again
    assert (tmp_path / "map-islands.npy").is_file()

    cnn = keras.Sequential(
        [
            keras.Input(shape=(28, 28)),
            keras.layers.Reshape((28, 28, 1)),
            keras.layers.Conv2D(4, 5),
            keras.layers.Conv2D(6, 3),
            keras.layers.Flatten(),
            keras.layers.Dense(10),
        ]
    )
    weights = ServedModel(SimpleNamespace(model=cnn)).answer(Weights(6))
    assert weights.kind == "conv" and weights.kernel.shape == (5, 5, 1, 4)
    assert weights.next_kernel.shape == (3, 3, 4, 6)

    rows = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Dense(10)])  # a Dense over rows, not pixels
    with pytest.raises(ExplainError, match="no Dense layer over the 784 pixels and no Conv2D layer"):
        ServedModel(SimpleNamespace(model=rows)).answer(Weights(7))
