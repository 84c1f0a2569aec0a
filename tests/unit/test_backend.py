"""Which Keras backend runs (pure), and mnist-tui on JAX: a tiny run, stop, draw, save and load across backends.

The JAX tests train in a subprocess: this process's Keras runs on TensorFlow, and Keras
reads its backend once per process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import numpy as np
import pytest

from mnist_tui import backend
from mnist_tui.backend import BackendError, Choice, resolve_backend
from mnist_tui.config import ConfigError, TrainConfig
from tests.support.data import ROOT

BOTH = ("tensorflow", "jax")
HAS_JAX = "jax" in backend.installed_backends()
needs_jax = pytest.mark.skipif(not HAS_JAX, reason='jax is not installed (pip install "mnist-tui[jax]")')


# ----------------------------------------------------------------------------- the choice (pure)


@pytest.mark.parametrize(
    ("requested", "arch", "environ", "installed", "expected"),
    [
        (None, "mlp", {}, BOTH, Choice("tensorflow")),
        (None, "mlp", {"KERAS_BACKEND": "jax"}, BOTH, Choice("jax", "KERAS_BACKEND")),
        (None, "cnn", {"KERAS_BACKEND": " TensorFlow "}, BOTH, Choice("tensorflow", "KERAS_BACKEND")),
        ("tensorflow", "mlp", {"KERAS_BACKEND": "jax"}, BOTH, Choice("tensorflow")),  # the option wins
        ("jax", "cnn", {}, BOTH, Choice("jax")),
        ("auto", "mlp", {}, BOTH, Choice("jax", "auto")),
        ("auto", "cnn", {}, BOTH, Choice("tensorflow", "auto")),
        ("auto", "mlp", {}, ("tensorflow",), Choice("tensorflow", "auto")),
        ("auto", "mlp", {"KERAS_BACKEND": "tensorflow"}, BOTH, Choice("jax", "auto")),
    ],
)
def test_backend_choice(requested, arch, environ, installed, expected):
    assert resolve_backend(requested, arch, environ=environ, installed=installed) == expected


@pytest.mark.parametrize(
    ("requested", "environ", "installed", "message"),
    [
        ("jax", {}, ("tensorflow",), 'not installed (pip install "mnist-tui[jax]")'),
        (None, {"KERAS_BACKEND": "jax"}, ("tensorflow",), "jax backend is not installed"),
        (None, {"KERAS_BACKEND": "torch"}, BOTH, "KERAS_BACKEND=torch is not supported"),
        ("mxnet", {}, BOTH, "unknown backend"),
    ],
)
def test_backend_that_cannot_run_is_refused(requested, environ, installed, message):
    with pytest.raises(BackendError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        resolve_backend(requested, "mlp", environ=environ, installed=installed)


def test_config_accepts_the_backends_and_labels_say_why():
    assert TrainConfig(backend="auto").backend == "auto" and TrainConfig().backend is None
    with pytest.raises(ConfigError, match="backend"):
        TrainConfig(backend="torch")
    assert Choice("jax", "auto").label == "jax (auto)" and Choice("tensorflow").label == "tensorflow"
    assert backend.title("jax") == "JAX" and backend.title("tensorflow") == "TensorFlow"


def test_prepare_sets_the_backend_and_xla_flags_before_keras_loads(monkeypatch):
    monkeypatch.delitem(sys.modules, "keras", raising=False)
    monkeypatch.delitem(sys.modules, "jax", raising=False)
    monkeypatch.setattr(backend, "installed_backends", lambda: BOTH)
    monkeypatch.setattr(backend, "JAX_CPU_FLAGS", {"mlp": "--xla_cpu_multi_thread_eigen=false"})
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    monkeypatch.setenv("XLA_FLAGS", "--xla_dump_to=/tmp/x")
    assert backend.prepare("jax", "mlp") == Choice("jax")
    assert os.environ["KERAS_BACKEND"] == "jax"
    assert os.environ["XLA_FLAGS"] == "--xla_dump_to=/tmp/x --xla_cpu_multi_thread_eigen=false"
    monkeypatch.setenv("XLA_FLAGS", "")
    assert backend.prepare("tensorflow", "mlp") == Choice("tensorflow") and os.environ["XLA_FLAGS"] == ""


def test_prepare_refuses_a_second_backend_in_one_process(monkeypatch):
    loaded = types.SimpleNamespace(config=types.SimpleNamespace(backend=lambda: "tensorflow"))
    monkeypatch.setitem(sys.modules, "keras", loaded)
    monkeypatch.setattr(backend, "installed_backends", lambda: BOTH)
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    assert backend.prepare(None, "cnn") == Choice("tensorflow")
    with pytest.raises(BackendError, match="already running on tensorflow"):
        backend.prepare("jax", "mlp")


@pytest.mark.keras
def test_a_backend_that_cannot_run_fails_the_run_clearly(monkeypatch):
    from mnist_tui.data import MnistData
    from mnist_tui.events import Failed
    from mnist_tui.training import KerasTrainer
    from tests.support.data import tiny_arrays

    monkeypatch.setenv("KERAS_BACKEND", "torch")
    events: list = []
    KerasTrainer(TrainConfig(epochs=1), data=MnistData(*tiny_arrays())).run(events.append)
    assert isinstance(events[-1], Failed) and "KERAS_BACKEND=torch" in events[-1].message
    assert "--backend" in events[-1].hint


# ----------------------------------------------------------------------------- on JAX, in a subprocess


JAX_RUN = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    from mnist_tui.config import TrainConfig
    from mnist_tui.data import MnistData
    from mnist_tui.events import BatchEnd, EpochEnd, Finished, Started, Stopped
    from mnist_tui.training import KerasTrainer, RunControl
    from tests.support.data import tiny_arrays

    out_dir, tf_model = sys.argv[1], sys.argv[2]
    data = MnistData(*tiny_arrays(320, 64))
    config = TrainConfig(epochs=2, batch_size=8, hidden_units=8, seed=3, steps_per_execution=1, backend="jax",
                         save=out_dir + "/jax.keras")
    events = []
    KerasTrainer(config, data=data).run(events.append)
    started, finished = next(e for e in events if isinstance(e, Started)), events[-1]
    assert isinstance(finished, Finished), finished
    report = {
        "backend": started.backend, "precision": started.precision,
        "batches": sum(isinstance(e, BatchEnd) for e in events), "epochs": sum(isinstance(e, EpochEnd) for e in events),
        "accuracy": finished.test_accuracy, "draw": finished.model.predict(data.x_test[:2]).tolist(),
        "saved": str(finished.saved_to), "probabilities": finished.predictions.probabilities.tolist(),
    }
    # stop after the first batch event: the model is kept and scored
    control = RunControl()
    def sink(event):
        events.append(event)
        if isinstance(event, BatchEnd):
            control.stop.set()
    events = []
    KerasTrainer(config.with_changes(save=None, epochs=3), data=data).run(sink, control)
    report["stopped"] = [type(e).__name__ for e in events if isinstance(e, (Stopped, Finished))]
    report["stopped_early"] = events[-1].stopped_early
    # a model saved on TensorFlow, loaded here on JAX
    from mnist_tui import models
    report["from_tf"] = models.predictor(models.load_model(tf_model))(data.x_test).tolist()
    report["tensorflow_loaded"] = "tensorflow" in sys.modules
    print("REPORT " + json.dumps(report))
    """
)


