"""The trainer process: what a prediction round trip, quitting and repeated runs cost the UI.

    python benchmarks/process.py --data ../shared/data/mnist            # about 3 minutes
    python benchmarks/process.py --data DIR --only predict              # one part

1. Predict round trip: one 28x28 image through ``RemoteModel.predict`` (pipe, model
   process, pipe) against the same model called directly in this process
   (``models.predictor``, what the draw screen did before the model had a process of its
   own), alternating, p50 and p95 in milliseconds.
2. Quit latency: the real ``mnist-tui`` in a pseudo-terminal at 120x40; ``q`` is written
   in each phase (TensorFlow loading, training, evaluating, on the results, while a saved
   model is written at the end of the run) and the time until the process has exited is
   measured, with the number of its processes still alive afterwards.
3. Train-again cycles: the app (headless Textual, its real trainer processes) trains a
   small run six times in a row; the UI process's resident memory after the first run
   and after each of the five runs that replaced it, and whether TensorFlow ever loaded
   in it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from run import Terminal


def rss_mib() -> float:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024


# ----------------------------------------------------------------------------- predict round trip


def predict(args: argparse.Namespace) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from mnist_tui.config import TrainConfig
    from mnist_tui.events import Finished, RunControl
    from mnist_tui.worker import client
    from mnist_tui.worker.protocol import TrainJob

    events: list = []
    config = TrainConfig(epochs=1, train_limit=2000, data=args.data, validate=False, seed=1)
    client.ProcessTrainer(TrainJob(config)).run(events.append, RunControl())
    finished = events[-1]
    assert isinstance(finished, Finished), finished
    remote = finished.model
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.keras"
        remote.save(path)
        from mnist_tui import models

        direct = models.predictor(models.load_model(path))
    image = finished.predictions.images[:1]
    np.testing.assert_allclose(remote.predict(image), direct(image), atol=1e-5)
    timings: dict[str, list[float]] = {"process": [], "direct": []}
    for _ in range(20):  # warm both
        remote.predict(image), direct(image)
    for i in range(args.predictions):
        for way in ("process", "direct") if i % 2 == 0 else ("direct", "process"):
            call = remote.predict if way == "process" else direct
            start = time.perf_counter()
            call(image)
            timings[way].append((time.perf_counter() - start) * 1000)
    client.end_all()
    print(f"\nPredict one image, {args.predictions} calls each, alternating (ms)")
    print(f"{'way':<28}{'p50':>8}{'p95':>8}{'max':>8}")
    for way, label in (("process", "model process (pipe)"), ("direct", "in this process (direct)")):
        values = timings[way]
        print(f"{label:<28}{np.percentile(values, 50):>8.2f}{np.percentile(values, 95):>8.2f}{max(values):>8.2f}")


# ----------------------------------------------------------------------------- quit latency

PHASES = [
    ("TensorFlow loading", rb"Loading TensorFlow", ["--epochs", "50"]),
    ("training", rb"batch \d", ["--epochs", "50"]),
    ("evaluating", rb"Evaluating", ["--epochs", "1"]),
    ("saving", rb"Saving", ["--epochs", "1", "--save", "{tmp}/m.keras"]),
    ("results", rb"per digit", ["--epochs", "1"]),
]


def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def alive(pids: list[int]) -> int:
    count = 0
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        count += state != "Z"
    return count


def quit_once(args: argparse.Namespace, pattern: bytes, options: list[str]) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        command = [
            sys.executable,
            "-m",
            "mnist_tui",
            "--data",
            str(args.data),
            "--train-limit",
            "3000",
            "--log-file",
            os.devnull,
            *(o.format(tmp=tmp) for o in options),
        ]
        os.environ["MNIST_TUI_HOME"] = tmp
        terminal = Terminal(command)
        try:
            seen = terminal.wait_for(re.compile(pattern), timeout=120)
            if seen != seen:
                return float("nan"), 0  # the phase passed before it was seen
            children = children_of(terminal.proc.pid)
            os.write(terminal.master, b"q")
            start = time.perf_counter()
            while terminal.proc.poll() is None and time.perf_counter() - start < 10:
                terminal.read(0.005)
            seconds = time.perf_counter() - start
            time.sleep(0.5)
            left = alive(children)
            leftovers = [p.name for p in Path(tmp).iterdir() if p.name.startswith(".")]
            assert not leftovers, leftovers
        finally:
            terminal.close()
    return seconds, left


def quitting(args: argparse.Namespace) -> None:
    print(f"\nQuit: q to process exit in a pseudo-terminal, {args.rounds} launches per phase (ms)")
    print(f"{'phase':<22}{'median':>8}{'max':>8}   processes left 0.5 s later")
    for name, pattern, options in PHASES:
        results = [quit_once(args, pattern, options) for _ in range(args.rounds)]
        times = [1000 * s for s, _ in results if s == s]
        if not times:
            print(f"{name:<22}   (the phase was too short to catch)")
            continue
        print(
            f"{name:<22}{statistics.median(times):>8.0f}{max(times):>8.0f}   {max(left for _, left in results)}"
            f"   ({len(times)} caught)"
        )


# ----------------------------------------------------------------------------- train-again cycles


def cycles(args: argparse.Namespace) -> None:
    from mnist_tui.app import MnistApp
    from mnist_tui.config import TrainConfig
    from mnist_tui.screens.results import ResultsScreen
    from mnist_tui.worker import client

    config = TrainConfig(epochs=1, train_limit=3000, data=args.data, seed=1)
    app = MnistApp(config)
    memory: list[float] = []

    async def drive() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            for cycle in range(6):
                if cycle:
                    app.start_training(config)
                    await pilot.pause(0.5)
                while not isinstance(app.screen, ResultsScreen):
                    await pilot.pause(0.1)
                await pilot.pause(1.0)  # the replaced run's model process ends
                memory.append(rss_mib())
            await pilot.press("q")

    asyncio.run(drive())
    client.end_all()
    tensorflow = any(name in sys.modules for name in ("tensorflow", "keras"))
    print("\nTrain again: the UI process's RSS after each of 6 runs (MiB)")
    print("   ".join(f"{m:.0f}" for m in memory))
    print(
        f"after 5 train-again cycles: {memory[-1] - memory[0]:+.0f} MiB against the first run; "
        f"TensorFlow in the UI process: {'yes' if tensorflow else 'no'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="directory with the four MNIST files")
    parser.add_argument("--predictions", type=int, default=500, help="predict calls per way")
    parser.add_argument("--rounds", type=int, default=3, help="launches per quit phase")
    parser.add_argument("--only", choices=("predict", "quit", "cycles"), help="run one part")
    args = parser.parse_args()
    print(f"mnist-tui trainer-process benchmarks · {os.cpu_count()} CPUs · Python {sys.version.split()[0]}")
    if args.only in (None, "cycles"):
        cycles(args)  # first: nothing else has loaded in this process yet
    if args.only in (None, "quit"):
        quitting(args)
    if args.only in (None, "predict"):
        predict(args)


if __name__ == "__main__":
    main()
