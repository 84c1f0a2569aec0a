"""Per-epoch checkpoints in a run's folder: what resuming a run, or training it further, needs.

NumPy and the standard library only: the trainer turns its model into arrays
(:mod:`mnist_tui.resume`), this module writes and reads them. One checkpoint is one
``.npz`` file (a zip of ``.npy`` arrays, read without pickle) holding

* ``meta``: JSON (as bytes) with the format name and version, the epoch reached, the
  run's configuration and backend, the optimizer's step (the learning-rate schedule's
  position), the seed of the data order, the training data's fingerprint, and the
  history so far: one row per epoch and the batch-loss curve's state;
* ``model_<i>``: every model variable (weights, and the dropout seed generator's state);
* ``optimizer_<i>``: every optimizer variable (step, moments).

``checkpoint.npz`` is the last complete epoch, written atomically (temporary file, then
rename: a process killed mid-write leaves the previous one); ``checkpoint-best.npz`` is a
hard link to the last one with the best validation accuracy, so keeping it costs no write.
"""

from __future__ import annotations

import io
import json
import os
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..events import LossCurve as Curve
from ..files import atomic_write, temporary_path

FORMAT = "mnist-tui-checkpoint"
VERSION = 1
"""Bumped whenever what a checkpoint holds changes meaning; other versions are refused, never misread."""
LAST_NAME = "checkpoint.npz"
BEST_NAME = "checkpoint-best.npz"


class CheckpointError(Exception):
    """A checkpoint is missing, damaged, foreign or from another format version; the message is one line."""


@dataclass(frozen=True)
class EpochRow:
    """One epoch of the history a checkpoint carries (as :class:`~mnist_tui.events.EpochEnd` reported it)."""

    epoch: int
    loss: float
    accuracy: float
    val_loss: float | None
    val_accuracy: float | None
    seconds: float
    elapsed: float


@dataclass(frozen=True)
class Checkpoint:
    """Everything a run needs to go on from the end of epoch :attr:`epoch`."""

    epoch: int
    """Epochs completed (1-based count): training goes on with epoch ``epoch + 1``."""
    epochs: int
    """Epochs planned for the run."""
    config: dict
    """The run's configuration (``TrainConfig`` as JSON values)."""
    backend: str
    """The Keras backend that trained it (``tensorflow``, ``jax``)."""
    step: int
    """The optimizer's step: where the learning-rate schedule is."""
    order_seed: int
    """Seeds the data order: epoch ``e`` shuffles with ``(order_seed, e)``."""
    data_fingerprint: str
    """Of the training images and labels it trained on."""
    model_variables: tuple[np.ndarray, ...]
    optimizer_variables: tuple[np.ndarray, ...]
    history: tuple[EpochRow, ...] = ()
    curve: Curve = field(default_factory=Curve)
    model_names: tuple[str, ...] = ()
    optimizer_names: tuple[str, ...] = ()
    best: bool = False
    """Whether this epoch's validation accuracy is the best so far (the trainer decides)."""
    written_by: str = ""
    created: float = 0.0


def checkpoint_path(run_dir: Path, best: bool = False) -> Path:
    return Path(run_dir) / (BEST_NAME if best else LAST_NAME)


def encode(checkpoint: Checkpoint) -> bytes:
    """The checkpoint as ``.npz`` bytes."""
    from .. import __version__

    meta = {
        "format": FORMAT,
        "version": VERSION,
        "written_by": __version__,
        "created": checkpoint.created or time.time(),
        "epoch": checkpoint.epoch,
        "epochs": checkpoint.epochs,
        "config": checkpoint.config,
        "backend": checkpoint.backend,
        "step": checkpoint.step,
        "order_seed": checkpoint.order_seed,
        "data_fingerprint": checkpoint.data_fingerprint,
        "history": [row.__dict__ for row in checkpoint.history],
        "curve": checkpoint.curve.__dict__ | {"points": list(checkpoint.curve.points)},
        "model_names": list(checkpoint.model_names),
        "optimizer_names": list(checkpoint.optimizer_names),
    }
    arrays: dict[str, Any] = {"meta": np.frombuffer(json.dumps(meta).encode(), np.uint8)}
    arrays.update({f"model_{i}": np.asarray(v) for i, v in enumerate(checkpoint.model_variables)})
    arrays.update({f"optimizer_{i}": np.asarray(v) for i, v in enumerate(checkpoint.optimizer_variables)})
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # uncompressed: weights hardly compress, and zlib would cost more than the write
    return buffer.getvalue()