@pytest.mark.jax
@pytest.mark.keras
@needs_jax
def test_on_jax_training_stop_draw_and_models_saved_on_either_backend(tmp_path):
    from mnist_tui import models
    from mnist_tui.data import MnistData
    from mnist_tui.training import save_model
    from tests.support.data import tiny_arrays

    data = MnistData(*tiny_arrays(320, 64))
    tf_model = models.build_model(TrainConfig(arch="cnn", hidden_units=8))
    tf_path = tmp_path / "tf.keras"
    save_model(tf_model, tf_path)
    on_tf = models.predictor(tf_model)(data.x_test)

    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    result = subprocess.run(
        [sys.executable, "-c", JAX_RUN, str(tmp_path), str(tf_path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env=env,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("REPORT ")]
    assert result.returncode == 0 and lines, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(lines[-1][len("REPORT ") :])

    assert report["backend"] == "jax" and report["precision"] == "float32 (auto)"
    assert report["batches"] > 0 and report["epochs"] == 2
    assert np.asarray(report["draw"]).shape == (2, 10)
    np.testing.assert_allclose(np.asarray(report["draw"]).sum(axis=1), 1.0, atol=1e-5)
    assert report["stopped"] == ["Stopped", "Finished"] and report["stopped_early"]
    assert not report["tensorflow_loaded"]  # a JAX run never loads TensorFlow

    # saved on JAX, opened here on TensorFlow; saved here, opened on JAX: the same predictions
    on_jax = np.asarray(report["probabilities"], dtype=np.float32)
    np.testing.assert_allclose(
        models.predictor(models.load_model(Path(report["saved"])))(data.x_test), on_jax, atol=1e-5
    )
    np.testing.assert_allclose(np.asarray(report["from_tf"]), on_tf, atol=1e-5)
