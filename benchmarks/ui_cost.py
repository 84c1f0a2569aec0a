"""What the live training screen costs the CPU: the app fed a paced, Keras-free event stream.

    python benchmarks/ui_cost.py [--seconds 30] [--interval 0.25]
    python benchmarks/ui_cost.py --profile [--seconds 30]
    python benchmarks/ui_cost.py --idle-results [--seconds 10] [--model M.keras --data DIR]

A stand-in trainer on the trainer thread emits what the real callback emits during the
reference run (a batch event every ``--interval`` seconds, an epoch every ``--seconds``/10:
3 s by default, as the reference run's epochs take on a quiet 2-core machine) and nothing
else, so the process's CPU time is the UI's own: Textual handling the messages, the
widgets updating and the frames being composed at 120x40. The CPU is counted from the
first event of the stream to its end (the app's start-up is outside it). The same app
sitting on the training screen with no events gives the idle cost. On a 2-core machine
that TensorFlow keeps busy, every CPU second the UI takes is time the training loses.

``--profile`` runs the live stream once with clocks around Textual's frame (the compositor),
its layout passes and each widget's ``render_lines``: where the UI's CPU goes, per widget
(the clocks add some cost of their own, so the shares count, not the total).

``--idle-results`` measures the results screen left alone in a real terminal: the app
runs in a pseudo-terminal of 120x40 (Textual's own driver, as a person would run it)
showing 10,000 fake predictions, and once it has drawn and settled, the CPU time of its
process (threads and any child processes included) and the bytes it writes to the
terminal are counted over ``--seconds`` in which nothing is pressed. With ``--model``
and ``--data`` it runs the real ``mnist-tui --model`` instead. Nothing changes on that
screen, so nothing should run: the target is under 1% of one core and no output.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mnist_tui.app import MnistApp
from mnist_tui.config import TrainConfig
from mnist_tui.events import BatchEnd, EpochEnd, Stage, Started

EPOCHS, STEPS = 10, 1875


class PacedTrainer:
    """Emits the reference run's event stream in real time, then waits to be cancelled."""

    def __init__(self, seconds: float, interval: float, events: bool) -> None:
        self.seconds, self.interval, self.events = seconds, interval, events
        self.emitted = 0
        self.done = False
        self.cpu = self.wall = 0.0
        """CPU seconds of this process (every thread) and wall seconds, over the stream."""

    def run(self, sink, control) -> None:
        config = TrainConfig()
        summary = "Flatten (784,) 0\nDense (128,) 100,480\nDropout (128,) 0\nDense (10,) 1,290"
        for event in (
            Stage("Building model", "mlp"),
            Started(config, EPOCHS, STEPS, 101_770, summary, 60_000, 10_000),
            Stage("Training"),
        ):
            sink(event)
        cpu0 = time.process_time()
        start = time.perf_counter()
        epoch_seconds = self.seconds / EPOCHS
        tick, finished_epochs = start, 0
        while (now := time.perf_counter()) - start < self.seconds and not control.cancel.is_set():
            epoch, into = divmod(now - start, epoch_seconds)
            if self.events:
                while finished_epochs < epoch:  # an epoch ended since the last tick
                    finished_epochs += 1
                    loss = 0.3 / finished_epochs
                    sink(
                        EpochEnd(
                            finished_epochs, EPOCHS, loss, 1 - loss / 3, loss, 1 - loss / 3, epoch_seconds, now - start
                        )
                    )
                step = max(1, int(into / epoch_seconds * STEPS))
                loss = 0.3 / (1 + epoch) + 0.1 / step
                sink(BatchEnd(int(epoch) + 1, step, STEPS, loss, 1 - loss / 3, now - start))
                self.emitted += 1
            tick += self.interval
            time.sleep(max(0.0, tick - time.perf_counter()))
        self.cpu, self.wall = time.process_time() - cpu0, time.perf_counter() - start
        time.sleep(0.3)  # the last frame is drawn (its CPU counted) before the app is told to exit
        self.cpu = time.process_time() - cpu0
        self.done = True


