"""Scripted runs recorded into a run store: the events of every kind of run, and a store filled with them."""

from __future__ import annotations

import functools
import time
from pathlib import Path

from mnist_tui.config import TrainConfig
from mnist_tui.events import BatchEnd, EpochEnd, Failed, Finished, Stage, Started
from mnist_tui.runs import (
    Recorder,
    open_store,
)
from tests.support import fakes

NOW = 1_767_268_800.0  # 2026-01-01 12:00 UTC: the fixed "now" of the fake runs


class Clock:
    def __init__(self, t: float = NOW) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class SavedModel:
    """A model stand-in whose save writes a small file (or fails, when told to)."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.name = "fake"

    def predict(self, images):  # pragma: no cover - not used by the recorder
        raise NotImplementedError

    def save(self, path: Path) -> None:
        if self.error is not None:
            raise self.error
        Path(path).write_bytes(b"k" * 1000)


@functools.cache
def fake_predictions():
    return fakes.fake_predictions()


def script(
    config: TrainConfig = fakes.CONFIG,
    *,
    epochs: int | None = None,
    outcome: str = "finished",
    batches: bool = True,
    model=None,
    test_accuracy: float | None = None,
) -> list:
    """A run's events: stages, Started, epochs with their batch losses, then the outcome."""
    epochs = config.epochs if epochs is None else epochs
    events: list = [
        Stage("Loading TensorFlow"),
        Stage("Loading data"),
        Started(config, config.epochs, fakes.STEPS, 101_770, fakes.SUMMARY, 60_000, 10_000),
    ]
    for n in range(1, epochs + 1):
        if batches:
            events.append(
                BatchEnd(n, 1875, 1875, 0.3 / n, 0.9, 2.0 * n, losses=tuple(0.3 / n + 0.001 * i for i in range(1875)))
            )
        e = fakes.epoch(n, config.epochs)
        if not config.validate:
            e = EpochEnd(e.epoch, e.epochs, e.loss, e.accuracy, None, None, e.seconds, e.elapsed)
        events.append(e)
    predictions = fake_predictions()
    if outcome in ("finished", "stopped"):
        accuracy = predictions.accuracy if test_accuracy is None else test_accuracy
        events.append(
            Finished(
                {},
                0.071,
                accuracy,
                predictions,
                stopped_early=outcome == "stopped",
                seconds=2.1 * epochs,
                model=model if model is not None else SavedModel(),
            )
        )
    elif outcome == "failed":
        events.append(
            Failed("Training diverged: the loss became NaN at epoch 2, batch 300.", "Try a smaller learning rate.")
        )
    return events


def record(
    home: Path, events: list, config: TrainConfig = fakes.CONFIG, clock=None, *, close: bool = True
) -> tuple[Recorder, list]:
    store = open_store(home, clock=clock or time.time)
    seen: list = []
    recorder = Recorder(store, seen.append, config)
    for event in events:
        recorder(event)
    if close:
        recorder.close()
    return recorder, seen


def fill_store(home: Path, now: float = NOW) -> None:
    """Eight runs of every kind, an hour or more apart, ending ``now``."""
    clock = Clock()
    hour = 3600.0
    plans = [
        (TrainConfig(), {"test_accuracy": 0.9781}),
        (TrainConfig(arch="cnn", epochs=3), {"test_accuracy": 0.9912}),
        (TrainConfig(learning_rate=0.01), {"epochs": 3, "outcome": "stopped", "test_accuracy": 0.9702}),
        (TrainConfig(learning_rate=10.0), {"epochs": 1, "outcome": "failed"}),
        (TrainConfig(epochs=5, seed=7, train_limit=5000, validate=False), {"test_accuracy": 0.9655}),
        (TrainConfig(hidden_units=256, dropout=0.0), {"epochs": 2, "outcome": "interrupted"}),
        (TrainConfig(batch_size=128), {"test_accuracy": 0.979}),  # its model file goes missing
        (TrainConfig(epochs=4), {"epochs": 2, "outcome": "running"}),
    ]
    starts = [now - h * hour for h in (30 * 24, 50, 26, 25.5, 5, 2.5, 0.75, 0.05)]
    for (config, plan), start in zip(plans, starts):
        clock.t = start
        events = script(
            config,
            epochs=plan.get("epochs"),
            outcome=plan.get("outcome", "finished"),
            batches=False,
            test_accuracy=plan.get("test_accuracy"),
        )
        recorder, _ = record(home, events, config, clock, close=False)
        if plan.get("outcome") == "interrupted":
            recorder.close()
        if config.batch_size == 128:
            recorder.store.model_path(recorder.run_id).unlink()
