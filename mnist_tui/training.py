"""The trainer: loads MNIST, builds the model, runs ``fit()`` and reports events to a sink.

No Textual here. The trainer runs on whatever thread calls :meth:`KerasTrainer.run`
(the app's worker thread, or the main thread in headless mode) and talks only
through the sink, a plain callable.

TensorFlow is imported inside :meth:`KerasTrainer.run`, so constructing a trainer
is instant and the UI can paint before TensorFlow is loaded.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from . import checkpointing, footprint
from .backend import BackendError
from .config import ConfigError, TrainConfig
from .data import DataError, DownloadCancelled, MnistData, load_mnist
from .datasets import MNIST
from .events import (
    BatchEnd,
    DownloadProgress,
    EpochEnd,
    Failed,
    Finished,
    LossCurve,
    Notice,
    RunControl,
    Sink,
    Stage,
    Started,
    Stopped,
    one_line,
)
from .files import atomic_path, atomic_write
from .predictions import Predictions
from .runs import checkpoints
from .runs.checkpoints import Checkpoint, CheckpointError, EpochRow
from .runs.store import config_json

BATCH_INTERVAL = 0.25  # seconds between batch events: 4 UI updates a second look live and cost the UI half what 10 did
# Images per step when scoring the test set: validation needs no small batches, and
# fewer steps save about 5% of a reference run (benchmarks/levers.py).
VALIDATION_BATCH = 1000


class Cancelled(Exception):
    """The run was abandoned because the app is quitting."""


class ModelTooLarge(Exception):
    """The model's estimated needs exceed the memory available; the message says both (``footprint.too_large``)."""


class TrainingDiverged(Exception):
    """The loss became NaN or infinite."""


