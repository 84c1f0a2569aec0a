"""The trainer and its Keras callback, on a tiny model and a few hundred random images."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

from mnist_tui.config import TrainConfig
from mnist_tui.data import MnistData
from mnist_tui.events import BatchEnd, EpochEnd, Failed, Finished, RunControl, Stage, Started, Stopped
from tests.support.data import tiny_arrays

pytestmark = pytest.mark.keras

TINY = TrainConfig(epochs=2, batch_size=8, hidden_units=8, seed=3, steps_per_execution=1)


def tiny_data(n_train: int = 320, n_test: int = 64) -> MnistData:
    return MnistData(*tiny_arrays(n_train, n_test))


class FakeClock:
    """Advances a fixed step on every reading, so rate limiting is deterministic."""

    def __init__(self, step: float) -> None:
        self.ticks = itertools.count()
        self.step = step

    def __call__(self) -> float:
        return next(self.ticks) * self.step


def run(config=TINY, data=None, control=None, clock=None, sink_hook=None):
    from mnist_tui.training import KerasTrainer

    events = []

    def sink(event):
        events.append(event)
        if sink_hook:
            sink_hook(event, control)

    trainer = KerasTrainer(config, data=data or tiny_data(), **({"clock": clock} if clock else {}))
    trainer.run(sink, control or RunControl())
    return trainer, events


def test_event_order_and_plain_types():
    trainer, events = run()
    kinds = [type(e).__name__ for e in events if not isinstance(e, BatchEnd)]
    assert kinds == ["Stage", "Stage", "Started", "Stage", "EpochEnd", "EpochEnd", "Stage", "Finished"]
    stages = [e.name for e in events if isinstance(e, Stage)]
    assert stages == ["Loading TensorFlow", "Building model", "Training", "Evaluating"]
    started = next(e for e in events if isinstance(e, Started))
    assert started.steps_per_epoch == 40 and started.epochs == 2 and started.params == 784 * 8 + 8 + 8 * 10 + 10
    for event in events:
        if isinstance(event, (BatchEnd, EpochEnd)):
            for name in ("loss", "accuracy"):
                assert type(getattr(event, name)) is float
        if isinstance(event, EpochEnd):
            assert type(event.val_loss) is float and type(event.val_accuracy) is float
    finished = events[-1]
    assert isinstance(finished, Finished) and not finished.stopped_early
    assert finished.predictions.probabilities.shape == (64, 10)
    assert isinstance(finished.predictions.probabilities, np.ndarray)
    assert finished.history.keys() >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert np.allclose(finished.predictions.probabilities.sum(axis=1), 1, atol=1e-4)
    # batch events are in order within each epoch
    for epoch in (1, 2):
        steps = [e.step for e in events if isinstance(e, BatchEnd) and e.epoch == epoch]
        assert steps == sorted(steps) and steps[-1] == 40


def test_batch_events_are_rate_limited():
    # each clock reading is 10 ms later; batch events at most every 100 ms
    _, events = run(clock=FakeClock(0.01))
    batches = [e for e in events if isinstance(e, BatchEnd)]
    per_epoch = {epoch: sum(1 for b in batches if b.epoch == epoch) for epoch in (1, 2)}
    assert all(2 <= n <= 6 for n in per_epoch.values()), per_epoch  # 40 batches, ~0.4 s each epoch
    assert len(batches) < 80
    for epoch in (1, 2):  # yet every batch's loss reaches the UI, each event's own last
        mine = [b for b in batches if b.epoch == epoch]
        assert sum(len(b.losses) for b in mine) == 40 and all(len(b.accuracies) == len(b.losses) for b in mine)
        assert all(b.losses[-1] == b.loss and b.accuracies[-1] == b.accuracy for b in mine)


def test_stop_request_is_honoured_within_one_batch():
    def stop_at_batch_5(event, control):
        if isinstance(event, BatchEnd) and event.epoch == 1 and event.step >= 5:
            control.stop.set()

    control = RunControl()
    config = TINY.with_changes(epochs=5)
    trainer, events = run(config, control=control, clock=FakeClock(1.0), sink_hook=stop_at_batch_5)
    stopped = next(e for e in events if isinstance(e, Stopped))
    assert stopped.epoch == 1
    # the optimizer ran at most one step beyond the batch where the stop was seen
    assert int(trainer.model.optimizer.iterations.numpy()) <= stopped.step + 1
    after = events[events.index(stopped) + 1 :]
    assert not any(isinstance(e, BatchEnd) for e in after)
    assert sum(isinstance(e, EpochEnd) for e in events) <= 1
    assert isinstance(events[-1], Finished) and events[-1].stopped_early


def test_cancel_abandons_without_finishing():
    def cancel_at_batch_3(event, control):
        if isinstance(event, BatchEnd) and event.step >= 3:
            control.cancel.set()

    control = RunControl()
    trainer, events = run(
        TINY.with_changes(epochs=5), control=control, clock=FakeClock(1.0), sink_hook=cancel_at_batch_3
    )
    assert not any(isinstance(e, (Finished, Failed, Stopped)) for e in events)
    assert int(trainer.model.optimizer.iterations.numpy()) <= 4


def test_nan_loss_is_reported_as_failure(monkeypatch):
    import keras

    from mnist_tui import models

    real_build = models.build_model

    def diverging(config, **kwargs):
        model = real_build(config, **kwargs)

        def nan_loss(y_true, y_pred):  # what a diverged network produces: 0 * inf
            return keras.ops.mean(y_pred, axis=-1) * float("inf") * 0.0

        model.compile(optimizer="adam", loss=nan_loss, metrics=["accuracy"], steps_per_execution=1)
        return model

    monkeypatch.setattr(models, "build_model", diverging)
    _, events = run(TINY.with_changes(epochs=3, learning_rate=10.0))
    failed = events[-1]
    assert isinstance(failed, Failed), events[-1]
    assert "NaN" in failed.message and "smaller learning rate" in failed.hint
    assert not any(isinstance(e, Finished) for e in events)
    assert "(it was 10)" in failed.hint


def test_a_holdout_validates_on_training_images_it_keeps_out_of_training(monkeypatch):
    from mnist_tui import models

    real_build = models.build_model
    fits = []

    def spied(config, **kwargs):
        model = real_build(config, **kwargs)
        real_fit = model.fit

        def fit(x, y, **fit_kwargs):
            fits.append((np.asarray(x), np.asarray(y), fit_kwargs["validation_data"]))
            return real_fit(x, y, **fit_kwargs)

        model.fit = fit
        return model

    monkeypatch.setattr(models, "build_model", spied)
    data = tiny_data()
    _, events = run(TINY.with_changes(holdout=80), data=data)
    started = next(e for e in events if isinstance(e, Started))
    assert started.train_size == 240 and started.steps_per_epoch == 30
    held_out = models.scale(data.x_train[-80:])
    for x, y, (x_val, y_val) in fits:
        assert len(y) == 240
        assert np.array_equal(np.asarray(x_val), held_out) and np.array_equal(y_val, data.y_train[-80:])
        # the training images are the first 240 in the run's own order; none of the held-out ones
        assert sorted(map(bytes, x)) == sorted(map(bytes, models.scale(data.x_train[:240])))
    assert len(fits) == 2 and isinstance(events[-1], Finished)
    assert events[-1].predictions.probabilities.shape == (64, 10)  # scored on the test set still

    _, events = run(TINY.with_changes(holdout=320), data=tiny_data())
    assert isinstance(events[-1], Failed) and "must leave training images" in events[-1].message


def test_data_errors_become_failed_events(tmp_path):
    from mnist_tui.training import KerasTrainer

    events = []
    KerasTrainer(TINY.with_changes(data=tmp_path)).run(events.append)  # an empty directory
    assert isinstance(events[-1], Failed) and "directory is empty" in events[-1].message


@pytest.fixture(scope="module")
def saved_run(tmp_path_factory):
    """One tiny run saved to ``tiny.keras`` in a folder of its own: its path, data and events.

    The tests that read a saved model share it (each a few seconds of Keras less); none of
    them changes the files (a test that would works on a copy).
    """
    folder = tmp_path_factory.mktemp("saved-run")
    path, data = folder / "tiny.keras", tiny_data()
    _, events = run(TINY.with_changes(save=path), data=data)
    return path, data, events


def test_save_writes_model_and_history_atomically(saved_run):
    from mnist_tui import models

    path, _, events = saved_run
    assert events[-1].saved_to == path
    assert sorted(p.name for p in path.parent.iterdir()) == ["tiny.history.json", "tiny.keras"]
    history = json.loads((path.parent / "tiny.history.json").read_text())
    assert len(history["loss"]) == 2 and all(math.isfinite(v) for v in history["loss"])
    model = models.load_model(path)
    assert model.outputs[0].shape[1:] == (10,)


def test_saved_model_scorer_matches_the_trainer(saved_run):
    from mnist_tui.training import SavedModelScorer

    path, data, events = saved_run
    trained = events[-1]
    scored = []
    SavedModelScorer(path, TINY, data=data).run(scored.append)
    assert isinstance(scored[-1], Finished)
    np.testing.assert_allclose(scored[-1].predictions.probabilities, trained.predictions.probabilities, atol=1e-5)
    assert scored[-1].history["loss"] == trained.history["loss"]


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "not a Keras model file"), (b"not a model at all", "not a Keras model file"), (None, "no such model file")],
)
def test_bad_model_files_are_rejected(tmp_path, content, message):
    from mnist_tui.training import SavedModelScorer

    path = tmp_path / "bad.keras"
    if content is not None:
        path.write_bytes(content)
    events = []
    SavedModelScorer(path, TINY, data=tiny_data()).run(events.append)
    assert isinstance(events[-1], Failed)
    assert events[-1].message.startswith(str(path)) and message in events[-1].message


def test_truncated_keras_file_is_rejected(saved_run, tmp_path):
    from mnist_tui.models import ModelError, load_model

    path = tmp_path / "tiny.keras"
    raw = saved_run[0].read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ModelError, match="not a"):
        load_model(path)


def test_model_of_the_wrong_shape_is_rejected(tmp_path):
    import keras

    from mnist_tui.models import ModelError, load_model

    wrong = keras.Sequential([keras.Input(shape=(32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(10)])
    wrong.save(tmp_path / "wrong.keras")
    with pytest.raises(ModelError, match="expects input"):
        load_model(tmp_path / "wrong.keras")
    classes = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten(), keras.layers.Dense(5)])
    classes.save(tmp_path / "five.keras")
    with pytest.raises(ModelError, match="not 10 classes"):
        load_model(tmp_path / "five.keras")


def test_cnn_architecture_trains_and_scores():
    _, events = run(TINY.with_changes(arch="cnn", epochs=1))
    started = next(e for e in events if isinstance(e, Started))
    assert "Conv2D" in started.summary and started.config.arch == "cnn"
    assert isinstance(events[-1], Finished) and events[-1].predictions.probabilities.shape == (64, 10)


def test_models_with_python_code_are_refused_in_safe_mode(tmp_path):
    import keras

    from mnist_tui.models import ModelError, load_model

    marker = tmp_path / "ran"
    touch = f"lambda x: (__import__('pathlib').Path({str(marker)!r}).touch(), x)[1]"
    sneaky = keras.Sequential(
        [keras.Input(shape=(28, 28)), keras.layers.Lambda(eval(touch)), keras.layers.Flatten(), keras.layers.Dense(10)]
    )
    marker.unlink(missing_ok=True)  # building the model called the lambda once
    sneaky.save(tmp_path / "sneaky.keras")
    marker.unlink(missing_ok=True)
    with pytest.raises(ModelError, match="refused: the model contains Python code"):
        load_model(tmp_path / "sneaky.keras")
    assert not marker.exists()


def fresh_python(code: str) -> list[str]:
    """Run ``code`` in a new interpreter (TensorFlow not started yet); its printed words."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.split()


