"""mnist-tui against plain Keras: training speed, start-up, browsing latency and memory.

    python benchmarks/run.py --data ../shared/data/mnist            # the reference run (about 6 min)
    python benchmarks/run.py --data DIR --epochs 1 --train-limit 500 --rounds 1 --presses 30   # a smoke run

1. Training: the reference configuration (10 epochs, batch 32, validation on the test set
   after each epoch, then the test set scored) three ways, alternating, each in a fresh
   process: plain Keras (default ``compile``, ``fit(verbose=0)``), mnist-tui's trainer as
   ``--headless`` runs it (recorded in a scratch run store, a checkpoint after every
   epoch), and the whole Textual app (headless terminal, real widgets, the same recording).
   "fit s" is the same span for every way, clocked in the process that trains: from the
   first ``fit()`` call to the end of the last epoch (the trainer's own ``Finished.seconds``;
   for plain Keras, its one ``fit()`` call). "process s" is launch to exit, from outside.
   For the app, the UI process's CPU seconds over the wall seconds of the same training
   (from the "Training" stage to the "Evaluating" one, as the UI sees them) say what
   watching costs. Peak RSS of each process is read from ``wait4``.
2. Start-up: ``mnist-tui`` in a pseudo-terminal, launch to the first painted frame and to
   the first finished epoch on screen.
3. Browsing: ``mnist-tui --model`` (``--model PATH``, else a model trained for one epoch first) in a
   pseudo-terminal at 120x40 over the 10,000 test images: milliseconds from writing a
   key to the end of the last frame it caused, idle and while the reference model
   trains in another process. The terminal answers Textual's query for synchronized
   output, so each frame arrives between markers that can be timed.
4. Peers (``peers.py``): the seed's script on TensorFlow and on JAX, mnist-tui headless on
   each backend, and the CNN as a plain float32 script against mnist-tui's ``auto``
   precision, in one table, alternating, fresh processes.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import re
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peers

WAYS = ("plain", "headless", "app")
NAVIGATION = ["right"] * 6 + ["left"] * 2 + ["pagedown", "pageup", "end", "home"]
FILTERS = ["e", "3", "o", "a", "e", "7", "o", "m", "m", "a"]


# ----------------------------------------------------------------------------- training, one way per process


def child(way: str, data_dir: Path, epochs: int, train_limit: int | None) -> None:
    """Train once the ``way`` way and print ``RESULT {json}``: seconds and test accuracy.

    ``seconds`` is the span every way is compared on: the training itself, from the first
    ``fit()`` call to the end of the last epoch, clocked where the training runs (the
    trainer's own ``Finished.seconds``, in the app as in headless). Clocks read in the UI
    as events arrive would also count what happens around the training: the relay, and
    in the app the run's recording (the model saved, the predictions written) before
    ``Finished`` reaches the screen.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from mnist_tui.config import TrainConfig

    config = TrainConfig(epochs=epochs, seed=1, data=data_dir, train_limit=train_limit)
    if way == "app":
        seconds, accuracy, extra = full_app(config)
    else:
        import keras

        from mnist_tui.data import load_path

        data = load_path(data_dir)
        if way == "plain":
            keras.utils.set_random_seed(1)
            seconds, accuracy = plain_keras(keras, data, config)
        else:  # the trainer seeds itself, after sizing TensorFlow's thread pools
            seconds, accuracy = headless(data, config)
        extra = {}
    print("RESULT " + json.dumps({"seconds": seconds, "accuracy": accuracy, **extra}), flush=True)


def seed_model(keras):
    """The reference model as the seed's script builds it (not compiled)."""
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28)),
            keras.layers.Flatten(),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


def plain_keras(keras, data, config) -> tuple[float, float]:
    """The seed's script: the reference model, default compile, fit, then predict; the seconds of ``fit()``."""
    x, y = data.x_train[: config.train_limit], data.y_train[: config.train_limit]
    x, xt = x / 255.0, data.x_test / 255.0
    model = seed_model(keras)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x, y, epochs=config.epochs, batch_size=config.batch_size, validation_data=(xt, data.y_test), verbose=0)
    seconds = time.perf_counter() - start
    accuracy = float((model.predict(xt, verbose=0).argmax(axis=1) == data.y_test).mean())
    return seconds, accuracy