def make_metrics_callback(
    sink: Sink,
    control: RunControl,
    *,
    epochs: int,
    steps_per_epoch: int,
    clock: Callable[[], float] = time.perf_counter,
    interval: float = BATCH_INTERVAL,
    elapsed_before: float = 0.0,
    curve: LossCurve | None = None,
):
    """Build the Keras callback that turns ``fit()`` hooks into events.

    The callback is ``async_safe``: Keras may call its batch hook from a helper
    thread, so the training loop never waits for it; it never reads tensors itself
    (Keras hands it Python floats) and emits batch events at most every
    ``interval`` seconds. The same callback serves every ``fit()`` call of a run (one
    per epoch): its clock starts at the first, ``elapsed_before`` seconds in (a resumed
    run's), and it keeps the run's batch-loss curve (``curve`` continued) for checkpoints.
    """
    import keras

    from .runs.recorder import Downsampler

    class MetricsCallback(keras.callbacks.Callback):
        async_safe = True

        def __init__(self) -> None:
            super().__init__()
            self._lock = threading.Lock()
            self._last_emit = -math.inf
            self._epoch = 0
            self._epoch_start = 0.0
            self._fit_start = 0.0
            self.stopped_at: tuple[int, int] | None = None
            self.diverged_at: tuple[int, int] | None = None
            self._losses: list[float] = []  # reported since the last batch event
            self._accuracies: list[float] = []
            self._began = False
            self.curve = Downsampler.restored(curve) if curve is not None else Downsampler()
            self.rows: list[EpochEnd] = []

        def curve_state(self) -> LossCurve:
            with self._lock:
                return self.curve.state()

        def on_train_begin(self, logs: dict | None = None) -> None:
            if not self._began:
                self._began = True
                self._fit_start = clock() - elapsed_before
            # Read once, here: on JAX every read of ``self.model`` syncs the training state into
            # the model, which from Keras's callback thread races with the loop (deleted arrays).
            self.trained = self.model

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self._epoch = epoch
            self._epoch_start = clock()
            self._last_emit = -math.inf
            self._losses, self._accuracies = [], []

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            logs = logs or {}
            loss = float(logs.get("loss", math.nan))
            accuracy = float(logs.get("accuracy", math.nan))
            step = batch + 1
            with self._lock:
                self._losses.append(loss)
                self._accuracies.append(accuracy)
                self.curve.add(loss)
                if not math.isfinite(loss) and self.diverged_at is None:
                    self.diverged_at = (self._epoch + 1, step)
                    self.trained.stop_training = True
                    return
                if control.halted:
                    self.trained.stop_training = True
                    if self.stopped_at is None and not control.cancel.is_set():
                        self.stopped_at = (self._epoch + 1, step)
                        losses, accuracies = tuple(self._losses), tuple(self._accuracies)
                        self._losses, self._accuracies = [], []
                        stopped = Stopped(
                            self._epoch + 1,
                            min(step, steps_per_epoch),
                            steps=steps_per_epoch,
                            loss=loss,
                            accuracy=accuracy,
                            elapsed=clock() - self._fit_start,
                            losses=losses,
                            accuracies=accuracies,
                        )
                        sink(stopped)
                    return
                now = clock()
                if now - self._last_emit < interval and step < steps_per_epoch:
                    return
                self._last_emit = now
                losses, accuracies = tuple(self._losses), tuple(self._accuracies)
                self._losses, self._accuracies = [], []
            sink(
                BatchEnd(
                    epoch=self._epoch + 1,
                    step=min(step, steps_per_epoch),
                    steps=steps_per_epoch,
                    loss=loss,
                    accuracy=accuracy,
                    elapsed=now - self._fit_start,
                    losses=losses,
                    accuracies=accuracies,
                )
            )

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            logs = logs or {}
            if self.diverged_at is not None or control.cancel.is_set():
                return
            now = clock()

            def get(key: str) -> float | None:
                return float(logs[key]) if key in logs else None

            ended = EpochEnd(
                epoch=epoch + 1,
                epochs=epochs,
                loss=float(logs.get("loss", math.nan)),
                accuracy=float(logs.get("accuracy", math.nan)),
                val_loss=get("val_loss"),
                val_accuracy=get("val_accuracy"),
                seconds=now - self._epoch_start,
                elapsed=now - self._fit_start,
            )
            self.rows.append(ended)
            sink(ended)
            if not math.isfinite(float(logs.get("loss", 0.0))):
                self.diverged_at = self.diverged_at or (epoch + 1, steps_per_epoch)
                self.trained.stop_training = True
            elif control.stop.is_set() and self.stopped_at is None:
                # asked while this epoch's event was handled (a sweep's pruner): end here, not a batch into the next
                self.stopped_at = (epoch + 1, steps_per_epoch)
                self.trained.stop_training = True

    return MetricsCallback()


