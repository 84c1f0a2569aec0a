"""The test probabilities and labels ``mnist-tui labels`` ranks: from a recorded run or a model file.

A recorded run's saved probabilities need no TensorFlow; a model file (or a run whose
predictions are gone but whose model is kept) is scored on the test set first, which loads
TensorFlow (``mnist-tui labels`` is a batch command, so that is fine), with descriptor 2 sent
to the log file meanwhile so that TensorFlow's start-up lines stay off the terminal. Only
the test images are read (or downloaded): the ranking needs nothing else. A model file is
checked before TensorFlow loads (:func:`check_model_file`), so a wrong file is refused at
once. The ranking itself is :func:`~mnist_tui.analysis.suspicious_labels`; the command is
:mod:`mnist_tui.commands.labels`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .files import keras_file_problem


def check_model_file(path: Path) -> None:
    """Raise :class:`LabelsError` unless ``path`` looks like a ``.keras`` file (:func:`~mnist_tui.files.keras_file_problem`)."""
    if problem := keras_file_problem(path):
        raise LabelsError(problem)


class LabelsError(Exception):
    """The ranking cannot be made; the message is one line for a person."""


def load_test_split(data_path: Path | None):
    """MNIST's test images and labels only (its training files are never read nor downloaded)."""
    from .data import load_mnist

    try:
        return load_mnist(data_path, splits=("test",))
    except Exception as exc:
        raise LabelsError(f"cannot load MNIST: {exc}") from None


def given_test_labels(data_path: Path | None) -> np.ndarray:
    return load_test_split(data_path).y_test


def model_probabilities(model_path: Path, data_path: Path | None) -> tuple[np.ndarray, np.ndarray]:
    """Score the saved model on the test set: ``(probabilities, labels)``."""
    check_model_file(model_path)
    data = load_test_split(data_path)
    from .terminal import stderr_to_log

    # TensorFlow's C++ start-up lines go straight to descriptor 2: into the log, not the terminal
    with stderr_to_log():
        from . import models

        try:
            model = models.load_model(model_path)
        except models.ModelError as exc:
            raise LabelsError(str(exc)) from None
        predict = models.predictor(model)
        batches = [predict(data.x_test[i : i + 1000]) for i in range(0, len(data.x_test), 1000)]
    return np.concatenate(batches).astype(np.float64), data.y_test


def run_probabilities(run_id: int, data_path: Path | None) -> tuple[np.ndarray, np.ndarray]:
    """A recorded run's saved test probabilities and the labels saved with them (no TensorFlow)."""
    from .runs import StoreError, open_store

    try:
        store = open_store()
        run = store.get_run(run_id)
        if not run.has_predictions and run.has_model:
            return model_probabilities(store.model_path(run_id), data_path)
        probabilities = store.load_probabilities(run_id)
        with np.load(store.predictions_path(run_id)) as saved:
            labels = np.asarray(saved["labels"]) if "labels" in saved.files else None
    except StoreError as exc:
        raise LabelsError(str(exc)) from None
    except (OSError, ValueError) as exc:
        raise LabelsError(f"cannot read run {run_id}'s predictions: {exc}") from None
    if labels is None:
        labels = given_test_labels(data_path)
    if len(labels) != len(probabilities):
        raise LabelsError(f"run {run_id} has {len(probabilities):,} predictions for {len(labels):,} labels")
    return probabilities.astype(np.float64), labels
