"""What a model needs in memory, estimated from its options alone, and the trainer's refusal of one that cannot fit."""

from __future__ import annotations

import pytest

from mnist_tui import footprint
from mnist_tui.config import TrainConfig
from mnist_tui.events import Failed

CONFIGS = [
    TrainConfig(),
    TrainConfig(hidden_units=7, batch_size=1),
    TrainConfig(arch="cnn"),
    TrainConfig(arch="cnn", hidden_units=3, batch_size=256),
]


def test_the_reference_mlp_and_cnn_parameter_counts():
    # Flatten -> Dense(128) -> Dropout -> Dense(10): 784*128+128 + 128*10+10, as the model panel shows
    assert footprint.parameter_count(TrainConfig()) == 101_770
    # conv 5x5x1x32 (832), conv 5x5x32x64 (51,264), 7*7*64 -> 128 (401,536), 128 -> 10 (1,290)
    assert footprint.parameter_count(TrainConfig(arch="cnn")) == 454_922
    assert footprint.parameter_count(TrainConfig(hidden_units=3_000_000)) == 2_385_000_010


def test_the_estimate_adds_the_optimizer_state_the_activations_and_the_data():
    config = TrainConfig(hidden_units=1000, batch_size=64, train_limit=1000)
    needs = footprint.estimate(config, scoring_batch=10)
    assert needs.model_bytes == 4 * footprint.parameter_count(config) * 4  # weights, gradients, Adam's 2 slots
    per_image = (2 * 784 + 3 * 1000 + 2 * 10) * 4
    assert needs.activation_bytes == 2 * 64 * per_image  # training batch, forward and backward
    assert footprint.estimate(config, scoring_batch=1000).activation_bytes == 1000 * per_image  # scoring is larger
    assert needs.data_bytes == (1000 + 10_000) * 784 * 5  # uint8 as read, float32 scaled
    assert needs.total == needs.model_bytes + needs.activation_bytes + needs.data_bytes
    wider = footprint.estimate(TrainConfig(hidden_units=2000, batch_size=64, train_limit=1000), scoring_batch=10)
    assert wider.total > needs.total


def test_a_model_too_large_for_the_memory_available_is_named_with_both_sizes(monkeypatch):
    monkeypatch.delenv("MNIST_TUI_MEMORY_CHECK", raising=False)
    huge = TrainConfig(hidden_units=3_000_000)
    reason = footprint.too_large(huge, available=24 * 10**9)
    assert reason is not None and reason.endswith("GB needed, 24.0 GB available")
    assert float(reason.split()[0]) > 38  # 2.4 billion parameters x 16 bytes alone
    assert footprint.too_large(TrainConfig(), available=24 * 10**9) is None
    assert footprint.too_large(TrainConfig(), available=100 * 10**6) == "284 MB needed, 100 MB available"
    monkeypatch.setattr(footprint, "available_memory", lambda: None)
    assert footprint.too_large(huge) is None  # unknown: nothing refused
    monkeypatch.setattr(footprint, "available_memory", lambda: 10**9)
    assert footprint.too_large(huge) is not None
    monkeypatch.setenv("MNIST_TUI_MEMORY_CHECK", "0")
    assert footprint.too_large(huge) is None


def test_available_memory_reads_meminfo_and_a_cgroup_limit(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       24683584 kB\nMemFree: 1 kB\nMemAvailable:   23661640 kB\n")
    cgroup = tmp_path / "cgroup"
    cgroup.mkdir()
    assert footprint.available_memory(meminfo, cgroup) == 23661640 * 1024
    (cgroup / "memory.max").write_text("max\n")
    (cgroup / "memory.current").write_text("1000\n")
    assert footprint.available_memory(meminfo, cgroup) == 23661640 * 1024
    (cgroup / "memory.max").write_text(f"{8 * 2**30}\n")
    assert footprint.available_memory(meminfo, cgroup) == 8 * 2**30 - 1000
    assert footprint.available_memory(tmp_path / "none", tmp_path / "none") is None


def test_the_trainer_refuses_a_model_that_cannot_fit_before_loading_anything(monkeypatch):
    from mnist_tui.training import KerasTrainer

    monkeypatch.delenv("MNIST_TUI_MEMORY_CHECK", raising=False)
    monkeypatch.setattr(footprint, "available_memory", lambda: 24 * 10**9)
    events = []
    # no data given and none to find: had it gone on, it would have loaded (or downloaded) MNIST first
    KerasTrainer(TrainConfig(epochs=1, hidden_units=3_000_000, data=None)).run(events.append)
    assert len(events) == 1 and isinstance(events[0], Failed), events
    assert events[0].message.startswith("Out of memory while building the model (")
    assert events[0].message.endswith(" GB needed, 24.0 GB available).")
    assert "fewer hidden units (it was 3,000,000)" in events[0].hint


@pytest.mark.keras
def test_parameter_counts_match_keras():
    from mnist_tui import models

    for config in CONFIGS:
        assert footprint.parameter_count(config) == models.build_model(config).count_params(), config