def write(run_dir: Path, checkpoint: Checkpoint) -> Path:
    """Write ``checkpoint`` as the run's last one, atomically; also the best one when ``checkpoint.best``."""
    path = checkpoint_path(run_dir)
    atomic_write(path, encode(checkpoint))
    if checkpoint.best:
        keep_as_best(path)
    return path


def keep_as_best(path: Path) -> None:
    """Make ``checkpoint-best.npz`` the same file as ``path`` (a hard link, renamed into place; a copy if links fail)."""
    best = path.with_name(BEST_NAME)
    tmp = temporary_path(best)
    try:
        tmp.unlink(missing_ok=True)
        try:
            os.link(path, tmp)
        except OSError:
            atomic_write(best, path.read_bytes())
            return
        os.replace(tmp, best)
    finally:
        tmp.unlink(missing_ok=True)


def read(run_dir: Path, best: bool = False) -> Checkpoint:
    """Read the run's last (or best) checkpoint.

    Raises:
        CheckpointError: none there, or not readable as one this mnist-tui wrote in this format.
    """
    path = checkpoint_path(run_dir, best)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(f"no checkpoint in {path.parent} (no epoch of this run ended with one)") from None
    except OSError as exc:
        raise CheckpointError(f"cannot read {path}: {exc.strerror or exc}") from None
    return decode(data, path)


def decode(data: bytes, path: Path | str = "checkpoint") -> Checkpoint:
    """Parse ``.npz`` bytes; :class:`CheckpointError` says why they are not a usable checkpoint."""
    if not data.startswith(b"PK"):
        raise CheckpointError(f"{path} is not an mnist-tui checkpoint (not an .npz archive)")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            if "meta" not in archive.files:
                raise CheckpointError(f"{path} is not an mnist-tui checkpoint (it has no description)")
            meta = json.loads(archive["meta"].tobytes().decode())
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                raise CheckpointError(f"{path} is not an mnist-tui checkpoint")
            version = meta.get("version")
            if version != VERSION:
                raise CheckpointError(
                    f"{path} is in checkpoint format {version} (written by mnist-tui {meta.get('written_by', '?')});"
                    f" this mnist-tui reads format {VERSION} only"
                )
            model = tuple(archive[f"model_{i}"] for i in range(len(meta["model_names"])))
            optimizer = tuple(archive[f"optimizer_{i}"] for i in range(len(meta["optimizer_names"])))
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise CheckpointError(
            f"{path} is damaged (truncated or overwritten): {str(exc)[:120] or type(exc).__name__}"
        ) from None
    try:
        curve = meta["curve"]
        return Checkpoint(
            epoch=int(meta["epoch"]),
            epochs=int(meta["epochs"]),
            config=dict(meta["config"]),
            backend=str(meta["backend"]),
            step=int(meta["step"]),
            order_seed=int(meta["order_seed"]),
            data_fingerprint=str(meta["data_fingerprint"]),
            model_variables=model,
            optimizer_variables=optimizer,
            history=tuple(EpochRow(**row) for row in meta["history"]),
            curve=Curve(
                tuple(float(p) for p in curve["points"]),
                int(curve["every"]),
                float(curve["partial_sum"]),
                int(curve["partial_count"]),
            ),
            model_names=tuple(meta["model_names"]),
            optimizer_names=tuple(meta["optimizer_names"]),
            written_by=str(meta.get("written_by", "")),
            created=float(meta.get("created", 0.0)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path} is damaged: its description lacks {exc}") from None


def describe(run_dir: Path) -> tuple[int, int] | None:
    """``(epoch reached, epochs planned)`` of the run's last checkpoint, or ``None`` when it has no usable one.

    Reads only the description (not the weights): cheap enough for a list of runs.
    """
    path = checkpoint_path(run_dir)
    try:
        with zipfile.ZipFile(path) as archive:
            meta = json.loads(np.load(io.BytesIO(archive.read("meta.npy")), allow_pickle=False).tobytes().decode())
        if meta.get("format") != FORMAT or meta.get("version") != VERSION:
            return None
        return int(meta["epoch"]), int(meta["epochs"])
    except (OSError, zipfile.BadZipFile, KeyError, ValueError, TypeError, EOFError):
        return None
