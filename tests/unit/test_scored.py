"""A model file's test predictions kept by its checksum: written whole, found again only for the same bytes and data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mnist_tui import scored
from mnist_tui.data import MnistData
from mnist_tui.events import Finished, RunControl, Stage
from mnist_tui.predictions import Predictions
from tests.support import fakes


def data_of(predictions: Predictions) -> MnistData:
    return MnistData(predictions.images[:0], predictions.labels[:0], predictions.images, predictions.labels)


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "m.keras"
    path.write_bytes(b"a saved model's bytes")
    return path


def test_kept_predictions_come_back_for_the_same_file_and_data_only(tmp_path, model_file):
    predictions = fakes.fake_predictions()
    checksum = scored.file_checksum(model_file)
    assert scored.lookup(checksum, data_of(predictions), tmp_path) is None
    path = scored.keep(checksum, predictions, tmp_path)
    assert path is not None and path.parent == tmp_path / scored.FOLDER
    assert [p.name for p in path.parent.iterdir()] == [path.name], "no temporary file is left"
    again = scored.lookup(checksum, data_of(predictions), tmp_path)
    assert again is not None
    np.testing.assert_allclose(again.probabilities, predictions.probabilities, rtol=1e-6)
    other = fakes.fake_predictions(seed=8)  # other test images: another fingerprint
    assert scored.lookup(checksum, data_of(other), tmp_path) is None
    model_file.write_bytes(b"retrained")
    assert scored.lookup(scored.file_checksum(model_file), data_of(predictions), tmp_path) is None


@pytest.mark.parametrize("content", [b"", b"not numpy at all", None])
def test_a_damaged_or_wrong_shaped_entry_is_as_if_none_were_kept(tmp_path, model_file, content):
    predictions = fakes.fake_predictions()
    checksum = scored.file_checksum(model_file)
    path = scored.keep(checksum, predictions, tmp_path)
    assert path is not None
    if content is None:
        np.save(path, np.full((3, 10), np.nan, np.float32))
    else:
        path.write_bytes(content)
    assert scored.lookup(checksum, data_of(predictions), tmp_path) is None


def test_the_scorer_keeps_a_complete_scoring_and_passes_every_event_on(tmp_path, model_file):
    events = fakes.finished()
    stopped = fakes.finished(stopped=True)

    class Scorer:
        def __init__(self, script):
            self.script = script

        def run(self, sink, control):
            for event in self.script:
                sink(event)

    seen: list = []
    scored.KeepingScorer(Scorer(stopped), model_file, tmp_path).run(seen.append, RunControl())
    assert seen == stopped and not (tmp_path / scored.FOLDER).exists(), "a stopped scoring is not kept"
    seen.clear()
    keeper = scored.KeepingScorer(Scorer(events), model_file, tmp_path)
    assert keeper.model_path == model_file
    keeper.run(seen.append, RunControl())
    assert seen == events
    finished = events[-1]
    assert isinstance(finished, Finished) and isinstance(events[0], Stage)
    found = scored.lookup(scored.file_checksum(model_file), data_of(finished.predictions), tmp_path)
    assert found is not None and found.accuracy == finished.predictions.accuracy


def test_a_file_never_scored_or_missing_opens_to_be_scored(tmp_path, model_file, monkeypatch):
    from mnist_tui import launch

    test_set = data_of(fakes.fake_predictions())
    monkeypatch.setattr(scored, "local_test_set", lambda path: test_set)
    monkeypatch.setattr(scored, "app_cache_dir", lambda: tmp_path)
    never = launch.open_model_file(model_file, None)
    assert never is not None and never.predictions is None and never.to_score is not None
    assert never.to_score.checksum == scored.file_checksum(model_file)  # its predictions will be kept
    missing = launch.open_model_file(tmp_path / "missing.keras", None)
    assert missing is not None and missing.predictions is None and missing.to_score is not None
    assert missing.to_score.checksum is None  # its model process says what is wrong with it


def test_an_unwritable_cache_is_no_error(tmp_path, model_file):
    blocked = tmp_path / "file"
    blocked.write_text("a file where the folder would go")
    assert scored.keep(scored.file_checksum(model_file), fakes.fake_predictions(), blocked) is None


# ---------------------------------------------------------------------- a first open: images first


def test_the_test_set_is_read_where_it_is_and_never_downloaded(tmp_path, monkeypatch):
    from tests.support.data import SHARED_MNIST

    downloads: list[object] = []
    monkeypatch.setattr("mnist_tui.data.download_mnist", lambda *args, **kwargs: downloads.append(args))
    empty = {"KERAS_HOME": str(tmp_path / "keras"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    assert scored.local_test_set(None, empty) is None  # not on this machine: the training screen downloads it
    assert scored.local_test_set(tmp_path / "nowhere", empty) is None  # unreadable: the training screen says why
    assert downloads == []
    if not SHARED_MNIST.is_dir():
        pytest.skip("the real MNIST files are not here")
    data = scored.local_test_set(SHARED_MNIST, empty)
    assert data is not None and data.x_test.shape == (10_000, 28, 28) and len(data.x_train) == 0
    from_env = scored.local_test_set(None, {**empty, "MNIST_TUI_DATA": str(SHARED_MNIST)})
    assert from_env is not None and np.array_equal(from_env.y_test, data.y_test)


class Loading(fakes.TemplateModel):
    """A model process that loads for ``polls`` looks at ``ready``, then predicts by the templates."""

    def __init__(self, polls: int) -> None:
        super().__init__()
        self.polls = polls
        self.batches: list[int] = []

    @property
    def ready(self) -> bool:
        self.polls -= 1
        return self.polls < 0

    def predict(self, images):
        assert self.polls < 0, "asked before the model had loaded"
        self.batches.append(len(images))
        return super().predict(images)


def test_all_test_images_are_predicted_in_batches_once_the_model_has_loaded(monkeypatch):
    monkeypatch.setattr(scored, "READY_POLL", 0.001)
    p = fakes.fake_predictions(n=250)
    model = Loading(polls=3)
    done: list[int] = []
    probabilities = scored.predict_all(model, p.images, progress=done.append, batch=100)
    assert model.batches == [100, 100, 50]
    assert done == [100, 200, 250]
    np.testing.assert_allclose(probabilities, fakes.TemplateModel().predict(p.images), rtol=1e-6)


def test_predicting_all_stops_when_cancelled_while_the_model_loads(monkeypatch):
    import threading

    from mnist_tui.events import ModelServerError

    monkeypatch.setattr(scored, "READY_POLL", 0.001)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(ModelServerError, match="cancelled"):
        scored.predict_all(Loading(polls=10**9), fakes.fake_predictions().images, cancel=cancel)


def test_predicting_all_gives_up_on_a_model_that_never_loads(monkeypatch):
    from mnist_tui.events import ModelServerError

    monkeypatch.setattr(scored, "READY_POLL", 0.001)
    with pytest.raises(ModelServerError, match="did not load the model within 0.05 s"):
        scored.predict_all(Loading(polls=10**9), fakes.fake_predictions().images, load_wait=0.05)