class KerasTrainer:
    """Trains one model on MNIST with Keras, reporting through a sink.

    Args:
        config: What to train and how.
        data: Already-loaded MNIST (skips the data search; tests use this).
        clock: Source of seconds for timings in events.
    """

    def __init__(
        self,
        config: TrainConfig,
        data: MnistData | None = None,
        clock: Callable[[], float] = time.perf_counter,
        *,
        checkpoint_dir: Path | None = None,
        resume: Checkpoint | Path | None = None,
        further: bool = False,
    ) -> None:
        self.config = config
        self.data = data
        self.clock = clock
        self.checkpoint_dir = checkpoint_dir
        """Where a checkpoint is written after every epoch (``None``: nowhere)."""
        self.resume = resume
        """The checkpoint this run goes on from (or the run folder holding it): its own (a resume) or,
        when ``further``, its parent's."""
        self.further = further
        self.model: Any = None
        self.phase = "loading"  # what the run was doing, for an out-of-memory message
        self._sink: Sink | None = None
        self._checkpoint_failed = False

    def run(self, sink: Sink, control: RunControl | None = None) -> None:
        """Run to the end, reporting every phase; never raises (failures become ``Failed`` events)."""
        control = control or RunControl()
        try:
            self._run(sink, control)
        except Cancelled:
            pass
        except DownloadCancelled:
            pass
        except DataError as exc:
            sink(Failed(str(exc), "Check the data path, or pass --data DIR with the four MNIST files."))
        except ConfigError as exc:
            sink(Failed(str(exc), "Choose a smaller --holdout."))
        except TrainingDiverged as exc:
            sink(Failed(str(exc), f"Try a smaller learning rate (it was {self.config.learning_rate:g})."))
        except ModelTooLarge as exc:
            sink(Failed(f"Out of memory while building the model ({exc}).", memory_hint(self.config)))
        except BackendError as exc:
            sink(Failed(str(exc), "Choose another --backend, or unset KERAS_BACKEND."))
        except CheckpointError as exc:
            sink(Failed(f"Cannot go on from the checkpoint: {exc}.", "Start a new run with the same options instead."))
        except Exception as exc:  # the UI must show any failure, never lose it
            oom = out_of_memory(exc, self.phase, self.config)
            if oom is not None:
                sink(oom)
            else:
                sink(Failed(one_line(exc), "See the log file for details.", traceback.format_exc()))

    def _run(self, sink: Sink, control: RunControl) -> None:
        config = self.config
        self._sink = sink

        def checkpoint() -> None:
            if control.cancel.is_set():
                raise Cancelled

        # A model that cannot fit is refused before anything loads: growing into the kernel's
        # out-of-memory killer would take the machine (and everything else on it) down with it.
        if (too_large := footprint.too_large(config, VALIDATION_BATCH)) is not None:
            raise ModelTooLarge(too_large)
        # The data first: finding it needs no TensorFlow, and a missing file is said at once.
        data = self.data or load_reporting(config, sink, control)
        checkpoint()
        from . import backend

        chosen = backend.prepare(config.backend, config.arch)  # before Keras is imported
        sink(Stage(f"Loading {backend.title(chosen.value)}"))
        from . import models  # imports Keras and its backend

        checkpoint()
        models.configure_threads(config.arch)  # before the seed: it may start TensorFlow
        precision = backend.resolve_precision(
            config.precision, config.arch, flags=backend.cpu_flags(), gpus=backend.visible_gpus(chosen.value)
        )
        config = replace(config, precision_ran=precision.label, backend_ran=chosen.label)
        if config.seed is not None:
            models.set_seed(config.seed)
        x_train, y_train = data.x_train, data.y_train
        x_val, y_val = data.x_test, data.y_test
        if config.holdout is not None:  # the last N training images validate; they never train
            if config.holdout >= len(x_train):
                raise ConfigError(
                    f"The holdout ({config.holdout:,}) must leave training images: there are {len(x_train):,}."
                )
            x_val, y_val = x_train[-config.holdout :], y_train[-config.holdout :]
            x_train, y_train = x_train[: -config.holdout], y_train[: -config.holdout]
        if config.train_limit is not None:
            x_train, y_train = x_train[: config.train_limit], y_train[: config.train_limit]
        x_train_f, x_test_f = models.scale(x_train), models.scale(data.x_test)
        x_val_f = x_test_f if config.holdout is None else models.scale(x_val)

        sink(Stage("Building model", config.arch))
        self.phase = "building"
        steps = math.ceil(len(x_train) / config.batch_size)
        resume = checkpoints.read(self.resume) if isinstance(self.resume, Path) else self.resume
        further = self.further
        fingerprint = checkpointing.training_fingerprint(x_train, y_train)
        if resume is not None and resume.data_fingerprint != fingerprint:
            sink(Notice("The training data differ from those the checkpoint was trained on (their checksum changed)."))
        if resume is not None and not further and resume.backend != chosen.value:
            sink(
                Notice(
                    f"This run started on {resume.backend} and goes on with {chosen.value}: its weights carry over,"
                    " but its numbers will not match an uninterrupted run exactly."
                )
            )
        start_step = resume.step if resume is not None and further else 0
        model = models.build_model(config, steps_per_epoch=steps, policy=precision.policy, start_step=start_step)
        self.model = model
        if resume is not None:
            checkpointing.restore(model, resume)
        seed = resume.order_seed if resume is not None else checkpointing.order_seed(config.seed)
        # a resume goes on with its own epochs; training further starts its own at 1, its data order after the parent's
        first = resume.epoch if resume is not None and not further else 0
        order_offset = resume.epoch if resume is not None and further else 0
        earlier = tuple(earlier_epochs(resume)) if resume is not None else ()
        sink(
            Started(
                config=config,
                precision=precision.label,
                backend=chosen.label,
                epochs=config.epochs,
                steps_per_epoch=steps,
                params=int(model.count_params()),
                summary=models.summary_text(model),
                train_size=len(x_train),
                test_size=len(data.x_test),
                earlier=earlier,
                earlier_curve=resume.curve if resume is not None else None,
                resumed=resume is not None and not further,
            )
        )
        checkpoint()
        sink(Stage("Training"))
        self.phase = "training"
        own_before = resume is not None and not further
        callback = make_metrics_callback(
            sink,
            control,
            epochs=config.epochs,
            steps_per_epoch=steps,
            clock=self.clock,
            elapsed_before=earlier[-1].elapsed if own_before and earlier else 0.0,
            curve=resume.curve if own_before and resume is not None else None,
        )
        history: dict[str, list[float]] = history_of(earlier) if own_before else {}
        best = max((e.val_accuracy or -1.0 for e in earlier), default=-1.0) if own_before else -1.0
        start = self.clock()
        for epoch in range(first, config.epochs):
            order = checkpointing.epoch_order(seed, order_offset + epoch, len(x_train))
            fitted = model.fit(
                x_train_f[order],
                y_train[order],
                initial_epoch=epoch,
                epochs=epoch + 1,
                batch_size=config.batch_size,
                shuffle=False,  # the order is ours: a resumed run must see the batches an uninterrupted one would
                validation_data=(x_val_f, y_val) if config.validate else None,
                validation_batch_size=VALIDATION_BATCH,
                callbacks=[callback],
                verbose=0,
            )
            checkpoint()
            for key, values in fitted.history.items():
                history.setdefault(key, []).extend(float(v) for v in values)
            if callback.diverged_at is not None or callback.stopped_at is not None:
                break  # a stopped epoch is partial: the last checkpoint stays the last whole epoch
            if self.checkpoint_dir is not None and callback.rows:
                val = callback.rows[-1].val_accuracy
                is_best = val is not None and val > best
                best = max(best, val) if val is not None else best
                self._write_checkpoint(model, config, chosen.value, seed, fingerprint, callback, resume, is_best)
        if callback.diverged_at is not None:
            epoch, step = callback.diverged_at
            raise TrainingDiverged(f"Training diverged: the loss became NaN at epoch {epoch}, batch {step}.")
        seconds = self.clock() - start + (earlier[-1].elapsed if own_before and earlier else 0.0)

        sink(Stage("Evaluating"))
        self.phase = "evaluating"
        probabilities = model.predict(x_test_f, batch_size=VALIDATION_BATCH, verbose=0)
        checkpoint()
        predictions = Predictions(data.x_test, data.y_test, np.asarray(probabilities, dtype=np.float32))
        test_loss = cross_entropy(predictions.probabilities, data.y_test)
        history_dict = history
        saved = None
        if config.save is not None:
            sink(Stage("Saving", str(config.save)))
            save_model(model, config.save, history_dict)
            saved = Path(config.save)
        sink(
            Finished(
                history=history_dict,
                test_loss=test_loss,
                test_accuracy=predictions.accuracy,
                predictions=predictions,
                stopped_early=callback.stopped_at is not None,
                seconds=seconds,
                saved_to=saved,
                model=TrainedModel(model, config.arch, history_dict),
            )
        )

    def _write_checkpoint(
        self,
        model: Any,
        config: TrainConfig,
        backend_name: str,
        seed: int,
        fingerprint: str,
        callback: Any,
        resume: Checkpoint | None,
        best: bool,
    ) -> None:
        """The run's state after its last whole epoch; a failure to write is said once and training goes on."""
        assert self.checkpoint_dir is not None
        own = resume.history if isinstance(resume, Checkpoint) and not self.further else ()
        rows = own + tuple(
            EpochRow(e.epoch, e.loss, e.accuracy, e.val_loss, e.val_accuracy, e.seconds, e.elapsed)
            for e in callback.rows
        )
        model_names, model_arrays, optimizer_names, optimizer_arrays = checkpointing.variables(model)
        try:
            checkpoints.write(
                self.checkpoint_dir,
                Checkpoint(
                    epoch=rows[-1].epoch,
                    epochs=config.epochs,
                    config=json.loads(config_json(config)),
                    backend=backend_name,
                    step=checkpointing.optimizer_step(model),
                    order_seed=seed,
                    data_fingerprint=fingerprint,
                    model_variables=model_arrays,
                    optimizer_variables=optimizer_arrays,
                    history=rows,
                    curve=callback.curve_state(),
                    model_names=model_names,
                    optimizer_names=optimizer_names,
                    best=best,
                ),
            )
        except OSError as exc:
            if not self._checkpoint_failed:
                self._checkpoint_failed = True
                self._sink_notice(f"Cannot write this run's checkpoint: {exc.strerror or exc}.")

    def _sink_notice(self, message: str) -> None:
        if self._sink is not None:
            self._sink(Notice(message))


