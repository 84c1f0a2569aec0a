"""Keras models for each architecture, and checks for models loaded from disk.

Imports Keras (and so its backend: set it first with :func:`mnist_tui.backend.prepare`);
only the training worker and headless mode import this module.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np

from .config import TrainConfig
from .datasets import MNIST, Dataset
from .files import keras_file_problem

# TensorFlow's (intra-op, inter-op) thread pools per architecture; None keeps its default
# (one thread per core for each). The MLP's ops are too small to split: on 2 cores one
# intra-op thread trains it about 25% faster and leaves a core to the UI. The CNN's
# convolutions gain from both cores. `python benchmarks/levers.py` measures both.
THREADS: dict[str, tuple[int, int] | None] = {"mlp": (1, 1), "cnn": None}


class ModelError(Exception):
    """A model file is missing, unreadable or does not fit the dataset's images and classes."""


def configure_threads(arch: str) -> bool:
    """Size TensorFlow's thread pools for ``arch``, if this process has not started them yet.

    TensorFlow fixes its pools at its first operation, so in a process that trains
    several models the first one decides. On JAX this does nothing (and never imports
    TensorFlow): XLA reads its thread flags before JAX starts (``backend.prepare``).
    Returns whether the pools were set.
    """
    threads = THREADS.get(arch)
    if threads is None or keras.config.backend() != "tensorflow":
        return False
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads[0])
        tf.config.threading.set_inter_op_parallelism_threads(threads[1])
    except RuntimeError:  # already started
        return False
    return True


