"""Regenerate ``screenshots/grid.svg``: a recorded run's test images in the grid, suspicious labels first.

    MNIST_TUI_HOME=STORE python scripts/grid_screenshot.py --run ID --data ../shared/data/mnist

Reads the run's saved probabilities and the store's tags (no TensorFlow), opens the browser on
them, orders by suspicious labels and opens the grid at 120x40.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from mnist_tui.app import MnistApp
from mnist_tui.labels import load_test_split, run_probabilities
from mnist_tui.predictions import Predictions

OUT = Path(__file__).resolve().parent.parent / "screenshots" / "grid.svg"


async def shoot(predictions: Predictions, title: str) -> None:
    app = MnistApp(predictions=predictions)
    app.animation_level = "none"
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.screen.sub_title = title
        await pilot.press("o", "o", "home", "G", "right", "space", "right", "right")
        await pilot.pause(0.5)
        app.save_screenshot(str(OUT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=int, required=True)
    parser.add_argument("--data", type=Path)
    args = parser.parse_args()
    probabilities, labels = run_probabilities(args.run, args.data)
    images = load_test_split(args.data).x_test
    asyncio.run(shoot(Predictions(images, labels, probabilities), f"run {args.run}"))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