def earlier_epochs(resume: Checkpoint) -> list[EpochEnd]:
    """A checkpoint's epochs as the events that first reported them."""
    return [
        EpochEnd(r.epoch, resume.epochs, r.loss, r.accuracy, r.val_loss, r.val_accuracy, r.seconds, r.elapsed)
        for r in resume.history
    ]


def history_of(epochs: tuple[EpochEnd, ...]) -> dict[str, list[float]]:
    """Keras-style history (``loss``, ``accuracy``, ``val_*`` when validated) of earlier epochs."""
    history: dict[str, list[float]] = {"loss": [e.loss for e in epochs], "accuracy": [e.accuracy for e in epochs]}
    if epochs and epochs[0].val_loss is not None:
        history["val_loss"] = [float(e.val_loss or math.nan) for e in epochs]
        history["val_accuracy"] = [float(e.val_accuracy or math.nan) for e in epochs]
    return history


# bytes per element of the dtypes TensorFlow names in its out-of-memory messages
DTYPE_BYTES = {
    "float": 4,
    "float32": 4,
    "double": 8,
    "float64": 8,
    "half": 2,
    "bfloat16": 2,
    "float16": 2,
    "int32": 4,
    "int64": 8,
    "int8": 1,
    "uint8": 1,
}


def out_of_memory(exc: BaseException, phase: str, config: TrainConfig) -> Failed | None:
    """A clear ``Failed`` for an out-of-memory error (``MemoryError``, TensorFlow's ResourceExhausted), else None.

    Says how much the failed allocation needed when TensorFlow names its shape, e.g.
    ``OOM when allocating tensor with shape[784,3000000] and type float``.
    """
    text = str(exc)
    if not (
        isinstance(exc, MemoryError)
        or "ResourceExhausted" in type(exc).__name__
        or any(sign in text.lower() for sign in ("oom when allocating", "out of memory", "resource exhausted"))
    ):
        return None
    needed = ""
    match = re.search(r"shape\s*\[([\d,\s]+)\]\s*and type (\w+)", text)
    if match:
        count = math.prod(int(d) for d in match.group(1).split(",") if d.strip())
        size = count * DTYPE_BYTES.get(match.group(2), 4)
        needed = (
            f" ({size / 1e9:.1f} GB needed for one tensor)" if size >= 1e8 else f" ({size / 1e6:.0f} MB more needed)"
        )
    doing = phase if phase in ("building", "training", "evaluating") else "loading"
    what = "the data" if doing == "loading" else "the model"
    return Failed(
        f"Out of memory while {doing} {what}{needed}.", memory_hint(config), "".join(traceback.format_exception(exc))
    )


