"""Each training lever on its own: the reference fit with one setting changed at a time.

    python benchmarks/levers.py --data ../shared/data/mnist                 # every lever, 2 rounds (about 12 min)
    python benchmarks/levers.py --data DIR --only plain spe50 --rounds 3    # some of them

The reference fit: the reference model, 10 epochs, batch 32, validation on the test set after
each epoch, then the test set scored; 18,750 weight updates whatever the lever. Each variant
runs in a fresh process (TensorFlow's thread pools are fixed at its first op) with TensorFlow
imported and the data loaded before the clock starts; rounds alternate the order. The table
gives the median time, the ratio to the plain Keras script and the final test accuracy.

Levers:
  steps per execution   batches per call into the compiled graph (one Python round trip each)
  host syncs            the metrics callback: none, async-safe (mnist-tui's) or synchronous
  validation batch      images per validation step (the weight updates are the same)
  input pipeline        NumPy arrays (Keras builds the dataset) or a tf.data pipeline
  threads               TensorFlow's intra-op / inter-op thread pools
  XLA                   jit_compile=True
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from run import headless, seed_model

# name -> (what changes, settings); every setting not given takes the value in BASE
BASE = {"spe": 1, "callback": "none", "val_batch": None, "pipeline": "arrays", "threads": None, "jit": False}
VARIANTS: dict[str, tuple[str, dict]] = {
    "plain": ("the seed's script: default compile, fit(verbose=0)", {}),
    "spe10": ("steps_per_execution=10", {"spe": 10}),
    "spe50": ("steps_per_execution=50", {"spe": 50}),
    "spe200": ("steps_per_execution=200", {"spe": 200}),
    "sync-cb": ("spe 1 + a callback that is not async-safe", {"callback": "sync"}),
    "async-cb": ("spe 1 + the async-safe metrics callback", {"callback": "async"}),
    "spe50+cb": ("spe 50 + the metrics callback", {"spe": 50, "callback": "async"}),
    "spe50+val1000": ("spe 50 + validation batch 1,000", {"spe": 50, "val_batch": 1000}),
    "spe50+tfdata": (
        "spe 50 + tf.data (uint8 in memory, scale in the pipeline, prefetch)",
        {"spe": 50, "pipeline": "tfdata"},
    ),
    "spe50+threads1/1": ("spe 50 + intra-op 1, inter-op 1", {"spe": 50, "threads": (1, 1)}),
    "spe50+threads2/1": ("spe 50 + intra-op 2, inter-op 1", {"spe": 50, "threads": (2, 1)}),
    "spe50+threads2/2": ("spe 50 + intra-op 2, inter-op 2", {"spe": 50, "threads": (2, 2)}),
    "spe50+threads1/2": ("spe 50 + intra-op 1, inter-op 2", {"spe": 50, "threads": (1, 2)}),
    "threads1/1": ("spe 1 + intra-op 1, inter-op 1", {"threads": (1, 1)}),
    "spe10+threads1/1": ("spe 10 + intra-op 1, inter-op 1", {"spe": 10, "threads": (1, 1)}),
    "spe100+threads1/1": ("spe 100 + intra-op 1, inter-op 1", {"spe": 100, "threads": (1, 1)}),
    "spe50+threads1/1+val1000": (
        "spe 50 + intra-op 1, inter-op 1 + validation batch 1,000",
        {"spe": 50, "threads": (1, 1), "val_batch": 1000},
    ),
    "spe50+xla": ("spe 50 + jit_compile=True", {"spe": 50, "jit": True}),
    "mnist-tui": ("mnist-tui's trainer as --headless runs it", {"trainer": True}),
}


def child(name: str, data_dir: Path, epochs: int, train_limit: int | None) -> None:
    """Train once with the variant ``name`` and print ``RESULT {json}``."""
    settings = {**BASE, **VARIANTS[name][1]}
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    if settings["threads"]:
        intra, inter = settings["threads"]
        tf.config.threading.set_intra_op_parallelism_threads(intra)
        tf.config.threading.set_inter_op_parallelism_threads(inter)
    import keras

    from mnist_tui.config import TrainConfig
    from mnist_tui.data import load_path

    data = load_path(data_dir)
    config = TrainConfig(epochs=epochs, seed=1, data=data_dir, train_limit=train_limit)
    keras.utils.set_random_seed(1)
    start = time.perf_counter()
    if settings.get("trainer"):
        _, accuracy = headless(data, config)
    else:
        accuracy = fit(keras, tf, data, config, settings)
    print("RESULT " + json.dumps({"seconds": time.perf_counter() - start, "accuracy": accuracy}), flush=True)


def fit(keras, tf, data, config, settings: dict) -> float:
    from mnist_tui.events import RunControl
    from mnist_tui.training import make_metrics_callback

    model = seed_model(keras)
    model.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=settings["spe"],
        jit_compile=settings["jit"],
    )
    x, y = data.x_train[: config.train_limit], data.y_train[: config.train_limit]
    steps = -(-len(x) // config.batch_size)
    callbacks = []
    if settings["callback"] != "none":
        callback = make_metrics_callback(lambda event: None, RunControl(), epochs=config.epochs, steps_per_epoch=steps)
        callback.async_safe = settings["callback"] == "async"
        callbacks.append(callback)
    if settings["pipeline"] == "tfdata":

        def scaled(images, labels):
            return tf.cast(images, tf.float32) / 255.0, labels

        train = (
            tf.data.Dataset.from_tensor_slices((x, y))
            .shuffle(len(x), seed=1)
            .batch(config.batch_size)
            .map(scaled, num_parallel_calls=tf.data.AUTOTUNE)
            .prefetch(tf.data.AUTOTUNE)
        )
        test = (
            tf.data.Dataset.from_tensor_slices((data.x_test, data.y_test))
            .batch(settings["val_batch"] or config.batch_size)
            .map(scaled)
            .cache()
            .prefetch(tf.data.AUTOTUNE)
        )
        model.fit(train, epochs=config.epochs, validation_data=test, callbacks=callbacks, verbose=0)
    else:
        model.fit(
            x / 255.0,
            y,
            epochs=config.epochs,
            batch_size=config.batch_size,
            validation_data=(data.x_test / 255.0, data.y_test),
            validation_batch_size=settings["val_batch"],
            callbacks=callbacks,
            verbose=0,
        )
    return float((model.predict(data.x_test / 255.0, verbose=0).argmax(axis=1) == data.y_test).mean())


def run_child(args: argparse.Namespace, name: str) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", name, "--data", str(args.data), "--epochs", str(args.epochs)]
    if args.train_limit:
        command += ["--train-limit", str(args.train_limit)]
    proc = subprocess.run(command, capture_output=True, text=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"{name} failed (exit {proc.returncode}):\n{(proc.stdout + proc.stderr)[-2000:]}")
    return json.loads(lines[-1][len("RESULT ") :])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="directory with the four MNIST files")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--train-limit", type=int, help="train on the first N images only (smoke runs)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", nargs="+", choices=list(VARIANTS), help="run these variants (plain is always run)")
    parser.add_argument("--child", choices=list(VARIANTS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.data, args.epochs, args.train_limit)
        return
    names = ["plain", *[n for n in args.only or VARIANTS if n != "plain"]]
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    for round_ in range(args.rounds):
        for name in names if round_ % 2 == 0 else reversed(names):
            runs[name].append(run_child(args, name))
            print(f"  round {round_ + 1} {name:<18} {runs[name][-1]['seconds']:.1f} s", file=sys.stderr, flush=True)
    plain = statistics.median(r["seconds"] for r in runs["plain"])
    print(
        f"\nTraining levers: {args.epochs} epochs, batch 32, validation each epoch, {args.rounds} rounds (median)"
        f" · {os.cpu_count()} CPUs"
    )
    print(f"{'variant':<26}{'seconds':>8}{'/ plain':>8}{'test acc':>10}   runs        what changes")
    for name in names:
        seconds = statistics.median(r["seconds"] for r in runs[name])
        accuracy = statistics.median(r["accuracy"] for r in runs[name])
        each = " ".join(f"{r['seconds']:.1f}" for r in runs[name])
        print(f"{name:<26}{seconds:>8.1f}{seconds / plain:>8.2f}{accuracy:>10.4f}   {each:<11} {VARIANTS[name][0]}")


if __name__ == "__main__":
    main()
