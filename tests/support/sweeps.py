"""A scripted trainer for sweeps: its accuracy is a smooth function of the options, so a search can find the best."""

from __future__ import annotations

import math

from mnist_tui.config import TrainConfig
from mnist_tui.events import EpochEnd, Failed, Finished, Started
from tests.support import fakes
from tests.support.store import SavedModel, fake_predictions


def accuracy_of(config: TrainConfig, epoch: int) -> float:
    """Best near lr=3e-3, hidden=256, dropout=0.2; rises with each epoch."""
    penalty = 0.02 * abs(math.log10(config.learning_rate) + 2.5) + 0.01 * abs(math.log2(config.hidden_units / 256))
    penalty += 0.02 * abs(config.dropout - 0.2)
    return round(0.97 - penalty - 0.03 / epoch, 6)


class FakeSweepTrainer:
    """Emits Started, an EpochEnd per epoch (stopping after one when asked), then Finished; fails when lr > 0.5."""

    def __init__(self, config: TrainConfig) -> None:
        self.config = config

    def run(self, sink, control) -> None:
        config = self.config
        sink(Started(config, config.epochs, 10, 1000, fakes.SUMMARY, 500, 10_000))
        if config.learning_rate > 0.5:
            sink(Failed("Training diverged: the loss became NaN at epoch 1, batch 3."))
            return
        done = 0
        for n in range(1, config.epochs + 1):
            acc = accuracy_of(config, n)
            sink(EpochEnd(n, config.epochs, 1 - acc, acc, 1 - acc, acc, 1.0, float(n)))
            done = n
            if control.halted:
                break
        if control.cancel.is_set():
            return
        predictions = fake_predictions()
        sink(
            Finished(
                {},
                0.1,
                accuracy_of(config, done),
                predictions,
                stopped_early=done < config.epochs,
                seconds=float(done),
                model=SavedModel(),
            )
        )
