"""Recorded runs to compare: their curves, their mistakes, and an app that opens the comparison."""

from __future__ import annotations

import numpy as np
from textual.app import App

from mnist_tui.app import MnistApp
from mnist_tui.config import TrainConfig
from mnist_tui.data import MnistData
from mnist_tui.runs import Epoch, open_store
from mnist_tui.screens.compare import CompareScreen
from mnist_tui.screens.runs import RunsScreen
from mnist_tui.session import TestSet
from tests.support.fakes import digit_image
from tests.support.store import NOW

N = 200


LABELS = np.arange(N) % 10


def probabilities(wrong: np.ndarray) -> np.ndarray:
    """Made-up probabilities: each image's label (or label + 3 where ``wrong``) at a fixed confidence."""
    guess = np.where(wrong, (LABELS + 3) % 10, LABELS)
    confidence = 0.5 + 0.45 * ((np.arange(N) * 37) % 100) / 100
    out = np.repeat(((1 - confidence) / 9)[:, None], 10, axis=1).astype(np.float32)
    out[np.arange(N), guess] = confidence
    return out


def curve(epochs: int, speed: float, floor: float, rise: float = 0.0) -> list[tuple[float, float, float, float]]:
    """(loss, accuracy, val_loss, val_accuracy) per epoch: falls at ``speed`` to ``floor``, val_loss then ``rise``s."""
    rows = []
    for n in range(1, epochs + 1):
        loss = floor + 0.3 / n**speed
        val_loss = floor + 0.02 + 0.2 / n**speed + rise * max(0, n - 4)
        rows.append((loss, 1 - loss / 3, val_loss, 1 - val_loss / 3.2))
    return rows


def add_run(
    store, config: TrainConfig, rows, *, wrong=None, outcome: str = "finished", message: str | None = None
) -> int:
    """Record a run through the store's API: its epochs, then its outcome and (when ``wrong`` is given) its predictions."""
    run_id = store.create_run(config)
    store.update_started(
        run_id, config, params=101_770, steps_per_epoch=1875, train_size=60_000, test_size=N, summary=""
    )
    for n, (loss, accuracy, val_loss, val_accuracy) in enumerate(rows, 1):
        store.record_epoch(run_id, Epoch(n, loss, accuracy, val_loss, val_accuracy, 2.0, 2.0 * n), np.zeros(0), 1)
    if outcome in ("finished", "stopped"):
        probs = probabilities(wrong)
        accuracy = float((probs.argmax(axis=1) == LABELS).mean())
        store.finish(
            run_id,
            outcome,
            test_loss=rows[-1][2],
            test_accuracy=accuracy,
            mistakes=int(wrong.sum()),
            seconds=2.1 * len(rows),
            data_fingerprint="fake",
        )
        store.save_probabilities(run_id, probs, LABELS)
    else:
        store.end(run_id, outcome, message)
    return run_id


WRONG_1 = np.arange(N) % 8 == 5  # 25 mistakes


WRONG_2 = np.arange(N) % 7 == 3  # 29 mistakes; 45, 101 and 157 are wrong in both


WRONG_3 = np.arange(N) % 9 == 0  # 23 mistakes; 45, 117 and 189 are wrong in 1 too


def fake_test_set() -> MnistData:
    images = np.stack([digit_image(int(d)) for d in LABELS])
    empty = np.zeros((0, 28, 28), np.uint8)
    return MnistData(empty, np.zeros(0, np.uint8), images, LABELS.astype(np.uint8), source="fake")


def fill(home) -> None:
    """Run 1 (defaults), 2 (lr=0.01, overfits), 3 (a CNN, 5 epochs), 4 (failed before its first epoch)."""
    store = open_store(home, clock=lambda: NOW)
    add_run(store, TrainConfig(), curve(10, 0.8, 0.02), wrong=WRONG_1)
    add_run(store, TrainConfig(learning_rate=0.01), curve(10, 1.2, 0.015, rise=0.012), wrong=WRONG_2)
    add_run(store, TrainConfig(arch="cnn", epochs=5, batch_size=64), curve(5, 1.5, 0.01), wrong=WRONG_3)
    add_run(
        store, TrainConfig(learning_rate=10.0), [], outcome="failed", message="Training diverged: the loss became NaN."
    )
    store.close()


class CompareApp(App):
    """The comparison alone (or the runs screen, to reach it with keys), with the app's stylesheet."""

    CSS_PATH = MnistApp.CSS_PATH
    TITLE = "mnist-tui"

    def __init__(self, home, run_ids=None, *, images: bool = True) -> None:
        super().__init__()
        self.store = open_store(home, clock=lambda: NOW)
        self.run_ids = run_ids
        self.images = TestSet(fake_test_set() if images else None)  # the session's, as the app hands it on
        self.animation_level = "none"

    def get_default_screen(self):
        if self.run_ids is None:
            return RunsScreen(self.store, now=lambda: NOW, test_set=self.images)
        return CompareScreen(self.store, self.run_ids, test_set=self.images)