def measure(seconds: float, interval: float, events: bool) -> tuple[float, float, int]:
    """Run the app for ``seconds`` of stream; return (CPU seconds, wall seconds, batch events) over the stream."""
    trainer = PacedTrainer(seconds, interval, events)

    class TimedApp(MnistApp):
        def on_mount(self) -> None:
            self.set_interval(0.05, self._maybe_exit)

        def _maybe_exit(self) -> None:
            if trainer.done:
                self.exit()

    app = TimedApp(TrainConfig(), trainer_factory=lambda config: trainer)
    app.animation_level = "none"
    app.run(headless=True, size=(120, 40))
    return trainer.cpu, trainer.wall, trainer.emitted


def profile(seconds: float, interval: float) -> None:
    """The live stream once, with CPU clocks around each frame, each layout pass and each widget's drawing."""
    from collections import Counter

    from textual.screen import Screen
    from textual.widget import Widget

    spent: Counter[str] = Counter()
    calls: Counter[str] = Counter()
    counting = [False]

    def clocked(cls, name: str, label) -> None:
        original = getattr(cls, name)

        def wrapper(self, *args, **kwargs):
            if not counting[0]:
                return original(self, *args, **kwargs)
            start = time.process_time()
            try:
                return original(self, *args, **kwargs)
            finally:
                key = label(self)
                spent[key] += time.process_time() - start
                calls[key] += 1

        setattr(cls, name, wrapper)

    clocked(Screen, "_compositor_refresh", lambda screen: "(a frame: the compositor, the widgets below in it)")
    clocked(Screen, "_refresh_layout", lambda screen: "(a layout pass, a frame in it)")
    clocked(Widget, "render_lines", lambda widget: f"{type(widget).__name__}#{widget.id or ''}")
    run = PacedTrainer.run

    def counted(trainer, sink, control) -> None:
        counting[0] = True
        run(trainer, sink, control)

    PacedTrainer.run = counted  # type: ignore[method-assign]
    cpu, wall, emitted = measure(seconds, interval, True)
    print(f"UI at 120x40, {emitted} batch events over {wall:.0f} s: {cpu:.2f} CPU s ({cpu / wall:.1%} of one core)")
    print(f"{'what':<44}{'calls':>7}{'CPU s':>8}{'ms each':>9}{'of CPU':>8}")
    for key, seconds_spent in spent.most_common(20):
        print(
            f"{key:<44}{calls[key]:>7}{seconds_spent:>8.3f}{1000 * seconds_spent / calls[key]:>9.2f}"
            f"{seconds_spent / cpu:>8.0%}"
        )


# ----------------------------------------------------------------------------- idle results screen

ROOT = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
READY = b"Test accuracy"
"""Drawn in the results screen's summary line: the screen is up."""


def results_child() -> None:
    """The app on the results screen with 10,000 fake predictions, in whatever terminal this is."""
    sys.path.insert(0, str(ROOT))
    from tests.support.fakes import fake_predictions

    MnistApp(predictions=fake_predictions(10_000)).run()


def tree_cpu_seconds(root: int) -> float:
    """User plus system CPU seconds of ``root`` and every live descendant, from ``/proc``."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue  # it ended meanwhile
        parents[int(entry)] = int(fields[1])
        ticks[int(entry)] = int(fields[11]) + int(fields[12])  # utime, stime
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += ticks.get(pid, 0)
        stack.extend(child for child, parent in parents.items() if parent == pid)
    return total / CLOCK_TICKS


def drain(master: int, seconds: float, until: bytes | None = None) -> tuple[int, bool]:
    """Read the terminal's output for ``seconds`` (or until ``until`` shows); return (bytes, seen)."""
    deadline, count, tail = time.monotonic() + seconds, 0, b""
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([master], [], [], left)
        if not ready:
            continue
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        count += len(chunk)
        if until is not None:
            tail = (tail + chunk)[-4096:]
            if until in tail:
                return count, True
    return count, False


