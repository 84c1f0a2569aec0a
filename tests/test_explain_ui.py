"""Pilot tests of the results browser's w, n and o keys, with a fake model handle (no process, no Keras)."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_tui.app import MnistApp
from mnist_tui.predictions import ViewFilter
from mnist_tui.screens.results import ResultsScreen
from mnist_tui.widgets.model_panel import NO_MODEL, NOT_SERVED
from mnist_tui.widgets.neighbours import CHUNK, NeighboursPanel
from mnist_tui.widgets.why import WhyPanel
from mnist_tui.worker.protocol import ModelServerError

from . import fakes

TRAIN_SIZE = 60_000


class ExplainModel:
    """Answers the model process's explanation requests with fixed arrays, at once.

    Why-maps: the image times +1 on its left half and -1 on its right half, scaled by
    ``1 + class / 10``. Neighbours: six training "images" (seven-segment digits) whose
    labels are the test image's predicted class, the true class and others.
    """

    name = "explain-fake"

    def __init__(self, *, errors: dict[str, str] | None = None, chunks: int = 2) -> None:
        self.calls: list[tuple] = []
        self.errors = errors or {}
        self.chunks = chunks
        self.prepared = 0

    def predict(self, images: np.ndarray) -> np.ndarray:
        return np.full((len(images), 10), 0.1, np.float32)

    def request(self, op: str, *args, timeout: float | None = None):
        self.calls.append((op, *args))
        if op in self.errors:
            raise ModelServerError(self.errors[op])
        if op == "why":
            image, classes, _steps = args
            sign = np.where(np.arange(28) < 14, 1.0, -1.0)[None, :]
            x = np.asarray(image, np.float32) / 255
            return np.stack([x * sign * (1 + c / 10) for c in classes]).astype(np.float32)
        if op == "neighbours_prepare":
            self.prepared = min(self.prepared + 1, self.chunks)
            return self.prepared * TRAIN_SIZE // self.chunks, TRAIN_SIZE
        if op == "neighbours":
            _image, k, _data = args
            labels = np.array([3, 3, 8, 5, 3, 9][:k])
            return {
                "indices": np.arange(k) * 1000 + 7,
                "similarities": np.linspace(0.95, 0.70, k).astype(np.float32),
                "labels": labels,
                "images": np.stack([fakes.digit_image(int(d)) for d in labels]),
            }
        raise ModelServerError(f"unknown request {op!r}")


def explain_app(model=None) -> MnistApp:
    app = MnistApp(predictions=fakes.fake_predictions(), model=model)
    app.animation_level = "none"
    return app


async def settle(pilot, screen: ResultsScreen) -> None:
    """Wait until every shown panel has its answer (the fake answers at once, on a thread)."""
    for _ in range(200):
        await pilot.pause()
        if not any(panel.pending for panel in screen.query("ModelPanel") if panel.display):
            await pilot.pause()
            return
    raise AssertionError("a panel never got its answer")


def strip_text(panel) -> str:
    """The panel's drawn lines as plain text."""
    width, height = panel.size
    return "\n".join("".join(segment.text for segment in panel.render_line(y)) for y in range(height))


async def test_o_cycles_dataset_confidence_suspicious_and_back():
    app = explain_app(ExplainModel())
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        p = screen.predictions
        await pilot.press("right", "right")
        assert screen.current == 2
        await pilot.press("o")
        assert screen.view == ViewFilter(order="confidence") == ViewFilter(by_confidence=True)
        assert screen.indices.tolist() == p.by_confidence.tolist()
        await pilot.press("o")
        assert screen.view.order == "suspicious"
        given = p.probabilities[np.arange(len(p)), p.labels]
        assert screen.indices.tolist() == np.argsort(given, kind="stable").tolist()
        assert np.all(np.diff(given[screen.indices]) >= 0)
        assert screen.current == 2  # the image shown stays
        subtitle = str(screen.query_one("#digit-panel").border_subtitle)
        assert "suspicious labels first" in subtitle
        # the first rows are images whose label the model doubts: all mistakes in the fakes
        assert not p.correct[screen.indices[:10]].any()
        await pilot.press("e")  # a filter keeps the order
        assert screen.view == ViewFilter(mistakes_only=True, order="suspicious")
        await pilot.press("o")
        assert screen.view == ViewFilter(mistakes_only=True)
        assert screen.indices.tolist() == np.flatnonzero(~p.correct).tolist()