def headless(data, config) -> tuple[float, float]:
    """The trainer as ``mnist-tui --headless`` runs it: recorded (a checkpoint after every epoch), on a thread."""
    import threading

    from rich.console import Console

    from mnist_tui.events import Finished
    from mnist_tui.headless import HeadlessReporter
    from mnist_tui.runs import Recorder
    from mnist_tui.training import KerasTrainer

    with open(os.devnull, "w") as sink:
        reporter = HeadlessReporter(Console(file=sink), Console(file=sink))
        recorder = Recorder.open(reporter, config)
        run_id = recorder.start()
        assert run_id is not None and recorder.store is not None, "the scratch run store did not open"
        trainer = KerasTrainer(config, data=data, checkpoint_dir=recorder.store.run_dir(run_id))
        worker = threading.Thread(target=trainer.run, args=(recorder,), name="mnist-tui-trainer")
        worker.start()
        worker.join()
        recorder.close()
    assert isinstance(reporter.outcome, Finished), reporter.outcome
    return reporter.outcome.seconds, reporter.outcome.test_accuracy


class UiClock:
    """The UI process's CPU and wall seconds from the "Training" stage to the "Evaluating" one, as events arrive."""

    def __init__(self) -> None:
        self.marks: dict[str, tuple[float, float]] = {}

    def see(self, event) -> None:
        from mnist_tui.events import Stage

        if isinstance(event, Stage) and event.name in ("Training", "Evaluating"):
            self.marks[event.name] = (time.process_time(), time.perf_counter())  # every thread of this process

    @property
    def cpu_share(self) -> float:
        if len(self.marks) < 2:
            return float("nan")
        (cpu0, wall0), (cpu1, wall1) = self.marks["Training"], self.marks["Evaluating"]
        return (cpu1 - cpu0) / (wall1 - wall0)


def full_app(config) -> tuple[float, float, dict[str, object]]:
    """The whole app, its trainer in a process of its own; also the UI process's CPU share, peak RSS and modules."""
    from mnist_tui.app import MnistApp
    from mnist_tui.screens.training import TrainingScreen
    from mnist_tui.worker import client

    clock = UiClock()

    class TimedApp(MnistApp):
        accuracy = seconds = float("nan")

        def on_training_screen_event(self, message: TrainingScreen.Event) -> None:
            clock.see(message.event)

        def on_training_screen_done(self, message: TrainingScreen.Done) -> None:
            self.accuracy = message.result.test_accuracy
            self.seconds = message.result.seconds
            message.prevent_default()  # no results screen
            self.exit()

    app = TimedApp(config)
    app.run(headless=True, size=(120, 40))
    client.end_all()
    status = Path("/proc/self/status").read_text()
    peak = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024
    tensorflow = any(name in sys.modules for name in ("tensorflow", "keras"))
    return app.seconds, app.accuracy, {"ui_rss_mib": peak, "ui_tensorflow": tensorflow, "ui_cpu": clock.cpu_share}


def run_child(args: argparse.Namespace, way: str) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", way, "--data", str(args.data), "--epochs", str(args.epochs)]
    if args.train_limit:
        command += ["--train-limit", str(args.train_limit)]
    start = time.perf_counter()
    env = {**os.environ, "MNIST_TUI_HOME": tempfile.mkdtemp(prefix="mnist-tui-bench-")}  # runs are not kept
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    lines = [line for line in out.splitlines() if line.startswith("RESULT ")]
    if status != 0 or not lines:
        raise SystemExit(f"{way} run failed (status {status}):\n{out[-2000:]}")
    result = json.loads(lines[-1][len("RESULT ") :])
    return {**result, "wall": wall, "rss_mib": usage.ru_maxrss / 1024}


