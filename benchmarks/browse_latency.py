"""Key-press-to-frame latency of the results browser on 10,000 images.

    python benchmarks/browse_latency.py [--data ../shared/data/mnist] [--presses 400]

Drives the real app headless (Textual's test driver, 120x40) and measures the
event loop's CPU time for each key, from the press until the app is idle again
with the new frame composed. A key bound to nothing shows what the driver itself costs. Uses the
real test images when --data is given (random but fixed probabilities otherwise:
latency does not depend on them).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

import numpy as np

from mnist_tui.app import MnistApp
from mnist_tui.predictions import Predictions

NAVIGATION = ["right"] * 6 + ["left"] * 2 + ["pagedown", "pageup", "end", "home"]
FILTERS = ["e", "3", "o", "a", "e", "7", "o", "m", "m", "a"]


def predictions(data: Path | None, n: int = 10_000) -> Predictions:
    rng = np.random.default_rng(0)
    if data is not None:
        from mnist_tui.data import load_path

        mnist = load_path(data)
        images, labels = mnist.x_test, mnist.y_test
    else:
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n).astype(np.uint8)
    logits = rng.normal(size=(len(labels), 10)).astype(np.float32)
    logits[np.arange(len(labels)), labels] += 4.0
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return Predictions(images, labels, probs.astype(np.float32))


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


async def measure(preds: Predictions, presses: int) -> dict[str, list[float]]:
    app = MnistApp(predictions=preds)
    app.animation_level = "none"
    timings: dict[str, list[float]] = {"no-op key (driver)": [], "navigation": [], "filter/order/mode": []}
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        i = 0
        while sum(len(v) for v in timings.values()) < presses:
            if i % 10 == 9:
                kind, key = "no-op key (driver)", "x"
            elif i % 3:
                kind, key = "navigation", NAVIGATION[i % len(NAVIGATION)]
            else:
                kind, key = "filter/order/mode", FILTERS[(i // 3) % len(FILTERS)]
            # CPU time of the event loop: the app's own work for the key (handling, layout,
            # compositing a frame), without the test driver's idle waits
            start = time.process_time()
            await pilot.press(key)
            await pilot.pause()
            timings[kind].append((time.process_time() - start) * 1000)
            i += 1
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path)
    parser.add_argument("--presses", type=int, default=400)
    args = parser.parse_args()
    timings = asyncio.run(measure(predictions(args.data), args.presses))
    print(f"{'keys':<20}{'presses':>8}{'median ms':>11}{'p95 ms':>9}{'max ms':>9}")
    everything = [t for name, v in timings.items() if "driver" not in name for t in v]
    for name, values in [*timings.items(), ("all real keys", everything)]:
        print(f"{name:<20}{len(values):>8}{statistics.median(values):>11.1f}{percentile(values, 95):>9.1f}{max(values):>9.1f}")


if __name__ == "__main__":
    main()
