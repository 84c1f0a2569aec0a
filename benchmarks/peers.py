"""mnist-tui against what a Keras user would run instead, on each installed backend.

    python benchmarks/peers.py --data ../shared/data/mnist                  # about 10 minutes
    python benchmarks/run.py --data ../shared/data/mnist --only peers       # the same, from run.py

One table, every row in a fresh process, the rows of a round in alternating order:

- ``seed-tf``, ``seed-jax``: the seed's script (the reference MLP, default ``compile``,
  ``fit(verbose=0)``, pixels scaled as float64) with ``KERAS_BACKEND`` set;
- ``headless-tf``, ``headless-jax``: mnist-tui's trainer as ``--headless`` runs it, on each
  backend (``--backend``);
- ``cnn-plain``: a plain Keras float32 script of mnist-tui's CNN (the same layers, default
  ``compile``) on TensorFlow; ``cnn-auto``: mnist-tui's CNN with ``--precision auto
  --backend auto``. Two epochs on 12,000 images by default (``--cnn-epochs``,
  ``--cnn-train-limit``): long enough for the per-step cost to dominate; the accuracy at
  the CNN's default epochs is measured by full runs (benchmarks/README.md).

The clock runs from building the model to the scored test set, as in ``run.py``: the
backend's import and loading the data are outside it; ``process s`` includes them.
Rows whose backend is not installed are left out.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MLP_WAYS = ("seed-tf", "seed-jax", "headless-tf", "headless-jax")
CNN_WAYS = ("cnn-plain", "cnn-auto")
WAYS = MLP_WAYS + CNN_WAYS
BACKEND_OF = {
    "seed-tf": "tensorflow",
    "seed-jax": "jax",
    "headless-tf": "tensorflow",
    "headless-jax": "jax",
    "cnn-plain": "tensorflow",
    "cnn-auto": "auto",
}


# ----------------------------------------------------------------------------- one way, in its own process


def child(way: str, data_dir: Path, epochs: int, train_limit: int | None, test_limit: int | None = None) -> None:
    """Train once the ``way`` way and print ``RESULT {json}``."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.path.insert(0, str(ROOT))
    from mnist_tui.data import load_path

    data = load_path(data_dir)
    if test_limit:  # every row validates on and scores the same first images
        data = dataclasses.replace(data, x_test=data.x_test[:test_limit], y_test=data.y_test[:test_limit])
    if way.startswith("headless") or way == "cnn-auto":
        from mnist_tui.config import TrainConfig

        arch = "cnn" if way == "cnn-auto" else "mlp"
        config = TrainConfig(arch=arch, epochs=epochs, seed=1, train_limit=train_limit, backend=BACKEND_OF[way])
        result = headless(data, config)
    else:
        os.environ["KERAS_BACKEND"] = BACKEND_OF[way]
        import keras

        keras.utils.set_random_seed(1)
        result = plain(keras, data, way, epochs, train_limit)
    result["tensorflow_loaded"] = "tensorflow" in sys.modules
    print("RESULT " + json.dumps(result), flush=True)


