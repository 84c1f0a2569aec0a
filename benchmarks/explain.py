"""Timings of the understanding views, through the model process as the app asks them.

    python benchmarks/explain.py --data ../shared/data/mnist                  # trains a 1-epoch MLP first
    python benchmarks/explain.py --data ../shared/data/mnist --model cnn.keras

Prints, for the model served in a process of its own (``RemoteModel``, over the pipe):
why-maps (integrated gradients, 32 steps) per image, p50 and p95, for the predicted class
alone and for a mistake's two classes; the training set's embeddings (once per model, with
a drawing's predictions timed while they run); a nearest-neighbour query per image; and the browser's ``o`` (suspicious labels
first) from the 10,000 probabilities, cold and cached.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mnist_tui.data import load_mnist
from mnist_tui.predictions import Predictions, ViewCache, ViewFilter
from mnist_tui.worker.client import RemoteModel


def percentiles(seconds: list[float]) -> str:
    ms = np.asarray(seconds) * 1000
    return f"p50 {np.percentile(ms, 50):7.1f} ms   p95 {np.percentile(ms, 95):7.1f} ms   ({len(ms)} images)"


def press_o(predictions: Predictions) -> str:
    """Time ``o`` in the real results screen (headless, 120x40) through its three orders, twice."""
    import asyncio

    from mnist_tui.app import MnistApp

    async def run() -> list[float]:
        app = MnistApp(predictions=predictions)
        times = []
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            for _ in range(6):
                start = time.perf_counter()
                await pilot.press("o")
                await pilot.pause()
                times.append(time.perf_counter() - start)
        return times

    times = asyncio.run(run())
    return " ".join(f"{t * 1000:.0f}" for t in times) + " ms (dataset -> confidence -> suspicious, twice)"


def train_mlp(data_path: Path | None, epochs: int, train_limit: int | None) -> Path:
    """A quickly trained reference MLP, saved to a temporary file (TensorFlow loads in this process only here)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from mnist_tui import models
    from mnist_tui.config import TrainConfig

    data = load_mnist(data_path)
    config = TrainConfig(epochs=epochs, steps_per_execution=100)
    model = models.build_model(config)
    x, y = data.x_train[:train_limit], data.y_train[:train_limit]
    model.fit(models.scale(x), y, epochs=epochs, batch_size=32, verbose=0)
    path = Path(tempfile.mkdtemp(prefix="mnist-tui-bench-")) / "mlp.keras"
    model.save(path)
    return path


def neighbours(model: RemoteModel, data, indices: np.ndarray) -> None:
    """The training set's embeddings (once per model, on the model process's job thread), then a query per image.

    While the training set is embedded, a drawing's prediction is timed: it is answered
    on the model process's main thread meanwhile.
    """
    import threading

    start = time.perf_counter()
    job = threading.Thread(target=model.neighbours, args=(data.x_test[indices[0]], 6))
    job.start()
    during = []
    while job.is_alive():
        asked = time.perf_counter()
        model.predict(data.x_test[:1])
        during.append(time.perf_counter() - asked)
        time.sleep(0.05)
    job.join()
    embed_s = time.perf_counter() - start
    print(f"\ntraining embeddings: {embed_s:.1f} s for {len(data.x_train):,} images")
    if during:
        print(f"{'a prediction meanwhile':<34} {percentiles(during)}")
    times = []
    for i in indices:
        start = time.perf_counter()
        model.neighbours(data.x_test[i], 6)
        times.append(time.perf_counter() - start)
    print(f"{'nearest 6 training images':<34} {percentiles(times)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="MNIST directory or mnist.npz (default: the usual search)")
    parser.add_argument("--model", type=Path, help="a saved .keras model (default: train an MLP for --epochs)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--train-limit", type=int, help="train the MLP on the first N images only")
    parser.add_argument("--images", type=int, default=100, help="test images to time each view on")
    parser.add_argument(
        "--no-neighbours", action="store_true", help="skip the training embeddings and neighbour queries"
    )
    args = parser.parse_args()

    data = load_mnist(args.data)
    path = args.model or train_mlp(args.data, args.epochs, args.train_limit)
    model = RemoteModel.open(path, path.stem, data=args.data)
    try:
        start = time.perf_counter()
        model.weights()  # answered once the model is loaded
        print(f"model process ready in {time.perf_counter() - start:.1f} s ({path.name})")
        probabilities = np.concatenate(
            [model.predict(data.x_test[i : i + 1000]) for i in range(0, len(data.x_test), 1000)]
        )
        p = Predictions(data.x_test, data.y_test, probabilities)
        print(f"test accuracy {p.accuracy:.2%}, {p.mistakes} mistakes")

        # ------------------------------------------------------------ why-maps
        rng = np.random.default_rng(0)
        right = rng.choice(np.flatnonzero(p.correct), min(args.images, int(p.correct.sum())), replace=False)
        wrong = np.flatnonzero(~p.correct)[: args.images]
        start = time.perf_counter()
        model.why(data.x_test[right[0]], [int(p.predicted[right[0]])], 32)
        print(f"\nwhy-map, first (traces the gradient function): {(time.perf_counter() - start) * 1000:.0f} ms")
        why_times: list[float] = []
        for what, indices in (("why-map, predicted class", right), ("why-map, a mistake's two classes", wrong)):
            times = []
            for i in indices:
                classes = [int(p.predicted[i])] if p.correct[i] else [int(p.predicted[i]), int(p.labels[i])]
                start = time.perf_counter()
                model.why(data.x_test[i], classes, 32)
                times.append(time.perf_counter() - start)
            if times:
                print(f"{what:<34} {percentiles(times)}")
            why_times += times

        # ------------------------------------------------------------ neighbours
        if not args.no_neighbours:
            neighbours(model, data, np.concatenate([right, wrong])[: args.images])

        # ------------------------------------------------------------ o: suspicious labels first
        fresh = Predictions(data.x_test, data.y_test, probabilities)
        start = time.perf_counter()
        ViewCache(fresh).indices(ViewFilter(order="suspicious"))
        cold = time.perf_counter() - start
        cache = ViewCache(fresh)
        cache.indices(ViewFilter(order="suspicious"))
        start = time.perf_counter()
        for _ in range(100):
            cache.indices(ViewFilter(order="suspicious"))
        warm = (time.perf_counter() - start) / 100
        print(
            f"\no (suspicious labels first, 10,000 images): first {cold * 1000:.2f} ms, then {warm * 1e6:.1f} µs (cached)"
        )
        print(f"order of the first 10: {ViewCache(fresh).indices(ViewFilter(order='suspicious'))[:10].tolist()}")
        print(
            f"o in the results browser, key to screen updated: {press_o(Predictions(data.x_test, data.y_test, probabilities))}"
        )
        p95 = float(np.percentile(why_times, 95))
        print(
            f"\nwhy-maps within 100 ms: {'yes' if p95 < 0.1 else 'NO'} (p95 {p95 * 1000:.1f} ms over every image timed)"
        )
    finally:
        model.close()
        time.sleep(0.5)
        if args.model is None:  # the MLP trained for this run
            shutil.rmtree(path.parent, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
