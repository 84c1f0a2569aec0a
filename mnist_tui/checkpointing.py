"""The trainer's side of checkpoints: a Keras model and its optimizer to arrays and back, and the data order.

Keras's ``BackupAndRestore`` keeps one checkpoint, deletes it on success and saves no
schedule or callback state; this keeps every variable of the model (the dropout seed
generator's state included) and of the optimizer (its step is the learning-rate
schedule's position), and owns the data order: epoch ``e`` visits the training images in
the permutation seeded by ``(order_seed, e)``, so a resumed run sees the very batches
the uninterrupted one would have. The file format is :mod:`mnist_tui.runs.checkpoints`.

Only the trainer process imports this (it handles Keras objects, though it imports no Keras itself).
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

import numpy as np

from .runs.checkpoints import Checkpoint, CheckpointError


def order_seed(seed: int | None) -> int:
    """The data order's seed: the run's seed when it has one (reproducible), else a fresh random one."""
    return int(seed) if seed is not None else secrets.randbits(31)


def epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """The order in which epoch ``epoch`` (0-based) visits ``n`` training images."""
    return np.random.default_rng([seed, epoch]).permutation(n)


def training_fingerprint(images: np.ndarray, labels: np.ndarray) -> str:
    """A short hash of the training images and labels a run trains on (about 50 ms for MNIST's 60,000)."""
    digest = hashlib.blake2b(digest_size=8)
    digest.update(np.ascontiguousarray(images).tobytes())
    digest.update(np.ascontiguousarray(labels).tobytes())
    return digest.hexdigest()


def _numpy(variable: Any) -> np.ndarray:
    return np.array(variable.numpy() if hasattr(variable, "numpy") else variable, copy=True)


def variables(model: Any) -> tuple[tuple[str, ...], tuple[np.ndarray, ...], tuple[str, ...], tuple[np.ndarray, ...]]:
    """``(model names, model arrays, optimizer names, optimizer arrays)`` of a model after ``fit()``."""
    optimizer = model.optimizer
    model_vars = list(model.variables)
    optimizer_vars = list(optimizer.variables) if optimizer is not None and optimizer.built else []
    return (
        tuple(v.path for v in model_vars),
        tuple(_numpy(v) for v in model_vars),
        tuple(v.path for v in optimizer_vars),
        tuple(_numpy(v) for v in optimizer_vars),
    )


def restore(model: Any, checkpoint: Checkpoint) -> None:
    """Load the checkpoint's variables into a freshly built ``model`` (its optimizer is built here).

    Raises:
        CheckpointError: the checkpoint's variables do not fit this model (another architecture or size).
    """
    model_vars = list(model.variables)
    _check("model", [tuple(v.shape) for v in model_vars], checkpoint.model_variables)
    for variable, value in zip(model_vars, checkpoint.model_variables):
        variable.assign(value)
    optimizer = model.optimizer
    if not optimizer.built:
        optimizer.build(model.trainable_variables)
    optimizer_vars = list(optimizer.variables)
    _check("optimizer", [tuple(v.shape) for v in optimizer_vars], checkpoint.optimizer_variables)
    for variable, value in zip(optimizer_vars, checkpoint.optimizer_variables):
        variable.assign(np.asarray(value).astype(variable.dtype))


def _check(what: str, shapes: list[tuple], arrays: tuple[np.ndarray, ...]) -> None:
    if len(shapes) != len(arrays):
        raise CheckpointError(f"the checkpoint's {what} has {len(arrays)} variables; this one has {len(shapes)}")
    for i, (shape, array) in enumerate(zip(shapes, arrays)):
        if tuple(shape) != tuple(array.shape):
            raise CheckpointError(
                f"the checkpoint's {what} variable {i} has shape {tuple(array.shape)}; this one needs {tuple(shape)}"
            )


def optimizer_step(model: Any) -> int:
    """The optimizer's step count (0 before its first update)."""
    optimizer = model.optimizer
    return int(_numpy(optimizer.iterations)) if optimizer is not None and optimizer.built else 0