async def test_w_shows_why_maps_and_caches_them():
    model = ExplainModel()
    app = explain_app(model)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        why = screen.query_one(WhyPanel)
        assert not why.display and model.calls == []
        await pilot.press("w")
        await settle(pilot, screen)
        assert why.display and screen.has_class("-explain")
        p = screen.predictions
        assert p.correct[0]
        assert [call[0] for call in model.calls] == ["why"]
        _, image, classes, steps = model.calls[0]
        assert np.array_equal(image, p.images[0]) and classes == [int(p.predicted[0])] and steps == 32
        assert why.answer.shape == (1, 28, 28)
        assert f"predicted {p.predicted[0]}" in strip_text(why)
        await pilot.press(*["right"] * 5)  # image 5 is a mistake: the true class's map too
        await settle(pilot, screen)
        assert not p.correct[5]
        assert model.calls[-1][2] == [int(p.predicted[5]), int(p.labels[5])]
        assert why.answer.shape == (2, 28, 28)
        text = strip_text(why)
        assert f"predicted {p.predicted[5]}" in text and f"true {p.labels[5]}" in text
        asked = len(model.calls)
        await pilot.press(*["left"] * 5)
        await settle(pilot, screen)
        assert len(model.calls) == asked  # every image was seen: all from the cache
        await pilot.press("w")
        assert not why.display and not screen.has_class("-explain")
        await pilot.press("right")
        await pilot.pause()
        assert len(model.calls) == asked  # a hidden panel asks nothing


async def test_n_embeds_the_training_set_once_then_finds_neighbours():
    model = ExplainModel(chunks=3)
    app = explain_app(model)
    app.config = app.config.__class__(data=None)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        panel = screen.query_one(NeighboursPanel)
        await pilot.press("n")
        await settle(pilot, screen)
        ops = [call[0] for call in model.calls]
        assert ops == ["neighbours_prepare"] * 3 + ["neighbours"]
        assert model.calls[0] == ("neighbours_prepare", None, CHUNK)  # small steps: other requests get their turn
        assert model.calls[-1][2] == 6
        text = strip_text(panel)
        assert "0.95 #7" in text and "0.70 #5007" in text
        await pilot.press("right")
        await settle(pilot, screen)
        assert [call[0] for call in model.calls[4:]] == ["neighbours"]  # prepared once
        assert np.array_equal(model.calls[-1][1], screen.predictions.images[1])


async def test_both_panels_and_the_narrow_layout():
    app = explain_app(ExplainModel())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await pilot.press("w", "n")
        await settle(pilot, screen)
        assert not screen.query_one("#digit-panel").display or screen.query_one("#digit-panel").region.width == 0
        assert "#0 · 1 of 200" in str(screen.query_one("#info-panel").border_subtitle)
        why = screen.query_one(WhyPanel)
        assert why.region.right <= 80 and screen.query_one("#info-panel").region.right <= 80
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert screen.query_one("#digit-panel").region.width > 0
        assert str(screen.query_one("#info-panel").border_subtitle) == ""


@pytest.mark.parametrize(
    "model, expected",
    [
        (None, NO_MODEL),
        (fakes.TemplateModel(), NOT_SERVED),
        (
            ExplainModel(errors={"why": "The model process was killed by SIGKILL."}),
            "The model process was killed by SIGKILL.",
        ),
    ],
    ids=["no-model", "not-served", "process-gone"],
)
async def test_why_says_why_there_is_no_map(model, expected):
    app = explain_app(model)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("w")
        await settle(pilot, app.screen)
        why = app.screen.query_one(WhyPanel)
        assert why.answer is None and why.status == expected
        assert expected.split(":")[0][:40] in strip_text(why).replace("\n", " ")


async def test_neighbours_say_when_the_model_has_no_hidden_layer():
    message = "This model has no hidden layer: its output reads the pixels directly."
    model = ExplainModel(errors={"neighbours_prepare": message})
    app = explain_app(model)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("n")
        await settle(pilot, app.screen)
        panel = app.screen.query_one(NeighboursPanel)
        assert panel.status == message and panel.has_class("-error")


async def test_an_empty_view_says_so():
    app = explain_app(ExplainModel())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("w", "2", "e")  # even digits are never misread in the fakes
        await pilot.pause()
        assert app.screen.current is None
        assert app.screen.query_one(WhyPanel).status == "No image in this view."


class GatedModel(ExplainModel):
    """Holds every answer until the test lets it go: a slow model process."""

    def __init__(self) -> None:
        super().__init__()
        import threading

        self.gate = threading.Event()

    def request(self, op, *args, timeout=None):
        self.gate.wait(10)
        return super().request(op, *args, timeout=timeout)


async def test_browsing_fast_asks_only_for_the_image_shown():
    model = GatedModel()
    app = explain_app(model)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        await pilot.press("w")
        await pilot.pause(0.05)  # the first request is on its way, held
        await pilot.press(*["right"] * 6)
        assert screen.query_one(WhyPanel).pending
        model.gate.set()
        await settle(pilot, screen)
        assert [np.array_equal(call[1], screen.predictions.images[i]) for call, i in zip(model.calls, (0, 6))] == [
            True,
            True,
        ]
        assert len(model.calls) == 2


async def test_a_model_still_loading_says_so_then_answers():
    from mnist_tui.widgets.model_panel import LOADING

    model = GatedModel()
    model.ready = False  # a saved model's process importing TensorFlow
    app = explain_app(model)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("w")
        why = app.screen.query_one(WhyPanel)
        for _ in range(100):
            await pilot.pause(0.01)
            if why.status == LOADING:
                break
        assert why.status == LOADING and why.pending
        model.gate.set()
        await settle(pilot, app.screen)
        assert why.answer is not None and why.status == ""
