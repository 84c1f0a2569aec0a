"""Pilot tests of the results browser's w, n and o keys, with the fake model server (no process, no Keras)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from mnist_tui.predictions import ViewFilter
from mnist_tui.widgets.model_panel import NO_MODEL, NOT_SERVED
from mnist_tui.widgets.neighbours import NeighboursPanel
from mnist_tui.widgets.why import WhyPanel
from mnist_tui.worker.protocol import Neighbours, Why
from tests.support import fakes
from tests.support.apps import explain_app, settle
from tests.support.fakes import FakeModelServer


def strip_text(panel) -> str:
    """The panel's drawn lines as plain text."""
    width, height = panel.size
    return "\n".join("".join(segment.text for segment in panel.render_line(y)) for y in range(height))


async def test_o_cycles_dataset_confidence_suspicious_and_back():
    app = explain_app(FakeModelServer())
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
    model = FakeModelServer()
    app = explain_app(model)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        why = screen.query_one(WhyPanel)
        assert not why.display and model.requests == []
        await pilot.press("w")
        await settle(pilot, screen)
        assert why.display and screen.has_class("-explain")
        p = screen.predictions
        assert p.correct[0]
        assert model.kinds == [Why]
        (request,) = model.requests
        assert np.array_equal(request.image, p.images[0])
        assert request.classes == (int(p.predicted[0]),) and request.steps == 32
        assert why.answer.shape == (1, 28, 28)
        assert f"predicted {p.predicted[0]}" in strip_text(why)
        await pilot.press(*["right"] * 5)  # image 5 is a mistake: the true class's map too
        await settle(pilot, screen)
        assert not p.correct[5]
        assert model.requests[-1].classes == (int(p.predicted[5]), int(p.labels[5]))
        assert why.answer.shape == (2, 28, 28)
        text = strip_text(why)
        assert f"predicted {p.predicted[5]}" in text and f"true {p.labels[5]}" in text
        asked = len(model.requests)
        await pilot.press(*["left"] * 5)
        await settle(pilot, screen)
        assert len(model.requests) == asked  # every image was seen: all from the cache
        await pilot.press("w")
        assert not why.display and not screen.has_class("-explain")
        await pilot.press("right")
        await pilot.pause()
        assert len(model.requests) == asked  # a hidden panel asks nothing


async def test_n_embeds_the_training_set_once_then_finds_neighbours():
    model = FakeModelServer(chunks=3)
    app = explain_app(model)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        panel = screen.query_one(NeighboursPanel)
        await pilot.press("n")
        await settle(pilot, screen)
        # one request: the model process embeds the training set (with progress) where its run found the data
        assert model.kinds == [Neighbours] and model.requests[0].k == 6
        assert [fraction for _, fraction, _ in model.progress] == pytest.approx([1 / 3, 2 / 3, 1.0])
        text = strip_text(panel)
        assert "0.95 #7" in text and "0.70 #5007" in text
        await pilot.press("right")
        await settle(pilot, screen)
        assert model.kinds == [Neighbours, Neighbours] and len(model.progress) == 3  # embedded once
        assert np.array_equal(model.requests[-1].image, screen.predictions.images[1])


async def test_the_embedding_progress_shows_while_the_first_neighbours_wait():
    model = FakeModelServer(chunks=4)
    gate = model.hold(Neighbours)
    app = explain_app(model)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("n")
        panel = app.screen.query_one(NeighboursPanel)
        assert panel.status == "Embedding the training images (once per model)…"
        gate.set()
        await settle(pilot, app.screen)
        assert panel.answer is not None
    texts = [text for _, _, text in model.progress]
    assert texts == ["Embedding the training images"] * 4