@contextlib.contextmanager
def tensorflow_hidden() -> Iterator[None]:
    """Inside this block Keras takes TensorFlow as not installed, unless it is the backend or already loaded.

    Keras imports TensorFlow whenever it is installed to seed it and to look for its shapes
    when saving, even on JAX, where nothing uses it: seconds, and hundreds of MB.
    """
    lazy = getattr(getattr(keras.src.utils, "module_utils", None), "tensorflow", None)
    if (
        keras.config.backend() == "tensorflow"
        or "tensorflow" in sys.modules
        or lazy is None
        or not hasattr(lazy, "_available")
    ):
        yield
        return
    known = lazy._available
    lazy._available = False
    try:
        yield
    finally:
        lazy._available = known


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and Keras (and TensorFlow when it is the backend)."""
    with tensorflow_hidden():
        keras.utils.set_random_seed(seed)


def build_model(
    config: TrainConfig,
    steps_per_epoch: int | None = None,
    policy: str = "float32",
    dataset: Dataset = MNIST,
    start_step: int = 0,
) -> keras.Model:
    """Build and compile the model ``config.arch`` describes, for ``dataset``'s images and classes.

    The MLP is the reference model: Adam at a constant learning rate. The CNN's learning
    rate follows a cosine from ``config.learning_rate`` down to zero over the whole run
    (when ``steps_per_epoch`` is known), which steadies its last epochs: 99.35-99.44% over
    three seeds, against 99.14-99.34% at a constant rate.

    Args:
        config: The architecture and its hyperparameters.
        steps_per_epoch: Batches per epoch, for the CNN's learning-rate schedule.
        policy: Keras dtype policy of every layer but the last (``"mixed_bfloat16"``,
            ``"mixed_float16"``, ``"float32"``); the softmax layer, and so the loss, stay
            float32. Keras wraps the optimizer in loss scaling for ``mixed_float16``.
        dataset: Sets the input shape and the number of outputs.
        start_step: The optimizer step training starts at (a finished run trained further):
            the CNN's cosine then starts again from ``config.learning_rate`` at that step and
            falls to zero over ``config.epochs`` more epochs (a warm restart).
    """
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)  # layers take the policy when they are created
    try:
        return _build(config, steps_per_epoch, dataset, start_step)
    finally:
        keras.config.set_dtype_policy(previous)


def _build(config: TrainConfig, steps_per_epoch: int | None, dataset: Dataset, start_step: int = 0) -> keras.Model:
    learning_rate: float | keras.optimizers.schedules.LearningRateSchedule = config.learning_rate
    if config.arch == "cnn":
        # two 5x5 convolution blocks, then the same dense head as the MLP
        model = keras.Sequential(
            [
                keras.Input(shape=dataset.image_shape, name="image"),
                keras.layers.Reshape((*dataset.image_shape, 1)),
                keras.layers.Conv2D(32, 5, padding="same", activation="relu"),
                keras.layers.MaxPooling2D(),
                keras.layers.Conv2D(64, 5, padding="same", activation="relu"),
                keras.layers.MaxPooling2D(),
                keras.layers.Flatten(),
                keras.layers.Dense(config.hidden_units, activation="relu"),
                keras.layers.Dropout(config.dropout),
                keras.layers.Dense(dataset.num_classes, activation="softmax", dtype="float32"),
            ],
            name="cnn",
        )
        if steps_per_epoch and start_step:
            # the steps before start_step are the parent's, already taken: a "warm-up" that is over
            learning_rate = keras.optimizers.schedules.CosineDecay(
                0.0,
                decay_steps=config.epochs * steps_per_epoch,
                warmup_target=config.learning_rate,
                warmup_steps=start_step,
            )
        elif steps_per_epoch:
            learning_rate = keras.optimizers.schedules.CosineDecay(
                config.learning_rate, decay_steps=config.epochs * steps_per_epoch
            )
    else:
        model = keras.Sequential(
            [
                keras.Input(shape=dataset.image_shape, name="image"),
                keras.layers.Flatten(),
                keras.layers.Dense(config.hidden_units, activation="relu"),
                keras.layers.Dropout(config.dropout),
                keras.layers.Dense(dataset.num_classes, activation="softmax", dtype="float32"),
            ],
            name="mlp",
        )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=config.steps_per_execution,
    )
    return model


def summary_text(model: keras.Model) -> str:
    """One line per layer: name, output shape, parameters."""
    lines = []
    for layer in model.layers:
        shape = tuple(layer.output.shape[1:]) if hasattr(layer, "output") else ()
        lines.append(f"{type(layer).__name__:<12} {str(shape):<14} {layer.count_params():>8,}")
    return "\n".join(lines)


def scale(images: np.ndarray) -> np.ndarray:
    """uint8 pixels -> float32 in [0, 1], the way the models were trained."""
    return np.asarray(images, dtype=np.float32) / 255.0


def load_model(path: Path, dataset: Dataset = MNIST) -> keras.Model:
    """Load a ``.keras`` model in safe mode and check that it classifies ``dataset``'s images into its classes.

    Raises:
        ModelError: with what is wrong with the file.
    """
    path = Path(path)
    if problem := keras_file_problem(path):
        raise ModelError(problem)
    try:
        model = keras.models.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # Keras raises many types for a bad file
        if "arbitrary code" in str(exc):
            raise ModelError(
                f"{path}: refused: the model contains Python code (such as a Lambda layer), "
                "which mnist-tui never runs from a model file"
            ) from None
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"{path}: not a readable Keras model ({reason[:160]})") from None
    check_model_shape(model, path, dataset)
    return model


def check_model_shape(model: keras.Model, path: Path, dataset: Dataset = MNIST) -> None:
    """Raise :class:`ModelError` unless the model fits ``dataset``: its images in, one output per class.

    The images may come as they are, with a channel axis, or flattened.
    """
    try:
        inputs = tuple(model.inputs[0].shape[1:])
        outputs = tuple(model.outputs[0].shape[1:])
    except Exception:
        raise ModelError(f"{path}: model has no defined input and output shapes") from None
    if inputs not in (dataset.image_shape, (*dataset.image_shape, 1), (dataset.pixels,)):
        raise ModelError(f"{path}: model expects input {inputs}, not {dataset.height}x{dataset.width} images")
    if outputs != (dataset.num_classes,):
        raise ModelError(f"{path}: model outputs {outputs}, not {dataset.num_classes} classes")


def predictor(model: keras.Model):
    """A fast callable ``(n, height, width) uint8 -> (n, classes) probabilities`` for a few images.

    ``predict_on_batch`` runs the backend's compiled predict step: 0.9 ms for one image
    of the MLP on 2 cores, against 4.3 ms for an eager ``model(x)`` call and tens of
    milliseconds for ``model.predict``, which builds a dataset per call.
    """
    inputs = tuple(model.inputs[0].shape[1:])

    def predict(images: np.ndarray) -> np.ndarray:
        x = scale(images).reshape((len(images), *inputs))
        return np.asarray(model.predict_on_batch(x), dtype=np.float32)

    return predict