def measure_idle_results(seconds: float, command: list[str], settle: float = 2.0) -> tuple[float, float, int]:
    """Start ``command`` in a 120x40 pseudo-terminal, wait for the results, then measure ``seconds`` idle.

    Returns:
        (CPU seconds of the process tree, wall seconds, bytes written to the terminal) over the idle window.
    """
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor"}
    child = subprocess.Popen(
        command, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT, start_new_session=True, close_fds=True
    )
    os.close(slave)
    try:
        _, ready = drain(master, 120.0, until=READY)
        if not ready:
            raise SystemExit(f"the results screen did not appear: {' '.join(command)}")
        drain(master, settle)  # the first frames, notifications fading, a cached heap frozen
        cpu0, wall0 = tree_cpu_seconds(child.pid), time.perf_counter()
        written, _ = drain(master, seconds)
        cpu1, wall1 = tree_cpu_seconds(child.pid), time.perf_counter()
        return cpu1 - cpu0, wall1 - wall0, written
    finally:
        os.write(master, b"q")
        try:
            deadline = time.monotonic() + 10
            while child.poll() is None and time.monotonic() < deadline:
                drain(master, 0.1)
        finally:
            if child.poll() is None:
                child.kill()
            child.wait()
            os.close(master)


def idle_results(args: argparse.Namespace) -> None:
    if args.model:
        command = [str(Path(sys.executable).with_name("mnist-tui")), "--model", args.model]
        command += ["--data", args.data] if args.data else []
        what = f"mnist-tui --model {args.model}"
    else:
        command = [sys.executable, str(Path(__file__).resolve()), "--results-child"]
        what = "the app with 10,000 fake predictions"
    cpu, wall, written = measure_idle_results(args.seconds, command)
    print(f"Idle on the results screen at 120x40 in a pseudo-terminal ({what})")
    print(f"{'CPU s':>8}{'wall s':>8}{'CPU / wall':>12}{'bytes out':>11}")
    print(f"{cpu:>8.2f}{wall:>8.2f}{cpu / wall:>11.1%}{written:>11,}")
    verdict = "under" if cpu / wall < 0.01 else "OVER"
    print(f"{verdict} the 1% of one core allowed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=None, help="length of the run (default: 30, idle results: 10)")
    parser.add_argument(
        "--interval", type=float, default=None, help="seconds between batch events (default: the app's)"
    )
    parser.add_argument("--idle-results", action="store_true", help="measure the results screen left idle instead")
    parser.add_argument("--model", help="with --idle-results: run the real mnist-tui --model on this model")
    parser.add_argument("--data", help="with --model: the MNIST data path")
    parser.add_argument("--profile", action="store_true", help="where the live screen's CPU goes, per widget")
    parser.add_argument("--results-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.results_child:
        return results_child()
    if args.idle_results:
        args.seconds = args.seconds or 10.0
        return idle_results(args)
    args.seconds = args.seconds or 30.0
    from mnist_tui.training import BATCH_INTERVAL

    interval = args.interval or BATCH_INTERVAL
    if args.profile:
        return profile(args.seconds, interval)
    print(f"UI cost at 120x40 over {args.seconds:.0f} s, a batch event every {interval * 1000:.0f} ms")
    print(f"{'stream':<14}{'events':>8}{'CPU s':>8}{'wall s':>8}{'CPU / wall':>12}")
    results = {}
    for label, events in (("idle", False), ("live events", True)):
        cpu, wall, emitted = measure(args.seconds, interval, events)
        results[label] = cpu / wall
        print(f"{label:<14}{emitted:>8}{cpu:>8.2f}{wall:>8.2f}{cpu / wall:>11.1%}")
    print(
        f"the live screen takes {results['live events']:.1%} of one core "
        f"({results['live events'] / 2:.1%} of a 2-core machine)"
    )


if __name__ == "__main__":
    main()