def training(args: argparse.Namespace) -> None:
    ways = [way for way in WAYS if way in args.ways]
    runs: dict[str, list[dict[str, float]]] = {way: [] for way in ways}
    for round_ in range(args.rounds):
        for way in ways if round_ % 2 == 0 else reversed(ways):
            runs[way].append(run_child(args, way))
            print(f"  round {round_ + 1} {way:<9} {runs[way][-1]['seconds']:.1f} s", file=sys.stderr, flush=True)
    med = {way: {k: statistics.median(r[k] for r in runs[way]) for k in runs[way][0]} for way in ways}
    print(f"\nTraining: {args.epochs} epochs, batch 32, validation each epoch, {args.rounds} rounds (median)")
    print(f"{'way':<10}{'fit s':>9}{'process s':>11}{'test acc':>10}{'peak RSS MiB':>14}   runs (fit s)")
    for way in ways:
        each = " ".join(f"{r['seconds']:.2f}" for r in runs[way])
        m = med[way]
        print(f"{way:<10}{m['seconds']:>9.2f}{m['wall']:>11.1f}{m['accuracy']:>10.4f}{m['rss_mib']:>14.0f}   {each}")
    ratios = []
    if "plain" in med and "headless" in med:
        ratios.append(f"headless / plain: {med['headless']['seconds'] / med['plain']['seconds']:.2f}")
    if "app" in med and "headless" in med:
        # each round's pair, then the median of those: the two ran back to back, under the same load
        pairs = [a["seconds"] / h["seconds"] for a, h in zip(runs["app"], runs["headless"])]
        ratios.append(
            f"app / headless: {med['app']['seconds'] / med['headless']['seconds']:.3f}"
            f" (per round {' '.join(f'{r:.3f}' for r in pairs)})"
        )
    if "plain" in med and "headless" in med:
        accuracy = 100 * (med["headless"]["accuracy"] - med["plain"]["accuracy"])
        ratios.append(f"accuracy headless - plain: {accuracy:+.2f} points")
    print("   ".join(ratios))
    if "app" in runs:
        ui = [r["ui_rss_mib"] for r in runs["app"]]
        shares = [r["ui_cpu"] for r in runs["app"]]
        tensorflow = any(r["ui_tensorflow"] for r in runs["app"])
        print(
            f"app: UI process {statistics.median(shares):.1%} of a core while training"
            f" (runs {' '.join(f'{s:.1%}' for s in shares)}), peak RSS {statistics.median(ui):.0f} MiB"
            f" (the row above is its trainer process), TensorFlow in the UI process: {'yes' if tensorflow else 'no'}"
        )


# ----------------------------------------------------------------------------- a real terminal


class Terminal:
    """A command in a pseudo-terminal, read as a terminal would read it.

    It answers Textual's query for synchronized output, so every frame the app paints
    arrives between ``SYNC_START`` and ``SYNC_END`` and the end of a frame can be timed.
    """

    SYNC_QUERY, SYNC_REPLY, SYNC_END = b"\x1b[?2026$p", b"\x1b[?2026;2$y", b"\x1b[?2026l"

    def __init__(self, command: list[str], size: tuple[int, int] = (120, 40)) -> None:
        columns, rows = size
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(columns), "LINES": str(rows)}
        self.start = time.perf_counter()
        self.proc = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
        os.close(slave)
        self.master = master
        self.seen = bytearray()
        self.answered = False

    def read(self, timeout: float) -> bytes:
        """What arrives within ``timeout`` seconds (empty when nothing does)."""
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return b""
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # the child has gone
            return b""
        self.seen.extend(chunk)
        if not self.answered and self.SYNC_QUERY in self.seen:
            os.write(self.master, self.SYNC_REPLY)
            self.answered = True
        return chunk

    def wait_for(self, pattern: re.Pattern[bytes], timeout: float = 120) -> float:
        """Seconds from launch until ``pattern`` has appeared (NaN on time-out)."""
        deadline = time.perf_counter() + timeout
        while not pattern.search(self.seen):
            if time.perf_counter() > deadline or self.proc.poll() is not None:
                return float("nan")
            self.read(0.01)
        return time.perf_counter() - self.start

    def settle(self, quiet: float = 0.3) -> None:
        """Read until nothing has arrived for ``quiet`` seconds."""
        while self.read(quiet):
            pass

    def press(self, key: bytes, quiet: float = 0.1, timeout: float = 10) -> float | None:
        """Milliseconds from writing ``key`` to the end of the last frame it caused (None: no frame)."""
        sent = time.perf_counter()
        os.write(self.master, key)
        last_frame = None
        pending = b""
        while time.perf_counter() - sent < timeout:
            # wait as long as it takes for the first frame, then until the output goes quiet
            chunk = self.read(quiet if last_frame else timeout - (time.perf_counter() - sent))
            if not chunk:
                break
            pending = (pending + chunk)[-len(self.SYNC_END) - len(chunk) :]
            if self.SYNC_END in pending:
                last_frame = time.perf_counter()
                pending = b""
        return None if last_frame is None else (last_frame - sent) * 1000

    def close(self) -> None:
        try:
            if self.proc.poll() is None:
                os.write(self.master, b"q")
                self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            pass
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            os.close(self.master)


# ----------------------------------------------------------------------------- start-up


def startup(args: argparse.Namespace) -> None:
    firsts, epochs = [], []
    for _ in range(args.rounds + 1):
        first, epoch = launch_once(args)
        firsts.append(first)
        epochs.append(epoch)
    print(f"\nStart-up in a pseudo-terminal (120x40), {len(firsts)} launches (median)")
    print(
        f"first frame: {statistics.median(firsts):.2f} s   first epoch on screen: {statistics.median(epochs):.2f} s"
        f"   (runs: {' '.join(f'{f:.2f}/{e:.1f}' for f, e in zip(firsts, epochs))})"
    )


