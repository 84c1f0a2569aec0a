"""Runs recorded from the app, the runs screen opened with R, and a recorded run reopened in the browser."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_tui import recorded
from mnist_tui.app import MnistApp, OpenedResults
from mnist_tui.config import TrainConfig
from mnist_tui.data import MnistData
from mnist_tui.recorded import RecordingTrainer
from mnist_tui.runs import FAILED, FINISHED, INTERRUPTED, open_store
from mnist_tui.screens.results import ResultsScreen
from mnist_tui.screens.runs import RunsScreen
from mnist_tui.screens.training import TrainingScreen
from tests.support import fakes
from tests.support.pilot import wait_until


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_TUI_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def recording_app(events) -> MnistApp:
    def factory(config: TrainConfig):
        return RecordingTrainer(fakes.ScriptedTrainer(events), config)

    return MnistApp(fakes.CONFIG, trainer_factory=factory, threaded=False)


class ServedModel(fakes.TemplateModel):
    """Stands in for a model process started for a recorded run."""

    closed = False

    def close(self) -> None:
        ServedModel.closed = True


async def test_a_run_is_recorded_and_reopens_from_the_runs_screen(home, monkeypatch):
    predictions = fakes.fake_predictions()
    app = recording_app(fakes.finished(model=fakes.TemplateModel()))
    monkeypatch.setattr(recorded.RemoteModel, "open", classmethod(lambda cls, path, name, **kwargs: ServedModel()))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ResultsScreen))
        (run,) = open_store().list_runs()
        assert run.status == FINISHED and run.epochs_done == 10
        assert run.model_path.read_bytes() == b"fake model"
        np.testing.assert_array_equal(open_store().load_probabilities(run.id), predictions.probabilities)

        await pilot.press("R")
        await wait_until(pilot, lambda: isinstance(app.screen, RunsScreen))
        app.session.test_set.keep(
            MnistData(predictions.images, predictions.labels, predictions.images, predictions.labels)
        )
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, OpenedResults))
        screen = app.screen
        assert f"run {run.id}" in screen.sub_title
        np.testing.assert_array_equal(screen.predictions.probabilities, predictions.probabilities)
        assert isinstance(screen.model, ServedModel)
        await pilot.press("escape")
        await wait_until(pilot, lambda: ServedModel.closed)


async def test_a_run_cut_short_is_interrupted_and_a_failure_keeps_its_message(home):
    app = recording_app(fakes.MID_TRAINING)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(
            pilot, lambda: len(app.screen.epochs) == 2 if isinstance(app.screen, TrainingScreen) else False
        )
    (run,) = open_store().list_runs()
    assert run.status == INTERRUPTED and run.epochs_done == 2

    app = recording_app(fakes.FAILED)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.screen.failure is not None)
    latest = open_store().list_runs()[0]
    assert latest.status == FAILED and "diverged" in latest.message


async def test_r_says_when_the_store_cannot_be_opened(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the store's folder would be")
    monkeypatch.setenv("MNIST_TUI_HOME", str(blocker / "home"))
    app = MnistApp(predictions=fakes.fake_predictions())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("R")
        await pilot.pause(0.1)
        assert isinstance(app.screen, ResultsScreen)
        assert any("not-a-directory" in str(n.message) or "store" in str(n.message).lower() for n in app._notifications)


def test_open_recorded_finds_the_test_images_the_run_was_scored_on(home, real_mnist, monkeypatch):
    from mnist_tui.data import load_mnist
    from mnist_tui.events import Finished
    from mnist_tui.predictions import Predictions
    from mnist_tui.runs import Recorder

    data = load_mnist(real_mnist)
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(10), size=len(data.y_test)).astype(np.float32)
    config = TrainConfig(epochs=1, data=real_mnist)
    recorder = Recorder(open_store(), lambda event: None, config)
    run_id = recorder.start()
    predictions = Predictions(data.x_test, data.y_test, probabilities)
    recorder(Finished({}, 1.0, predictions.accuracy, predictions, model=fakes.TemplateModel()))
    asked: list[dict] = []

    def open_model(cls, path, name, **kwargs):
        asked.append(kwargs)
        return ServedModel()

    monkeypatch.setattr(recorded.RemoteModel, "open", classmethod(open_model))

    opened = recorded.open_recorded(open_store(), run_id)
    # the model process finds the training images (nearest images) where this run found its data
    assert asked == [{"data": real_mnist}]
    assert opened.warning == "" and len(opened.predictions) == 10_000
    np.testing.assert_array_equal(opened.predictions.images, data.x_test)
    np.testing.assert_array_equal(opened.predictions.probabilities, probabilities)
    assert f"run {run_id}" in opened.title and isinstance(opened.model, ServedModel)
