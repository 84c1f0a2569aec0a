"""Precision: which policy ``auto`` picks for which hardware, the float32 output layer, a bfloat16 run, saved models."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_tui import backend
from mnist_tui.backend import Choice, Gpu, cpu_flags, native_bfloat16, parse_capability, resolve_precision
from mnist_tui.config import ConfigError, TrainConfig
from mnist_tui.data import MnistData
from tests.support.data import tiny_arrays

H100 = Gpu("NVIDIA H100 80GB HBM3", (9, 0))
P100 = Gpu("Tesla P100-PCIE-16GB", (6, 0))
SAPPHIRE_RAPIDS = {"avx512f", "avx512_bf16", "amx_tile", "amx_bf16"}
ZEN4 = {"avx2", "avx512f", "avx512_bf16"}
ZEN3 = {"avx2", "fma", "f16c"}


# ----------------------------------------------------------------------------- the choice (pure)


@pytest.mark.parametrize(
    ("arch", "flags", "gpus", "expected"),
    [
        ("cnn", SAPPHIRE_RAPIDS, [], "bfloat16 (auto: AMX)"),
        ("cnn", ZEN4, [], "bfloat16 (auto: AVX512-BF16)"),
        ("cnn", ZEN3, [], "float32 (auto: no native bfloat16)"),
        ("cnn", set(), [], "float32 (auto: no native bfloat16)"),
        ("cnn", ZEN3, [H100], "float16 (auto: tensor cores)"),
        ("cnn", SAPPHIRE_RAPIDS, [H100], "float16 (auto: tensor cores)"),  # the model trains on the GPU
        ("cnn", SAPPHIRE_RAPIDS, [P100], "float32 (auto: no tensor cores)"),
        ("cnn", ZEN3, [H100, P100], "float32 (auto: no tensor cores)"),
        ("mlp", SAPPHIRE_RAPIDS, [], "float32 (auto)"),
        ("mlp", ZEN3, [H100], "float32 (auto)"),
    ],
)
def test_auto_picks_by_architecture_and_hardware(arch, flags, gpus, expected):
    assert resolve_precision("auto", arch, flags=flags, gpus=gpus).label == expected


@pytest.mark.parametrize("requested", ["float32", "bfloat16", "float16"])
def test_a_named_precision_is_used_as_asked(requested):
    choice = resolve_precision(requested, "mlp", flags=set(), gpus=[])
    assert choice == Choice(requested) and choice.label == requested
    assert choice.policy == {"float32": "float32", "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}[requested]


def test_unknown_precision_is_refused():
    with pytest.raises(ValueError):
        resolve_precision("int8", "cnn", flags=set(), gpus=[])
    with pytest.raises(ConfigError, match="precision"):
        TrainConfig(precision="fp8")


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Xeon\nflags\t\t: fpu avx2 amx_bf16 amx_tile\n\nprocessor\t: 1\n")
    flags = cpu_flags(cpuinfo)
    assert {"amx_bf16", "avx2"} <= flags and native_bfloat16(flags) == "AMX"
    assert cpu_flags(tmp_path / "missing") == frozenset()
    assert native_bfloat16({"avx512_bf16"}) == "AVX512-BF16" and native_bfloat16({"avx2"}) is None


def test_compute_capability_is_parsed():
    assert parse_capability((8, 6)) == (8, 6) and parse_capability("9.0") == (9, 0)
    assert parse_capability("gfx90a") is None and parse_capability(None) is None
    assert Gpu("A100", (8, 0)).tensor_cores and Gpu("V100", (7, 0)).tensor_cores
    assert not Gpu("P100", (6, 0)).tensor_cores and not Gpu("Radeon", None).tensor_cores


def test_describe_shows_what_ran_only_once_resolved():
    config = TrainConfig(arch="cnn", precision="auto")
    assert "precision" not in config.describe() and "backend" not in config.describe()
    ran = config.with_changes(precision_ran="bfloat16 (auto: AMX)", backend_ran="tensorflow")
    assert ran.describe()["precision"] == "bfloat16 (auto: AMX)" and ran.describe()["backend"] == "tensorflow"
    assert ran == config  # what ran is a record, not a different configuration
    assert ran.with_changes(epochs=3).precision_ran is None  # a changed configuration has not run yet


# ----------------------------------------------------------------------------- Keras


def tiny_data(n_train: int = 64, n_test: int = 32) -> MnistData:
    return MnistData(*tiny_arrays(n_train, n_test))


@pytest.mark.keras
@pytest.mark.parametrize("arch", ["mlp", "cnn"])
@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_output_layer_and_loss_stay_float32(arch, policy):
    import keras

    from mnist_tui import models

    model = models.build_model(TrainConfig(arch=arch, hidden_units=8), steps_per_epoch=4, policy=policy)
    assert model.layers[-1].dtype_policy.name == "float32"
    assert {layer.dtype_policy.name for layer in model.layers[:-1]} == {policy}
    assert str(model.outputs[0].dtype) == "float32"
    assert all(str(w.dtype) == "float32" for w in model.weights)  # the weights themselves stay float32
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer) == (policy == "mixed_float16")
    assert keras.config.dtype_policy().name == "float32"  # the global policy is left as it was


@pytest.mark.keras
def test_a_tiny_bfloat16_run_trains_and_says_so():
    from mnist_tui.events import Finished, Started
    from mnist_tui.training import KerasTrainer

    events: list = []
    config = TrainConfig(
        arch="cnn", precision="bfloat16", epochs=1, batch_size=16, hidden_units=8, seed=1, steps_per_execution=2
    )
    KerasTrainer(config, data=tiny_data()).run(events.append)
    started = next(e for e in events if isinstance(e, Started))
    finished = events[-1]
    assert isinstance(finished, Finished), events[-1]
    assert started.precision == "bfloat16" and started.config.precision_ran == "bfloat16"
    assert started.backend == started.config.backend_ran and started.backend.split()[0] in backend.BACKENDS
    probabilities = finished.predictions.probabilities
    assert probabilities.dtype == np.float32 and np.isfinite(probabilities).all()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-3)


@pytest.mark.keras
@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_saved_bfloat16_model_loads_and_scores_the_same_in_plain_float32_keras(tmp_path, arch):
    import keras

    from mnist_tui import models
    from mnist_tui.training import save_model

    config = TrainConfig(arch=arch, hidden_units=8, seed=2)
    models.set_seed(2)
    model = models.build_model(config, policy="mixed_bfloat16")
    images = tiny_data().x_test
    x = models.scale(images)
    expected = np.asarray(model(x, training=False))
    path = tmp_path / "model.keras"
    save_model(model, path)

    assert keras.config.dtype_policy().name == "float32"
    loaded = keras.models.load_model(path, compile=False)  # plain Keras, as any user would load it
    np.testing.assert_allclose(np.asarray(loaded(x, training=False)), expected, atol=1e-6)
    np.testing.assert_allclose(models.predictor(models.load_model(path))(images), expected, atol=1e-6)

    # the same weights in an all-float32 model: bfloat16 rounding apart, the same predictions
    plain = models.build_model(config, policy="float32")
    plain.set_weights(loaded.get_weights())
    in_float32 = np.asarray(plain(x, training=False))
    np.testing.assert_allclose(in_float32, expected, atol=0.03)
    assert (in_float32.argmax(axis=1) == expected.argmax(axis=1)).mean() >= 0.9


def test_headless_header_says_which_precision_and_backend_ran():
    import io

    from rich.console import Console

    from mnist_tui.events import Started
    from mnist_tui.headless import HeadlessReporter

    out = io.StringIO()
    reporter = HeadlessReporter(Console(file=out, width=200), Console(file=io.StringIO()))
    config = TrainConfig(arch="cnn")
    reporter(
        Started(config, 10, 1875, 1000, "", 60_000, 10_000, precision="bfloat16 (auto: AMX)", backend="tensorflow")
    )
    reporter.stop_bars()
    assert "learning rate 0.001, bfloat16 (auto: AMX) on tensorflow" in out.getvalue()
