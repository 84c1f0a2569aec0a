"""Regenerate the README's screenshots from a real training run on MNIST.

    python scripts/screenshots.py --data ../shared/data/mnist

Trains the reference model in its trainer process (recording every event; the model
stays served for the views that ask it), trains a second, narrower model for the
comparison, then replays the events into the app at fixed terminal sizes and saves SVGs
into ``screenshots/``. The runs are recorded in a temporary run store.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
from pathlib import Path

from mnist_tui.app import MnistApp
from mnist_tui.config import TrainConfig
from mnist_tui.events import BatchEnd, EpochEnd, Finished, RunControl
from mnist_tui.recorded import RecordingTrainer
from mnist_tui.worker import client
from mnist_tui.worker.protocol import TrainJob

OUT = Path(__file__).resolve().parent.parent / "screenshots"


class Replay:
    def __init__(self, events) -> None:
        self.events = events

    def run(self, sink, control) -> None:
        for event in self.events:
            sink(event)


async def shoot(app: MnistApp, name: str, keys: list[str], size=(120, 40), strokes=(), settle: float = 0.2) -> None:
    """Press ``keys`` (a number waits that many seconds), then drag the mouse through each stroke (cell offsets on the draw canvas)."""
    app.animation_level = "none"
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        for key in keys:
            if isinstance(key, (int, float)):
                await pilot.pause(key)
            else:
                await pilot.press(key)
        for stroke in strokes:
            await pilot.mouse_down("#canvas", offset=stroke[0])
            for point in stroke[1:]:
                await pilot.hover("#canvas", offset=point)
            await pilot.mouse_up("#canvas", offset=stroke[-1])
        await pilot.pause(settle)
        app.save_screenshot(str(OUT / f"{name}.svg"))
        print("wrote", OUT / f"{name}.svg")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True)
    args = parser.parse_args()
    os.environ["MNIST_TUI_HOME"] = tempfile.mkdtemp(prefix="mnist-tui-screenshots-")

    def train(config: TrainConfig) -> list:
        events: list = []
        RecordingTrainer(client.ProcessTrainer(TrainJob(config)), config).run(events.append, RunControl())
        assert isinstance(events[-1], Finished), events[-1]
        return events

    train(TrainConfig(data=args.data, seed=1, hidden_units=32, dropout=0.1))  # recorded, for the comparison
    events = train(TrainConfig(data=args.data, seed=1))
    result = events[-1]
    # mid-training: everything up to the middle of epoch 4
    cut = next(i for i, e in enumerate(events) if isinstance(e, BatchEnd) and e.epoch == 4 and e.step > 900)
    mid = [e for e in events[:cut] if not isinstance(e, Finished)]
    OUT.mkdir(exist_ok=True)

    class ScreenshotApp(MnistApp):
        END_PROCESSES_ON_EXIT = False  # the model process serves every screenshot

    def replay(evts):
        return ScreenshotApp(trainer_factory=lambda c: Replay(evts), threaded=False)

    mistake = ["e", "right", "right"]  # the third mistake in dataset order

    async def all_shots() -> None:
        await shoot(replay(mid), "training", [])
        await shoot(replay(mid), "training-80x24", [], size=(80, 24))
        await shoot(replay(events), "finished", ["escape"])
        await shoot(replay(events), "results", [])
        await shoot(replay(events), "mistakes", ["e", "o"])
        await shoot(replay(events), "suspicious", ["o", "o"])
        await shoot(replay(events), "why", [*mistake, "w", 3.0], settle=1.0)
        await shoot(replay(events), "nearest", [*mistake, "n", 20.0], settle=1.0)
        await shoot(replay(events), "half-block", ["e", "m"])
        await shoot(replay(events), "confusion", ["c", *["left"] * 5])
        await shoot(replay(events), "map", ["p", 30.0], settle=1.0)
        await shoot(replay(events), "learned", ["L", 3.0], settle=1.0)
        await shoot(replay(events), "results-80x24", ["e"], size=(80, 24))
        four = [[(18, 4), (16, 10), (15, 15)], [(15, 15), (30, 15), (44, 15)], [(38, 3), (38, 12), (37, 24)]]
        await shoot(replay(events), "draw", ["d"], strokes=four)
        await shoot(replay(events), "runs", ["R", 1.0])
        await shoot(replay(events), "compare", ["R", 1.0, "space", "down", "space", "c", 3.0], settle=1.0)

    asyncio.run(all_shots())
    client.end_all()
    epochs = [e for e in events if isinstance(e, EpochEnd)]
    print(f"test accuracy {result.test_accuracy:.4f} after {len(epochs)} epochs, {result.seconds:.1f} s")


if __name__ == "__main__":
    main()