def cnn_layers(keras) -> list:
    """mnist-tui's CNN (``models.build_model``) as a plain script writes it, float32 throughout."""
    return [
        keras.Input(shape=(28, 28)),
        keras.layers.Reshape((28, 28, 1)),
        keras.layers.Conv2D(32, 5, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(64, 5, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(10, activation="softmax"),
    ]


def plain(keras, data, way: str, epochs: int, train_limit: int | None) -> dict[str, object]:
    """The seed's script (or the same script with the CNN): default compile, fit, then predict."""
    x, y = data.x_train[:train_limit], data.y_train[:train_limit]
    x, xt = x / 255.0, data.x_test / 255.0
    start = time.perf_counter()
    if way == "cnn-plain":
        model = keras.Sequential(cnn_layers(keras))
    else:
        model = keras.Sequential(
            [
                keras.Input(shape=(28, 28)),
                keras.layers.Flatten(),
                keras.layers.Dense(128, activation="relu"),
                keras.layers.Dropout(0.2),
                keras.layers.Dense(10, activation="softmax"),
            ]
        )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=epochs, batch_size=32, validation_data=(xt, data.y_test), verbose=0)
    accuracy = float((model.predict(xt, verbose=0).argmax(axis=1) == data.y_test).mean())
    return {
        "seconds": time.perf_counter() - start,
        "accuracy": accuracy,
        "backend": keras.config.backend(),
        "precision": "float32",
    }


def headless(data, config) -> dict[str, object]:
    """mnist-tui's trainer, timed from its "Building model" stage to its ``Finished`` event."""
    from mnist_tui.events import Failed, Finished, Stage, Started
    from mnist_tui.training import KerasTrainer

    seen: dict[str, object] = {}

    def sink(event) -> None:
        if isinstance(event, Stage) and event.name == "Building model":
            seen["start"] = time.perf_counter()
        elif isinstance(event, Started):
            seen.update(backend=event.backend, precision=event.precision)
        elif isinstance(event, (Finished, Failed)):
            seen["end"], seen["outcome"] = time.perf_counter(), event

    KerasTrainer(config, data=data).run(sink)
    outcome = seen["outcome"]
    if not isinstance(outcome, Finished):
        raise SystemExit(f"training failed: {outcome}")
    return {
        "seconds": seen["end"] - seen["start"],
        "accuracy": outcome.test_accuracy,
        "backend": seen["backend"],
        "precision": seen["precision"],
    }


def run_child(args: argparse.Namespace, way: str) -> dict:
    cnn = way in CNN_WAYS
    epochs = min(args.epochs, args.cnn_epochs) if cnn else args.epochs
    limit = args.train_limit or (args.cnn_train_limit if cnn else None)
    command = [sys.executable, __file__, "--child", way, "--data", str(args.data), "--epochs", str(epochs)]
    if limit:
        command += ["--train-limit", str(limit)]
    if args.test_limit:
        command += ["--test-limit", str(args.test_limit)]
    env = {**os.environ, "MNIST_TUI_HOME": tempfile.mkdtemp(prefix="mnist-tui-bench-")}
    env.pop("KERAS_BACKEND", None)  # each row says its own
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"{way} run failed (status {proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return {**json.loads(lines[-1][len("RESULT ") :]), "wall": wall}


# ----------------------------------------------------------------------------- the table


def available_ways(only: str | None = None) -> list[str]:
    """The rows this machine can run: those of a backend that is not installed are left out."""
    jax = importlib.util.find_spec("jax") is not None
    ways = [w for w in WAYS if jax or BACKEND_OF[w] != "jax"]
    if only == "mlp":
        ways = [w for w in ways if w in MLP_WAYS]
    elif only == "cnn":
        ways = [w for w in ways if w in CNN_WAYS]
    return ways


def peers(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Run every available row ``args.rounds`` times, alternating, and print the table; returns the medians."""
    ways = available_ways(getattr(args, "peers_only", None))
    runs: dict[str, list[dict]] = {way: [] for way in ways}
    for round_ in range(args.rounds):
        for way in ways if round_ % 2 == 0 else reversed(ways):
            runs[way].append(run_child(args, way))
            print(f"  round {round_ + 1} {way:<13} {runs[way][-1]['seconds']:.1f} s", file=sys.stderr, flush=True)
    med = {w: {k: statistics.median(r[k] for r in runs[w]) for k in ("seconds", "wall", "accuracy")} for w in ways}
    cnn_epochs, cnn_limit = min(args.epochs, args.cnn_epochs), args.train_limit or args.cnn_train_limit
    print(
        f"\nPeers: MLP {args.epochs} epochs{f' on {args.train_limit:,} images' if args.train_limit else ''}, "
        f"CNN {cnn_epochs} epochs on {cnn_limit:,} images; batch 32, validation each epoch"
        f"{f' on {args.test_limit:,} test images' if args.test_limit else ''}, "
        f"{args.rounds} rounds (median), fresh process each"
    )
    print(f"{'way':<14}{'train s':>9}{'process s':>11}{'test acc':>10}  {'backend':<19}{'precision':<36}runs (train s)")
    for way in ways:
        last, m = runs[way][-1], med[way]
        each = " ".join(f"{r['seconds']:.1f}" for r in runs[way])
        tf = " (+TF)" if last["backend"].startswith("jax") and last["tensorflow_loaded"] else ""
        print(
            f"{way:<14}{m['seconds']:>9.1f}{m['wall']:>11.1f}{m['accuracy']:>10.4f}  "
            f"{last['backend'] + tf:<19}{last['precision']:<36}{each}"
        )
    ratios(med)
    return med


def ratios(med: dict[str, dict[str, float]]) -> None:
    """The issue's targets as ratios of medians."""

    def line(label: str, num: str, den: str) -> str:
        acc = 100 * (med[num]["accuracy"] - med[den]["accuracy"])
        return f"{label}: {med[num]['seconds'] / med[den]['seconds']:.2f} ({num} / {den}, accuracy {acc:+.2f} points)"

    out = []
    if "headless-tf" in med and "seed-tf" in med:
        out.append(line("headless / plain on TensorFlow", "headless-tf", "seed-tf"))
    seeds = [w for w in ("seed-tf", "seed-jax") if w in med]
    mine = [w for w in ("headless-tf", "headless-jax") if w in med]
    if seeds and mine:
        best_seed = min(seeds, key=lambda w: med[w]["seconds"])
        best_mine = min(mine, key=lambda w: med[w]["seconds"])
        out.append(line("MLP, best mnist-tui / fastest seed script", best_mine, best_seed))
    if "cnn-auto" in med and "cnn-plain" in med:
        out.append(line("CNN, auto / plain float32", "cnn-auto", "cnn-plain"))
    print("\n".join(out))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The CNN rows' options (shared with run.py)."""
    parser.add_argument("--cnn-epochs", type=int, default=2, help="epochs of the CNN rows (at most --epochs)")
    parser.add_argument("--cnn-train-limit", type=int, default=12_000, help="training images of the CNN rows")
    parser.add_argument(
        "--test-limit", type=int, help="peers: validate on and score the first N test images only (smoke runs)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="directory with the four MNIST files")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--train-limit", type=int, help="train on the first N images only (smoke runs)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", dest="peers_only", choices=("mlp", "cnn"), help="only the MLP or the CNN rows")
    add_arguments(parser)
    parser.add_argument("--child", choices=WAYS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.data, args.epochs, args.train_limit, args.test_limit)
        return
    print(f"mnist-tui peers · {os.cpu_count()} CPUs · Python {sys.version.split()[0]}")
    peers(args)


if __name__ == "__main__":
    main()
