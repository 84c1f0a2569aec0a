"""``--model PATH`` opened for the first time: the test images at once, the predictions filling in.

The app is given the test images to predict (``to_score``) and the fake model server,
which stands for the model process: ``ready = False`` while it "loads the model", a held
:class:`Predict` while it predicts, an error when the model cannot be loaded. Snapshots
of the waiting and failed states at 80x24 and 120x40; regenerate with
``pytest tests/ui/test_model_file.py --snapshot-update`` and look at every changed SVG.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from textual.widgets import Digits, Static

from mnist_tui.app import MnistApp
from mnist_tui.runs import data_fingerprint
from mnist_tui.scored import ToScore, cache_file
from mnist_tui.screens.confusion import ConfusionScreen
from mnist_tui.screens.results import ResultsScreen
from mnist_tui.widgets.image_list import ImageList
from mnist_tui.widgets.prediction import PredictionPanel
from mnist_tui.widgets.why import WhyPanel
from mnist_tui.worker.protocol import Predict
from tests.support import fakes
from tests.support.pilot import wait_until

SIZES = [(80, 24), (120, 40)]
BAD_SHAPE = "/models/cnn.keras: model expects input (32, 32), not 28x28 images"


def loading_server(**kwargs) -> fakes.FakeModelServer:
    """The fake model process, still loading its model until the test sets ``ready``."""
    server = fakes.FakeModelServer(**kwargs)
    server.ready = False
    return server


def model_file_app(server, cache_dir: Path | None = None, checksum: str | None = None) -> MnistApp:
    p = fakes.fake_predictions()
    job = ToScore(Path("/models/cnn.keras"), p.images, p.labels, checksum, cache_dir)
    app = MnistApp(open_model=lambda: server, to_score=job)  # the model "starts" after the first frame
    app.animation_level = "none"
    return app


def texts(screen: ResultsScreen) -> tuple[str, str, str]:
    """The summary, the prediction panel's verdict and the list's first row, as plain text."""
    summary = str(screen.query_one("#summary", Static).render())
    verdict = str(screen.query_one("#prediction-verdict", Static).render())
    row = screen.query_one(ImageList).render_line(0).text
    return summary, verdict, row


def said(app) -> list[str]:
    return [n.message for n in app._notifications]


# ---------------------------------------------------------------------- snapshots


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_first_image_waits_for_its_prediction(snap_compare, size):
    async def settle(pilot):
        await pilot.pause(0.1)  # the digit drawn for the panel's final size

    assert snap_compare(model_file_app(loading_server()), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_a_model_that_cannot_load_says_why(snap_compare, size):
    async def failed(pilot):
        await wait_until(pilot, lambda: pilot.app.screen.no_predictions is not None)
        await pilot.pause()

    server = fakes.FakeModelServer(errors={Predict: BAD_SHAPE})
    assert snap_compare(model_file_app(server), terminal_size=size, run_before=failed)


# ---------------------------------------------------------------------- behaviour


async def test_the_predictions_fill_in_when_they_come(tmp_path):
    server = loading_server()
    app = model_file_app(server, cache_dir=tmp_path, checksum="c0ffee")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, ResultsScreen)
        await pilot.press("right")  # browsing works while waiting: index 1, a 1
        summary, verdict, row = texts(screen)
        assert "Predicting the 200 test images · loading the model…" in summary
        assert verdict == "predicting…"
        assert screen.query_one(Digits).value == ""  # no predicted digit, not a made-up one
        assert row.split() == ["0", "0", "·", "·"]
        assert screen.sub_title == "cnn.keras · predicting…"
        assert app.session.last_results is None  # nothing else sees the stand-in
        assert screen.model is server and screen.query_one(WhyPanel).model is server  # started after the first frame

        gate = server.hold(Predict)
        server.ready = True  # the model has loaded: the test images are asked for
        await wait_until(pilot, lambda: Predict in server.waiting)
        await pilot.pause()
        assert "loading the model" in texts(screen)[0]  # no batch answered yet
        gate.set()
        await wait_until(pilot, lambda: screen.has_predictions)
        await pilot.pause()

        p = fakes.fake_predictions()
        predicted = server.predict(p.images)
        summary, verdict, row = texts(screen)
        accuracy = float((predicted.argmax(axis=1) == p.labels).mean())
        assert summary.startswith(f"Test accuracy {accuracy:.2%}")
        assert screen.current == 1  # still on the image being looked at
        assert screen.query_one(Digits).value == str(int(predicted[1].argmax()))
        assert "correct" in verdict or "wrong" in verdict
        assert row.replace("✗", "").split()[:3] == ["0", "0", str(int(predicted[0].argmax()))]
        assert screen.sub_title == f"cnn.keras · test accuracy {accuracy:.2%}"
        assert app.session.last_results is not None
        assert app.session.last_results.predictions is screen.predictions
        np.testing.assert_allclose(screen.predictions.probabilities, predicted, rtol=1e-6)
        # kept by the file's checksum for the next open
        kept = cache_file("c0ffee", data_fingerprint(p.images, p.labels), tmp_path)
        np.testing.assert_allclose(np.load(kept), predicted, rtol=1e-6)

        await pilot.press("e")  # the keys that waited work now
        assert screen.view.mistakes_only


async def test_keys_that_need_predictions_say_they_wait():
    app = model_file_app(loading_server())
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        for key in ("e", "o", "c", "p", "w", "slash", "G", "b"):
            await pilot.press(key)
        await pilot.pause()
        assert app.screen is screen  # no matrix, map, grid, query or relabel dialog
        assert not screen.view.mistakes_only and screen.view.order == "dataset"
        assert not screen.query_one(WhyPanel).display
        messages = said(app)
        assert len(messages) == 8
        assert all("waits for the predictions: loading the model…" in m for m in messages)
        assert messages[0].startswith("The mistakes filter")
        # what needs no predictions works: a digit (by its true label), the next image
        await pilot.press("3", "right")
        assert [int(screen.predictions.labels[i]) for i in screen.indices[:2]] == [3, 3]
        assert screen.current == int(screen.indices[1])


async def test_a_model_that_cannot_load_says_why_and_keys_say_there_are_none():
    app = model_file_app(fakes.FakeModelServer(errors={Predict: BAD_SHAPE}))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.no_predictions is not None)
        summary, verdict, _ = texts(screen)
        assert BAD_SHAPE in summary
        assert verdict == "none"
        assert screen.has_class("-failed")
        await pilot.press("c")
        await pilot.pause()
        assert not isinstance(app.screen, ConfusionScreen)
        assert said(app)[-1] == f"The confusion matrix needs predictions, and there are none: {BAD_SHAPE}"
        await pilot.press("right")  # the images stay browsable
        assert screen.current == 1
        assert screen.query_one(PredictionPanel).query_one(Digits).value == ""


async def test_a_new_run_before_the_predictions_came_closes_the_model():
    server = loading_server()
    app = model_file_app(server)
    app.trainer_factory = lambda config: fakes.ScriptedTrainer(fakes.LOADING, hold=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        app.start_training(app.config)
        await pilot.pause()
        assert "new run started" in (screen.no_predictions or "")
        assert app.predicting is None
        assert not [w for w in app.workers if w.group == "score-file" and not w.is_finished]


async def test_kept_predictions_show_at_once_and_their_model_starts_after_the_first_frame():
    server = fakes.FakeModelServer()
    started: list[int] = []

    def open_model():
        started.append(len(app.screen_stack))
        return server

    app = MnistApp(
        predictions=fakes.fake_predictions(), title="cnn.keras · test accuracy 87.50%", open_model=open_model
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: started)  # after the first frame, and only then
        screen = app.screen
        assert started == [1] and screen.model is server
        assert app.session.last_results is not None and app.session.last_results.model is server
        assert screen.has_predictions and not server.requests  # nothing to predict: they were kept
        await pilot.press("d")  # the model is there to draw against
        assert type(app.screen).__name__ == "DrawScreen"
