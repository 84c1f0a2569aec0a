"""Deterministic stand-ins for Keras: fixed predictions and scripted trainers."""

from __future__ import annotations

import numpy as np

from mnist_tui.config import TrainConfig
from mnist_tui.events import BatchEnd, EpochEnd, Failed, Finished, Stage, Started, Stopped
from mnist_tui.predictions import Predictions


def digit_image(digit: int, shift: int = 0) -> np.ndarray:
    """A crude but recognisable 28x28 drawing of ``digit`` (a seven-segment shape)."""
    image = np.zeros((28, 28), np.uint8)
    segments = {
        "a": (slice(5, 7), slice(9, 19)),
        "b": (slice(5, 14), slice(17, 19)),
        "c": (slice(13, 23), slice(17, 19)),
        "d": (slice(21, 23), slice(9, 19)),
        "e": (slice(13, 23), slice(9, 11)),
        "f": (slice(5, 14), slice(9, 11)),
        "g": (slice(13, 15), slice(9, 19)),
    }
    shapes = ["abcdef", "bc", "abged", "abgcd", "fgbc", "afgcd", "afgedc", "abc", "abcdefg", "abcdfg"]
    for segment in shapes[digit]:
        rows, cols = segments[segment]
        image[rows, cols] = 255
        image[rows.start : rows.stop, max(cols.start - 1, 0)] //= 1
    image = np.roll(image, shift, axis=1)
    # soft edges so that both rendering modes show more than two grey levels
    image[1:, :] = np.maximum(image[1:, :], image[:-1, :] // 3)
    return image


def fake_predictions(n: int = 200, seed: int = 7) -> Predictions:
    """``n`` images with fixed labels and probabilities; about one in eight is a mistake."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 10
    images = np.stack([digit_image(int(d), shift=int(rng.integers(-2, 3))) for d in labels])
    probabilities = np.full((n, 10), 0.0, dtype=np.float32)
    for i, label in enumerate(labels):
        wrong = i % 8 == 5
        guess = (label + 3) % 10 if wrong else label
        confidence = 0.45 + 0.5 * rng.random()
        probabilities[i] = (1 - confidence) / 9
        probabilities[i, guess] = confidence
    return Predictions(images, labels.astype(np.uint8), probabilities)


class ScriptedTrainer:
    """Emits a fixed list of events, then (optionally) waits to be stopped."""

    def __init__(self, events: list, *, hold: bool = False) -> None:
        self.events = events
        self.hold = hold
        self.control = None

    def run(self, sink, control) -> None:
        self.control = control
        for event in self.events:
            sink(event)


CONFIG = TrainConfig(epochs=10)
STEPS = 1875
SUMMARY = "Flatten      (784,)                0\nDense        (128,)          100,480\nDropout      (128,)                0\nDense        (10,)             1,290"


def started(config: TrainConfig = CONFIG) -> Started:
    return Started(config, config.epochs, STEPS, 101_770, SUMMARY, 60_000, 10_000)


def epoch(n: int, epochs: int = 10) -> EpochEnd:
    loss = 0.30 / n**0.8
    return EpochEnd(n, epochs, loss, 1 - loss / 3, loss * 0.8, 1 - loss / 3.5, 2.0 + 0.1 * n, 2.1 * n)


def batches(epoch_number: int, upto: int) -> list[BatchEnd]:
    base = 2.1 * (epoch_number - 1)
    return [
        BatchEnd(
            epoch_number,
            step,
            STEPS,
            0.5 / (1 + step / 300) / epoch_number,
            0.85 + 0.1 * step / STEPS,
            base + step / 900,
        )
        for step in range(100, upto + 1, 100)
    ]


LOADING = [Stage("Loading data", "/data/mnist"), Stage("Loading TensorFlow")]
PREFIX = [
    Stage("Loading data"),
    Stage("Loading TensorFlow"),
    Stage("Building model", "mlp"),
    started(),
    Stage("Training"),
]
MID_TRAINING = [*PREFIX, epoch(1), epoch(2), *batches(3, 1200)]


def finished(stopped: bool = False, epochs_done: int = 10, model=None) -> list:
    predictions = fake_predictions()
    history = {"loss": [epoch(i).loss for i in range(1, epochs_done + 1)]}
    tail = [Stopped(epochs_done + 1, 700)] if stopped else []
    return [
        *PREFIX,
        *[epoch(i) for i in range(1, epochs_done + 1)],
        *tail,
        Stage("Evaluating"),
        Finished(history, 0.071, predictions.accuracy, predictions, stopped_early=stopped, seconds=21.4, model=model),
    ]


FAILED = [
    *PREFIX,
    epoch(1),
    *batches(2, 300),
    Failed("Training diverged: the loss became NaN at epoch 2, batch 300.", "Try a smaller learning rate (it was 10)."),
]


class TemplateModel:
    """Reads a digit by its likeness to the seven-segment :func:`digit_image` shapes (no Keras)."""

    def __init__(self) -> None:
        from mnist_tui.drawing import mnist_style

        self.templates = np.stack([mnist_style(digit_image(d)) for d in range(10)]).astype(np.float32) / 255
        self.calls = 0
        self.name = "templates"

    def predict(self, images: np.ndarray) -> np.ndarray:
        self.calls += 1
        x = np.asarray(images, np.float32).reshape(len(images), 1, 28, 28) / 255
        overlap = (x * self.templates).sum(axis=(2, 3))
        norms = np.sqrt((x * x).sum(axis=(2, 3)) * (self.templates**2).sum(axis=(1, 2))) + 1e-6
        logits = 12 * overlap / norms
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        return exp / exp.sum(axis=1, keepdims=True)

    def save(self, path) -> None:
        path.write_bytes(b"fake model")