def launch_once(args: argparse.Namespace) -> tuple[float, float]:
    epochs = max(args.epochs, 2)
    terminal = Terminal(mnist_tui(args, "--epochs", str(epochs), "--log-file", os.devnull))
    try:
        first = terminal.wait_for(re.compile(rb"Loading"))  # the first frame of the training screen
        epoch = terminal.wait_for(re.compile(rb"(?<!Epoch )1/%d  " % epochs))  # epoch 1's row in the epoch table
    finally:
        terminal.close()
    return first, epoch


# ----------------------------------------------------------------------------- browsing


KEY_BYTES = {
    "right": b"\x1b[C",
    "left": b"\x1b[D",
    "pagedown": b"\x1b[6~",
    "pageup": b"\x1b[5~",
    "home": b"\x1b[H",
    "end": b"\x1b[F",
}


def browse(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model
        if model is None:
            model = Path(tmp) / "model.keras"
            subprocess.run(
                [*mnist_tui(args, "--headless", "--epochs", "1"), "--save", str(model)],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        print(
            "\nBrowsing 10,000 images at 120x40: `mnist-tui --model` in a pseudo-terminal, key written to frame painted, ms"
        )
        print(f"{'while':<10}{'keys':<20}{'presses':>8}{'median':>8}{'p95':>8}{'max':>8}")
        for label, background in (("idle", False), ("training", True)):
            timings = press_keys(args, model, background)
            everything = [t for values in timings.values() for t in values]
            for name, values in [*timings.items(), ("all keys", everything)]:
                if not values:
                    print(f"{label:<10}{name:<20}{0:>8}   no key of these changed the screen")
                    continue
                print(
                    f"{label:<10}{name:<20}{len(values):>8}{statistics.median(values):>8.1f}"
                    f"{np.percentile(values, 95):>8.1f}{max(values):>8.1f}"
                )


def mnist_tui(args: argparse.Namespace, *options: str) -> list[str]:
    """The ``mnist-tui`` command line with ``options``, on the benchmark's data."""
    limit = ["--train-limit", str(args.train_limit)] if args.train_limit else []
    return [sys.executable, "-m", "mnist_tui", *options, "--data", str(args.data), *limit]


def press_keys(args: argparse.Namespace, model: Path, background: bool) -> dict[str, list[float]]:
    trainer = None
    if background:
        # the reference run training beside the browser, in another process
        trainer = subprocess.Popen(
            mnist_tui(args, "--headless", "--epochs", "50"),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for line in trainer.stdout or ():
            if line.startswith("Training"):  # TensorFlow and the data are loaded; fit() starts
                break
    terminal = Terminal(mnist_tui(args, "--model", str(model), "--log-file", os.devnull))
    timings: dict[str, list[float]] = {"navigation": [], "filter/order/mode": []}
    try:
        terminal.wait_for(re.compile(rb"per digit"))  # the results screen's summary line
        terminal.settle()
        for i in range(args.presses):
            if i % 3:
                kind, key = "navigation", NAVIGATION[i % len(NAVIGATION)]
            else:
                kind, key = "filter/order/mode", FILTERS[(i // 3) % len(FILTERS)]
            latency = terminal.press(KEY_BYTES.get(key, key.encode()))
            if latency is not None:  # None: the key changed nothing (`end` at the end), so nothing was painted
                timings[kind].append(latency)
    finally:
        terminal.close()
        if trainer is not None:
            trainer.kill()
            trainer.wait()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="directory with the four MNIST files")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--train-limit", type=int, help="train on the first N images only (smoke runs)")
    parser.add_argument("--rounds", type=int, default=3, help="training rounds; start-up launches one more")
    parser.add_argument("--presses", type=int, default=300, help="key presses per browsing run")
    parser.add_argument("--only", choices=("training", "peers", "startup", "browse"), help="run one part")
    parser.add_argument(
        "--model", type=Path, help="browsing: this saved model (default: one trained for an epoch on the data)"
    )
    parser.add_argument(
        "--ways",
        type=lambda text: text.split(","),
        default=list(WAYS),
        help="training: the ways to run, comma-separated (default: plain,headless,app)",
    )
    peers.add_arguments(parser)
    parser.add_argument("--child", choices=WAYS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.data, args.epochs, args.train_limit)
        return
    if args.model is not None and not args.model.is_file():
        parser.error(f"--model {args.model}: no such file")
    print(f"mnist-tui benchmarks · {os.cpu_count()} CPUs · Python {sys.version.split()[0]}")
    for part, run in (("training", training), ("peers", peers.peers), ("startup", startup), ("browse", browse)):
        if args.only in (None, part):
            run(args)


if __name__ == "__main__":
    main()