def memory_hint(config: TrainConfig) -> str:
    """What to change when a run does not fit in memory."""
    return (
        f"Try fewer hidden units (it was {config.hidden_units:,}), a smaller batch size "
        f"(it was {config.batch_size:,}) or --train-limit."
    )


def load_reporting(config: TrainConfig, sink: Sink, control: RunControl) -> MnistData:
    """Load MNIST for ``config``, reporting the stage and any download progress."""
    sink(Stage("Loading data", str(config.data) if config.data else ""))
    return load_mnist(
        config.data,
        progress=lambda name, done, total: sink(DownloadProgress(name, done, total)),
        cancel=control.cancel,
    )


def cross_entropy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    picked = probabilities[np.arange(len(labels)), labels.astype(np.int64)]
    return float(-np.log(np.clip(picked, 1e-7, 1.0)).mean())


def history_path(model_path: Path) -> Path:
    """``model.keras`` -> ``model.history.json``."""
    return Path(model_path).with_suffix(".history.json")


def save_model(model: Any, path: Path, history: dict[str, list[float]] | None = None) -> None:
    """Write the model (and its history as JSON beside it) atomically: temporary file, then rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    from .models import tensorflow_hidden

    with atomic_path(path) as tmp:
        with tensorflow_hidden():  # a JAX model process never loads TensorFlow to save
            model.save(tmp)
        if history is not None:
            atomic_write(history_path(path), json.dumps(history, indent=2))


class TrainedModel:
    """A trained model as the app uses it: predict a drawing at once, save a copy.

    Built on the trainer's thread, which also makes the first prediction there, so
    that the draw screen never waits for TensorFlow to trace the model.
    """

    def __init__(self, model: Any, name: str, history: dict[str, list[float]] | None = None) -> None:
        from .models import predictor

        self.model = model
        self.name = name
        self.history = history
        self._predict = predictor(model)
        self._predict(np.zeros((1, *MNIST.image_shape), np.uint8))

    def predict(self, images: np.ndarray) -> np.ndarray:
        """``(n, height, width)`` uint8 images -> ``(n, classes)`` probabilities; about 3 ms for one image."""
        return self._predict(images)

    def save(self, path: Path) -> None:
        """Write the model to ``path`` atomically (with its history beside it)."""
        save_model(self.model, path, self.history)


class SavedModelScorer:
    """Loads a saved ``.keras`` model and scores it on the test set, reporting like a trainer.

    Lets ``--model`` reuse the training screen's loading states and go straight to the results.
    """

    def __init__(self, model_path: Path, config: TrainConfig, data: MnistData | None = None) -> None:
        self.model_path = Path(model_path)
        self.config = config
        self.data = data
        self.model: Any = None

    def run(self, sink: Sink, control: RunControl | None = None) -> None:
        control = control or RunControl()
        try:
            data = self.data or load_reporting(self.config, sink, control)
            if control.cancel.is_set():
                return
            from . import backend

            sink(Stage(f"Loading {backend.title(backend.prepare(self.config.backend, self.config.arch).value)}"))
            from . import models

            sink(Stage("Loading model", str(self.model_path)))
            self.model = models.load_model(self.model_path)
            if control.cancel.is_set():
                return
            sink(Stage("Evaluating"))
            start = time.perf_counter()
            probabilities = np.concatenate(
                [models.predictor(self.model)(data.x_test[i : i + 1000]) for i in range(0, len(data.x_test), 1000)]
            )
            predictions = Predictions(data.x_test, data.y_test, probabilities.astype(np.float32))
            sink(
                Finished(
                    history=load_history(self.model_path),
                    test_loss=cross_entropy(predictions.probabilities, data.y_test),
                    test_accuracy=predictions.accuracy,
                    predictions=predictions,
                    seconds=time.perf_counter() - start,
                    model=TrainedModel(self.model, self.model_path.stem, load_history(self.model_path)),
                )
            )
        except DownloadCancelled:
            pass
        except Exception as exc:
            from .models import ModelError

            if isinstance(exc, (ModelError, DataError, BackendError)):
                sink(Failed(str(exc), "Check the path given to --model / --data."))
            else:
                sink(Failed(one_line(exc), "See the log file for details.", traceback.format_exc()))


def load_history(model_path: Path) -> dict[str, list[float]]:
    """The history saved beside a model, or an empty one when there is none or it is unreadable."""
    try:
        raw = json.loads(history_path(model_path).read_text())
        return {str(k): [float(x) for x in v] for k, v in raw.items()}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}