def test_the_mlp_trains_with_one_thread_per_tensorflow_pool():
    printed = fresh_python("""
import numpy as np
import tensorflow as tf
from mnist_tui.config import TrainConfig
from mnist_tui.data import MnistData
from mnist_tui.events import Finished
from mnist_tui.training import KerasTrainer
rng = np.random.default_rng(0)
data = MnistData(rng.integers(0, 255, (64, 28, 28), np.uint8), rng.integers(0, 10, 64, np.uint8),
                 rng.integers(0, 255, (16, 28, 28), np.uint8), rng.integers(0, 10, 16, np.uint8))
events = []
KerasTrainer(TrainConfig(epochs=1, batch_size=16, hidden_units=4), data=data).run(events.append)
assert isinstance(events[-1], Finished), events[-1]
print(tf.config.threading.get_intra_op_parallelism_threads(), tf.config.threading.get_inter_op_parallelism_threads())
""")
    assert printed == ["1", "1"]


def test_thread_pools_are_left_alone_once_tensorflow_has_started():
    printed = fresh_python("""
import tensorflow as tf
from mnist_tui import models
print(models.configure_threads("cnn"))  # the CNN keeps TensorFlow's defaults
tf.constant(1.0) + 1  # TensorFlow starts its pools
print(models.configure_threads("mlp"), tf.config.threading.get_intra_op_parallelism_threads())
""")
    assert printed == ["False", "False", "0"]  # too late for the MLP's setting: no error, nothing changed
