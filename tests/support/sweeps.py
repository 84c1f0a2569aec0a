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


def fake_view(n: int = 30, *, running: bool = True):
    """A 30-trial MLP sweep as the sweep screen reads it: complete, pruned, one failed and one running trial."""
    import numpy as np

    from mnist_tui.sweeps.space import default_space
    from mnist_tui.sweeps.study import SweepSpec
    from mnist_tui.sweeps.table import TrialRow
    from mnist_tui.sweeps.view import SweepView

    space = default_space("mlp")
    base = TrainConfig(epochs=4, train_limit=5000, seed=1)
    spec = SweepSpec("lr-search", space, base, seed=1, prune="median", trials=40)
    rng = np.random.default_rng(4)
    rows = []
    for number in range(n):
        params = {
            "learning_rate": float(10 ** rng.uniform(-4, -2)),
            "hidden_units": int(2 ** rng.uniform(5, 9)),
            "dropout": float(rng.uniform(0, 0.5)),
            "batch_size": int(rng.choice([32, 64, 128])),
        }
        config = base.with_changes(**params)
        curve = tuple(accuracy_of(config, e) for e in range(1, 5))
        state, value, note = "complete", curve[-1], ""
        if number >= 4 and curve[0] < 0.915:
            state, curve, value, note = "pruned", curve[:1], None, "pruned (median) after epoch 1"
        if number == 11:
            state, curve, value, note = "failed", (), None, "Training diverged"
        if running and number == n - 1:
            state, curve, value = "running", curve[:2], None
        rows.append(
            TrialRow(
                number, state, params, curve, value, None if state == "running" else 20.0 + number, 100 + number, note
            )
        )
    importances = {"learning_rate": 0.62, "hidden_units": 0.21, "dropout": 0.12, "batch_size": 0.05}
    return SweepView(spec, tuple(rows), importances)
