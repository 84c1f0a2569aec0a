"""Checkpoints: what one costs per epoch, its size, and whether an interrupted-and-resumed run ends where an uninterrupted one does.

For each architecture, in a process of its own (TensorFlow fixes its thread pools per process):

1. an uninterrupted run with a checkpoint after every epoch: the seconds each checkpoint
   took (reading the variables + writing the file atomically, fsync included) against
   the epoch's own seconds, and the file's size;
2. the same run cancelled as epoch ``k + 1`` ends (its checkpoint is epoch ``k``'s, as
   after a ``kill -9``), then resumed from that checkpoint by a new trainer: its final
   test accuracy and whether every weight equals the uninterrupted run's;
3. what owning the data order costs: Keras's single ``fit(epochs=E, shuffle=True)``
   against one ``fit()`` per epoch over a permuted copy (what the trainer does now),
   alternating, same model.

Usage::

    python benchmarks/checkpoint.py --data ../shared/data/mnist [--arch mlp cnn] [--backend tensorflow]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SETTINGS = {"mlp": {"epochs": 4, "train_limit": None}, "cnn": {"epochs": 3, "train_limit": 12000}}


def measure(arch: str, data_dir: Path, backend: str | None, epochs: int | None, limit: int | None) -> dict:
    import numpy as np

    from mnist_tui import training
    from mnist_tui.config import TrainConfig
    from mnist_tui.data import load_mnist
    from mnist_tui.events import EpochEnd, Failed, Finished, RunControl
    from mnist_tui.runs import checkpoints

    settings = SETTINGS[arch]
    epochs = epochs or settings["epochs"]
    limit = limit if limit is not None else settings["train_limit"]
    data = load_mnist(data_dir)
    config = TrainConfig(arch=arch, epochs=epochs, seed=11, train_limit=limit, backend=backend, data=data_dir)
    costs: list[float] = []
    original = training.KerasTrainer._write_checkpoint

    def timed(self, *args, **kwargs):
        start = time.perf_counter()
        original(self, *args, **kwargs)
        costs.append(time.perf_counter() - start)

    training.KerasTrainer._write_checkpoint = timed  # type: ignore[method-assign]

    def train(folder: Path, resume=None, cancel_after: int | None = None):
        control = RunControl()
        seen: list = []

        def sink(event):
            seen.append(event)
            if isinstance(event, Failed):
                raise SystemExit(f"{arch}: {event.message}")
            if cancel_after is not None and isinstance(event, EpochEnd) and event.epoch == cancel_after + 1:
                control.cancel.set()  # this epoch's checkpoint is never written: as a kill -9 before it

        training.KerasTrainer(config, data, checkpoint_dir=folder, resume=resume).run(sink, control)
        return seen

    whole_dir, cut_dir = Path(tempfile.mkdtemp()), Path(tempfile.mkdtemp())
    seen = train(whole_dir)
    epoch_seconds = [e.seconds for e in seen if isinstance(e, EpochEnd)]
    whole = next(e for e in seen if isinstance(e, Finished))
    write_costs = list(costs)
    size = (whole_dir / checkpoints.LAST_NAME).stat().st_size
    k = max(1, epochs // 2)
    train(cut_dir, cancel_after=k)
    reached = checkpoints.read(cut_dir).epoch
    resumed_events = train(cut_dir, resume=checkpoints.read(cut_dir))
    resumed = next(e for e in resumed_events if isinstance(e, Finished))
    a, b = checkpoints.read(whole_dir), checkpoints.read(cut_dir)
    same = all(np.array_equal(x, y) for x, y in zip(a.model_variables, b.model_variables))
    max_diff = max(
        float(np.max(np.abs(x.astype(np.float64) - y))) for x, y in zip(a.model_variables, b.model_variables)
    )
    order = data_order_cost(config, data)
    # the first epoch traces the model: compare the later ones
    steady = epoch_seconds[1:] or epoch_seconds
    return {
        "arch": arch,
        "backend": os.environ.get("KERAS_BACKEND") or backend or "tensorflow",
        "train images": limit or 60000,
        "epochs": epochs,
        "epoch s (after the first)": round(sum(steady) / len(steady), 3),
        "checkpoint s (mean)": round(sum(write_costs) / len(write_costs), 4),
        "checkpoint share": round(sum(write_costs) / len(write_costs) / (sum(steady) / len(steady)), 4),
        "checkpoint MB": round(size / 1e6, 2),
        "killed after epoch": reached,
        "test acc uninterrupted": whole.test_accuracy,
        "test acc resumed": resumed.test_accuracy,
        "weights identical": same,
        "max weight diff": max_diff,
        **order,
    }


def data_order_cost(config, data) -> dict:
    """Seconds of Keras's own shuffled fit against one fit per epoch over a permuted copy (2 rounds, alternating)."""
    from mnist_tui import checkpointing, models

    models.configure_threads(config.arch)
    x = data.x_train[: config.train_limit] if config.train_limit else data.x_train
    y = data.y_train[: config.train_limit] if config.train_limit else data.y_train
    xf = models.scale(x)
    steps = -(-len(x) // config.batch_size)
    times: dict[str, list[float]] = {"keras shuffle s": [], "own order s": []}
    for _ in range(2):
        for way in times:
            model = models.build_model(config, steps_per_epoch=steps)
            model.fit(xf[:64], y[:64], epochs=1, batch_size=config.batch_size, verbose=0)  # trace outside the clock
            start = time.perf_counter()
            if way == "keras shuffle s":
                model.fit(xf, y, epochs=config.epochs, batch_size=config.batch_size, shuffle=True, verbose=0)
            else:
                for epoch in range(config.epochs):
                    order = checkpointing.epoch_order(3, epoch, len(x))
                    model.fit(
                        xf[order],
                        y[order],
                        initial_epoch=epoch,
                        epochs=epoch + 1,
                        batch_size=config.batch_size,
                        shuffle=False,
                        verbose=0,
                    )
            times[way].append(time.perf_counter() - start)
    best = {way: min(values) for way, values in times.items()}
    return {
        **{k: round(v, 2) for k, v in best.items()},
        "own / keras": round(best["own order s"] / best["keras shuffle s"], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--arch", nargs="+", default=["mlp", "cnn"])
    parser.add_argument("--backend", default=None)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--train-limit", type=int, default=None)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.arch[0], args.data, args.backend, args.epochs, args.train_limit)))
        return
    print(f"load before: {os.getloadavg()[0]:.2f}", flush=True)
    for arch in args.arch:
        command = [sys.executable, __file__, "--child", "--data", str(args.data), "--arch", arch]
        for flag, value in (
            ("--backend", args.backend),
            ("--epochs", args.epochs),
            ("--train-limit", args.train_limit),
        ):
            if value is not None:
                command += [flag, str(value)]
        out = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        if out.returncode != 0:
            print(out.stderr[-2000:], file=sys.stderr)
            raise SystemExit(out.returncode)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        print(json.dumps(result, indent=1), flush=True)
        print(f"load after {arch}: {os.getloadavg()[0]:.2f}", flush=True)


if __name__ == "__main__":
    main()
