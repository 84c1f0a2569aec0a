"""What the live training screen costs the CPU: the app fed a paced, Keras-free event stream.

    python benchmarks/ui_cost.py [--seconds 12] [--interval 0.1]

A stand-in trainer on the trainer thread emits what the real callback emits during the
reference run (a batch event every ``--interval`` seconds, an epoch every ``--seconds``/10)
and nothing else, so the process's CPU time is the UI's own: Textual handling the
messages, the widgets updating and the frames being composed at 120x40. The same app
sitting on the training screen with no events gives the idle cost. On a 2-core machine
that TensorFlow keeps busy, every CPU second the UI takes is time the training loses.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mnist_tui.app import MnistApp  # noqa: E402
from mnist_tui.config import TrainConfig  # noqa: E402
from mnist_tui.events import BatchEnd, EpochEnd, Stage, Started  # noqa: E402

EPOCHS, STEPS = 10, 1875


class PacedTrainer:
    """Emits the reference run's event stream in real time, then waits to be cancelled."""

    def __init__(self, seconds: float, interval: float, events: bool) -> None:
        self.seconds, self.interval, self.events = seconds, interval, events
        self.emitted = 0
        self.done = False

    def run(self, sink, control) -> None:
        config = TrainConfig()
        summary = "Flatten (784,) 0\nDense (128,) 100,480\nDropout (128,) 0\nDense (10,) 1,290"
        for event in (Stage("Building model", "mlp"), Started(config, EPOCHS, STEPS, 101_770, summary, 60_000, 10_000),
                      Stage("Training")):  # fmt: skip
            sink(event)
        start = time.perf_counter()
        epoch_seconds = self.seconds / EPOCHS
        tick, finished_epochs = start, 0
        while (now := time.perf_counter()) - start < self.seconds and not control.cancel.is_set():
            epoch, into = divmod(now - start, epoch_seconds)
            if self.events:
                while finished_epochs < epoch:  # an epoch ended since the last tick
                    finished_epochs += 1
                    loss = 0.3 / finished_epochs
                    sink(EpochEnd(finished_epochs, EPOCHS, loss, 1 - loss / 3, loss, 1 - loss / 3, epoch_seconds, now - start))
                step = max(1, int(into / epoch_seconds * STEPS))
                loss = 0.3 / (1 + epoch) + 0.1 / step
                sink(BatchEnd(int(epoch) + 1, step, STEPS, loss, 1 - loss / 3, now - start))
                self.emitted += 1
            tick += self.interval
            time.sleep(max(0.0, tick - time.perf_counter()))
        self.done = True


def measure(seconds: float, interval: float, events: bool) -> tuple[float, float, int]:
    """Run the app for ``seconds``; return (CPU seconds, wall seconds, batch events)."""
    trainer = PacedTrainer(seconds, interval, events)

    class TimedApp(MnistApp):
        def on_mount(self) -> None:
            self.set_interval(0.05, self._maybe_exit)

        def _maybe_exit(self) -> None:
            if trainer.done:
                self.exit()

    app = TimedApp(TrainConfig(), trainer_factory=lambda config: trainer)
    app.animation_level = "none"
    cpu0, wall0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    app.run(headless=True, size=(120, 40))
    cpu1, wall1 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return cpu, wall1 - wall0, trainer.emitted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=12.0, help="length of the paced run (the reference run: ~12 s)")
    parser.add_argument("--interval", type=float, default=None, help="seconds between batch events (default: the app's)")
    args = parser.parse_args()
    from mnist_tui.training import BATCH_INTERVAL

    interval = args.interval or BATCH_INTERVAL
    print(f"UI cost at 120x40 over {args.seconds:.0f} s, a batch event every {interval * 1000:.0f} ms")
    print(f"{'stream':<14}{'events':>8}{'CPU s':>8}{'wall s':>8}{'CPU / wall':>12}")
    results = {}
    for label, events in (("idle", False), ("live events", True)):
        cpu, wall, emitted = measure(args.seconds, interval, events)
        results[label] = cpu / wall
        print(f"{label:<14}{emitted:>8}{cpu:>8.2f}{wall:>8.2f}{cpu / wall:>11.1%}")
    print(f"the live screen takes {results['live events']:.1%} of one core "
          f"({results['live events'] / 2:.1%} of a 2-core machine)")  # fmt: skip


if __name__ == "__main__":
    main()
