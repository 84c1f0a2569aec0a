"""What the metrics callback costs: the same 10-epoch fit with and without it, alternating, in one process.

python benchmarks/callback_cost.py --data ../shared/data/mnist [--epochs 10] [--rounds 2]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from mnist_tui.config import TrainConfig
from mnist_tui.data import load_path
from mnist_tui.events import RunControl
from mnist_tui.training import make_metrics_callback


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--train-limit", type=int)
    args = parser.parse_args()

    import keras

    from mnist_tui import models

    data = load_path(args.data)
    x, y = data.x_train[: args.train_limit], data.y_train[: args.train_limit]
    x, xt = models.scale(x), models.scale(data.x_test)
    config = TrainConfig(epochs=args.epochs, seed=1)
    steps = -(-len(x) // config.batch_size)
    times: dict[str, list[float]] = {"without callback": [], "with callback": []}
    accuracy: dict[str, list[float]] = {k: [] for k in times}
    events = []
    for _ in range(args.rounds):
        for name in times:
            keras.utils.set_random_seed(1)
            model = models.build_model(config)
            callbacks = []
            if name == "with callback":
                callbacks = [
                    make_metrics_callback(events.append, RunControl(), epochs=args.epochs, steps_per_epoch=steps)
                ]
            start = time.perf_counter()
            model.fit(
                x,
                y,
                epochs=args.epochs,
                batch_size=config.batch_size,
                validation_data=(xt, data.y_test),
                callbacks=callbacks,
                verbose=0,
            )
            times[name].append(time.perf_counter() - start)
            accuracy[name].append(float(model.evaluate(xt, data.y_test, verbose=0, batch_size=1024)[1]))
    print(f"{'fit':<18}{'median s':>10}{'runs':>24}{'test acc':>10}")
    for name in times:
        runs = " ".join(f"{t:.1f}" for t in times[name])
        print(f"{name:<18}{statistics.median(times[name]):>10.2f}{runs:>24}{statistics.median(accuracy[name]):>10.4f}")
    ratio = statistics.median(times["with callback"]) / statistics.median(times["without callback"])
    print(f"with / without: {ratio:.3f}   ({len(events)} events emitted)")


if __name__ == "__main__":
    main()
