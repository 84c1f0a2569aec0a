"""A real tiny run through the trainer process inside the app, reported as JSON (run by test_process_app).

Runs in a fresh interpreter so that ``sys.modules`` tells what the UI process imported.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import numpy as np


async def main(data: Path, out: Path) -> dict:
    from mnist_tui.app import MnistApp
    from mnist_tui.config import TrainConfig
    from mnist_tui.screens.draw import DrawScreen
    from mnist_tui.screens.results import ResultsScreen
    from mnist_tui.worker import client

    report: dict = {}
    config = TrainConfig(epochs=2, hidden_units=16, seed=1, data=data, train_limit=600, validate=False)
    app = MnistApp(config)

    async def results(pilot, timeout: float = 120) -> ResultsScreen:
        deadline = time.monotonic() + timeout
        while not isinstance(app.screen, ResultsScreen):
            assert time.monotonic() < deadline, "no results"
            await pilot.pause(0.05)
        return app.screen

    async with app.run_test(size=(120, 40)) as pilot:
        screen = await results(pilot)
        report["test_images"] = len(screen.predictions)
        first = screen.model
        report["first_pid"] = first.pid
        await pilot.press("d")
        await pilot.pause(0.2)
        report["draw_screen"] = isinstance(app.screen, DrawScreen)
        image = np.zeros((1, 28, 28), np.uint8)
        image[0, 6:22, 13:15] = 255
        report["prediction_sum"] = float(app.screen.model.predict(image).sum())
        # the served model's views, through the real process: why-maps, then the nearest training images
        report["why_shape"] = list(first.why(image[0], [1], 8).shape)
        report["neighbours"] = len(first.neighbours(image[0], 3).indices)
        first.save(out)
        report["saved"] = out.is_file()
        await pilot.press("escape")
        await pilot.pause(0.1)
        app.start_training(config.with_changes(epochs=1))

        def first_alive() -> bool:
            return first.pid in [p.pid for p in client.live_processes()]

        deadline = time.monotonic() + 5  # the new run's TensorFlow import alone takes longer
        while first_alive() and app.session.last_results.model is first and time.monotonic() < deadline:
            await pilot.pause(0.05)
        report["first_ended_as_the_second_started"] = not first_alive() and app.session.last_results.model is first
        screen = await results(pilot)
        report["second_pid"] = screen.model.pid
        deadline = time.monotonic() + 5
        while first.pid in [p.pid for p in client.live_processes()] and time.monotonic() < deadline:
            await pilot.pause(0.05)
        report["first_ended"] = first.pid not in [p.pid for p in client.live_processes()]
        await pilot.press("q")
    client.end_all()
    report["modules"] = sorted(m for m in ("tensorflow", "keras", "jax") if m in sys.modules)
    report["processes_left"] = len(client.live_processes())
    return report


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2])))))
