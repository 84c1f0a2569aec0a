"""Key-to-frame latency in the grid (``G``) and, in the same app, in the browser, at 120x40.

The method of ``run.py``'s browsing part: the real ``mnist-tui --model`` in a pseudo-terminal,
synchronized output answered, each key timed from being written to the end of the last frame
it caused. The two screens alternate in blocks in one app, so both see the same load.

    python benchmarks/grid.py --data ../shared/data/mnist --model mnist-mlp.keras
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import KEY_BYTES, Terminal

KEY_BYTES = {**KEY_BYTES, "up": b"\x1b[A", "down": b"\x1b[B", "escape": b"\x1b", "space": b" "}
GRID_KEYS = ["right"] * 4 + ["down"] * 3 + ["left"] * 2 + ["up", "space", "pagedown", "pagedown", "pageup", "space"]
BROWSER_KEYS = ["right"] * 6 + ["left"] * 2 + ["pagedown", "pageup"]
MODE_EVERY = 25
"""Every so many grid keys, ``m`` (half blocks / braille: every thumbnail drawn again)."""


def model_file(args: argparse.Namespace, tmp: str) -> Path:
    if args.model:
        return args.model
    model = Path(tmp) / "model.keras"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "mnist_tui",
            "--headless",
            "--epochs",
            "1",
            "--data",
            str(args.data),
            "--save",
            str(model),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return model


def measure(args: argparse.Namespace, model: Path) -> dict[str, list[float]]:
    command = [sys.executable, "-m", "mnist_tui", "--model", str(model), "--data", str(args.data)]
    terminal = Terminal([*command, "--log-file", os.devnull], size=(args.width, args.height))
    timings: dict[str, list[float]] = {
        "grid arrows": [],
        "grid pages": [],
        "grid mode (m)": [],
        "browser": [],
        "open grid (G)": [],
    }
    try:
        terminal.wait_for(re.compile(rb"per digit"))
        terminal.settle()
        for _ in range(args.blocks):
            latency = terminal.press(b"G")
            if latency is not None:
                timings["open grid (G)"].append(latency)
            terminal.settle()
            for i in range(args.presses):
                key = GRID_KEYS[i % len(GRID_KEYS)]
                kind = "grid pages" if key.startswith("page") else "grid arrows"
                if i and i % MODE_EVERY == 0:
                    key, kind = "m", "grid mode (m)"
                latency = terminal.press(KEY_BYTES.get(key, key.encode()))
                if latency is not None:
                    timings[kind].append(latency)
            terminal.press(KEY_BYTES["escape"])
            terminal.settle()
            for i in range(args.presses):
                key = BROWSER_KEYS[i % len(BROWSER_KEYS)]
                latency = terminal.press(KEY_BYTES.get(key, key.encode()))
                if latency is not None:
                    timings["browser"].append(latency)
    finally:
        terminal.close()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="directory with the four MNIST files")
    parser.add_argument("--model", type=Path, help="a saved model (default: train one for one epoch)")
    parser.add_argument("--presses", type=int, default=100, help="keys per screen in each block")
    parser.add_argument("--blocks", type=int, default=3, help="grid / browser blocks, alternating")
    parser.add_argument("--width", type=int, default=120)
    parser.add_argument("--height", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        timings = measure(args, model_file(args, tmp))
    load = os.getloadavg()[0]
    print(f"Key to frame at {args.width}x{args.height}, `mnist-tui --model` in a pseudo-terminal, ms (load {load:.2f})")
    print(f"{'keys':<16}{'presses':>8}{'median':>8}{'p95':>8}{'max':>8}")
    timings["grid (all)"] = timings["grid arrows"] + timings["grid pages"]
    for name, values in timings.items():
        if values:
            print(
                f"{name:<16}{len(values):>8}{statistics.median(values):>8.1f}"
                f"{np.percentile(values, 95):>8.1f}{max(values):>8.1f}"
            )


if __name__ == "__main__":
    main()