async def test_both_panels_and_the_narrow_layout():
    app = explain_app(FakeModelServer())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await pilot.press("w", "n")
        await settle(pilot, screen)
        assert not screen.query_one("#digit-panel").display or screen.query_one("#digit-panel").region.width == 0
        info = screen.query_one("#info-panel")
        assert (str(info.border_title), str(info.border_subtitle)) == ("index 0", "1 of 200")
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
            FakeModelServer(errors={Why: "The model process was killed by SIGKILL."}),
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
    model = FakeModelServer(errors={Neighbours: message})
    app = explain_app(model)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("n")
        await settle(pilot, app.screen)
        panel = app.screen.query_one(NeighboursPanel)
        assert panel.status == message and panel.has_class("-error")


async def test_an_empty_view_says_so():
    app = explain_app(FakeModelServer())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("w", "2", "e")  # even digits are never misread in the fakes
        await pilot.pause()
        assert app.screen.current is None
        assert app.screen.query_one(WhyPanel).status == "No image in this view."


async def test_browsing_fast_asks_only_for_the_image_shown():
    model = FakeModelServer()
    gate = model.hold(Why)  # a slow model process
    app = explain_app(model)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        await pilot.press("w")
        await pilot.pause(0.05)  # the first request is on its way, held
        await pilot.press(*["right"] * 6)
        assert screen.query_one(WhyPanel).pending
        gate.set()
        await settle(pilot, screen)
        assert model.kinds == [Why, Why]
        assert [
            np.array_equal(request.image, screen.predictions.images[i]) for request, i in zip(model.requests, (0, 6))
        ] == [True, True]


async def test_a_model_still_loading_says_so_then_answers():
    from mnist_tui.widgets.model_panel import LOADING

    model = FakeModelServer()
    gate = model.hold(Why)
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
        gate.set()
        await settle(pilot, app.screen)
        assert why.answer is not None and why.status == ""


async def test_quitting_while_a_request_is_held_cancels_its_wait():
    model = FakeModelServer()
    model.hold(Neighbours)  # never released: the app must not wait for it
    app = explain_app(model)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("n")
        for _ in range(100):
            await pilot.pause(0.01)
            if Neighbours in model.waiting:
                break
        assert Neighbours in model.waiting
        started = time.monotonic()
    assert time.monotonic() - started < 2  # the app did not wait for the held request
    # The panel's worker was cancelled, and with it the wait: the held request lets go at
    # its next look at the cancel flag (every 10 ms), long before the fake's hold limit.
    deadline = time.monotonic() + 1.0
    while Neighbours in model.waiting and time.monotonic() < deadline:
        time.sleep(0.01)
    assert Neighbours not in model.waiting


async def test_at_80x24_w_then_n_shows_the_nearest_images_whole_and_the_digit_keeps_its_caption():
    app = explain_app(FakeModelServer())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        why, panel = screen.query_one(WhyPanel), screen.query_one(NeighboursPanel)
        await pilot.press("w")
        await settle(pilot, screen)
        assert why.display and "n: nearest images instead" in str(why.border_title)
        await pilot.press("n")
        await settle(pilot, screen)
        assert panel.display and not why.display  # n takes w's place: both would not fit
        browser = screen.query_one("#browser").region
        assert browser.contains_region(panel.region)  # all of it on screen, no scrolling
        text = strip_text(panel)
        assert "0.95 #7" in text and "0.70 #5007" in text  # every label and similarity
        assert "w: why instead" in str(panel.border_title)
        label = screen.query_one("#prediction-label")
        assert "Predicted" in "".join(s.text for s in label.render_line(0))  # the big digit's caption
        await pilot.press("w")
        await settle(pilot, screen)
        assert why.display and not panel.display


async def test_a_terminal_shrinking_under_both_panels_keeps_the_one_shown_last():
    app = explain_app(FakeModelServer())
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        why, panel = screen.query_one(WhyPanel), screen.query_one(NeighboursPanel)
        await pilot.press("w", "n")
        await settle(pilot, screen)
        assert why.display and panel.display and str(why.border_title) == "Why"
        await pilot.resize_terminal(80, 24)
        await settle(pilot, screen)
        assert panel.display and not why.display
        assert screen.query_one("#browser").region.contains_region(panel.region)
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert str(panel.border_title) == "Nearest training images"  # room for both again: no turns
