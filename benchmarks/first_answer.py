"""The first answer after opening a run: `w` pressed 1 s after its results appear, key to why-map on screen.

    python benchmarks/first_answer.py --data ../shared/data/mnist               # about 5 minutes
    python benchmarks/first_answer.py --data DIR --rounds 1 --warm-wait 12      # a smoke run
    python benchmarks/first_answer.py --data DIR --only model --launches 5      # --model PATH.keras alone

Two tiny runs are recorded first in a throw-away store (``--headless``, 2,000 training
images, 1 epoch). Then, with the spare model process (the default) and without it
(``MNIST_TUI_NO_SPARE=1``), alternating, the real ``mnist-tui`` runs in a pseudo-terminal at
120x40:

1. ``--run 1``: `w` written 1 s after the results' summary line is on screen; the time
   until the why-map's caption ("predicted 7 · 96%") has been painted (a cold start:
   the process that serves the run starts with the app).
2. Then ``--rounds`` times: ``--warm-wait`` seconds of reading (the next spare's import),
   ``R``, ``enter`` on run 2 (the runs screen's first row), its results' title on screen,
   1 s, `w`, and the time until the why-map is painted; ``escape`` back.

3. ``--model PATH`` (a CNN trained for the purpose, ``--model-arch``: 1 epoch on 2,000
   images, saved) opened twice in a row from an empty cache folder, ``--launches`` times:
   launch to the first image on screen (its panel's title, "index 0 · 10,000 images") and
   launch to the predictions on screen (the summary's "per digit"), the first time
   predicted by the model process while the image is shown, the second from the test
   predictions kept by the file's checksum.

Also the spare's own cost: its resident memory once warm and the CPU seconds its start
took (from ``/proc``), read from the first spare of the first launch.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import process
from run import Terminal

SUMMARY = re.compile(rb"per digit")
FIRST_IMAGE = re.compile(rb"index 0 \xc2\xb7 10,000 images")  # the digit panel's title, painted with the digit
MAP = re.compile(rb"predicted \d \xc2\xb7 \d+%")  # the why-map's caption, painted with the map
KEYS = {"escape": b"\x1b", "enter": b"\r"}


def wait_new(terminal: Terminal, pattern: re.Pattern[bytes], since: int, timeout: float = 60) -> float:
    """Seconds until ``pattern`` appears in what arrived after byte ``since`` (NaN on time-out)."""
    start = time.perf_counter()
    while not pattern.search(terminal.seen, since):
        if time.perf_counter() - start > timeout or terminal.proc.poll() is not None:
            return float("nan")
        terminal.read(0.005)
    return time.perf_counter() - start


def press(terminal: Terminal, key: bytes) -> int:
    """Write ``key``; returns where the output after it starts."""
    since = len(terminal.seen)
    os.write(terminal.master, key)
    return since


def answer(terminal: Terminal) -> float:
    """`w`, then seconds until the why-map is on screen; `w` again hides it."""
    since = press(terminal, b"w")
    seconds = wait_new(terminal, MAP, since)
    terminal.settle(0.2)
    press(terminal, b"w")
    terminal.settle(0.2)
    return seconds


def children(pid: int) -> list[int]:
    """The app's trainer and model processes (multiprocessing's helper left out)."""
    return [
        child
        for child in process.children_of(pid)
        if b"resource_tracker" not in Path(f"/proc/{child}/cmdline").read_bytes()
    ]


def cost(pid: int) -> tuple[float, float]:
    """A process's resident memory (MiB) and CPU seconds so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    rss = int(re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text()).group(1)) / 1024
    return rss, cpu


def launch(args: argparse.Namespace, home: Path, spare: bool, measure_spare: bool) -> dict[str, object]:
    os.environ["MNIST_TUI_NO_SPARE"] = "" if spare else "1"
    command = [sys.executable, "-m", "mnist_tui", "--run", "1", "--data", str(args.data), "--log-file", os.devnull]
    terminal = Terminal(command)
    result: dict[str, object] = {"reopen": []}
    try:
        if math.isnan(terminal.wait_for(SUMMARY)):
            raise SystemExit("the results never appeared:\n" + terminal.seen[-2000:].decode(errors="replace"))
        time.sleep(1)
        terminal.settle(0.05)
        result["cold"] = answer(terminal)
        if measure_spare:
            # the run's own process and, REFILL_DELAY later, the spare: the newest child
            deadline = time.monotonic() + 30
            while len(children(terminal.proc.pid)) < 2 and time.monotonic() < deadline:
                terminal.read(0.1)
            pid = max(children(terminal.proc.pid))
            last, still = -1.0, 0
            while still < 10:  # CPU time unchanged for a second: the import is over
                terminal.read(0.1)
                rss, cpu = cost(pid)
                still = still + 1 if cpu == last else 0
                last = cpu
            result["spare"] = (rss, cpu)
        for _ in range(args.rounds):
            deadline = time.monotonic() + args.warm_wait
            while time.monotonic() < deadline:
                terminal.read(0.1)
            since = press(terminal, b"R")
            wait_new(terminal, re.compile(rb"Runs"), since)
            terminal.settle(0.2)
            since = press(terminal, KEYS["enter"])
            if math.isnan(wait_new(terminal, SUMMARY, since)):
                raise SystemExit("run 2 never opened:\n" + terminal.seen[-2000:].decode(errors="replace"))
            time.sleep(1)
            terminal.settle(0.05)
            result["reopen"].append(answer(terminal))  # type: ignore[union-attr]
            press(terminal, KEYS["escape"])  # back to the runs screen: run 2's process ends
            terminal.settle(0.3)
            press(terminal, KEYS["escape"])  # back to run 1's results
            terminal.settle(0.3)
    finally:
        terminal.close()
    return result


def model_file(args: argparse.Namespace, home: Path) -> list[tuple[float, ...]]:
    """``--model PATH`` opened twice in a row, each pair from an empty cache.

    Each pair: (first open: launch to first image, launch to predictions; again: the same two;
    the UI process's CPU seconds when the first image of the first open was on screen), s.
    """
    times = []
    for _ in range(args.launches):
        cache = Path(tempfile.mkdtemp(prefix="mnist-tui-cache-", dir=home))
        os.environ["XDG_CACHE_HOME"] = str(cache)  # the kept predictions go here, and the log
        pair: list[float] = []
        ui_cpu = float("nan")
        for n in range(2):
            terminal = Terminal(
                [sys.executable, "-m", "mnist_tui", "--model", str(home / "model.keras"), "--data", str(args.data)]
            )
            try:
                pair.append(terminal.wait_for(FIRST_IMAGE))
                if n == 0:
                    ui_cpu = cost(terminal.proc.pid)[1]  # what the first image cost, whatever the load
                pair.append(terminal.wait_for(SUMMARY))
            finally:
                terminal.close()
        times.append((pair[0], pair[1], pair[2], pair[3], ui_cpu))
        print(
            f"  --model: first open: image {pair[0]:.2f} s ({ui_cpu:.2f} CPU s), predictions {pair[1]:.2f} s; "
            f"again: image {pair[2]:.2f} s, predictions {pair[3]:.2f} s (load {os.getloadavg()[0]:.2f})",
            file=sys.stderr,
            flush=True,
        )
    os.environ.pop("XDG_CACHE_HOME")
    return times


def record_model(args: argparse.Namespace, home: Path) -> None:
    """The model file that ``--model`` opens: trained headless, saved, not recorded."""
    subprocess.run(
        [sys.executable, "-m", "mnist_tui", "--headless", "--arch", args.model_arch, "--epochs", "1"]
        + ["--train-limit", "2000", "--no-record", "--data", str(args.data), "--save", str(home / "model.keras")],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "MNIST_TUI_HOME": str(home)},
    )


def record(args: argparse.Namespace, home: Path) -> None:
    for seed in (1, 2):
        subprocess.run(
            [sys.executable, "-m", "mnist_tui", "--headless", "--epochs", "1", "--train-limit", "2000"]
            + ["--seed", str(seed), "--data", str(args.data)],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "MNIST_TUI_HOME": str(home)},
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="directory with the four MNIST files")
    parser.add_argument("--rounds", type=int, default=5, help="reopens per launch")
    parser.add_argument(
        "--launches", type=int, default=1, help="launches per way (alternating); pairs of --model opens"
    )
    parser.add_argument("--model-arch", choices=("cnn", "mlp"), default="cnn", help="the model file --model opens")
    parser.add_argument("--only", choices=("model", "reopen"), help="one part")
    parser.add_argument("--warm-wait", type=float, default=20.0, help="seconds of reading before each reopen")
    args = parser.parse_args()
    print(f"first answer · {os.cpu_count()} CPUs · load {os.getloadavg()[0]:.2f}", flush=True)
    with tempfile.TemporaryDirectory(prefix="mnist-tui-first-") as tmp:
        home = Path(tmp)
        if args.only in (None, "reopen"):
            record(args, home)
        if args.only in (None, "model"):
            record_model(args, home)
        os.environ["MNIST_TUI_HOME"] = str(home)
        opened = model_file(args, home) if args.only in (None, "model") else []
        runs: dict[str, list[dict[str, object]]] = {"spare": [], "no spare": []}
        for i in range(args.launches if args.only in (None, "reopen") else 0):
            for way in ("spare", "no spare") if i % 2 == 0 else ("no spare", "spare"):
                runs[way].append(launch(args, home, way == "spare", measure_spare=way == "spare" and i == 0))
                print(f"  {way}: {runs[way][-1]}", file=sys.stderr, flush=True)
    if opened:
        medians = [statistics.median(t[i] for t in opened) for i in range(4)]
        print(f"\n--model PATH ({args.model_arch}), launch to ... on screen, s (120x40), median of {len(opened)}:")
        print(f"{'open':<28}{'first image':>12}{'predictions':>13}   each (image / predictions)")
        for k, name in enumerate(("first (predicted)", "again (kept predictions)")):
            each = "  ".join(f"{t[2 * k]:.2f}/{t[2 * k + 1]:.2f}" for t in opened)
            print(f"{name:<28}{medians[2 * k]:>12.2f}{medians[2 * k + 1]:>13.2f}   {each}")
        cpu = statistics.median(t[4] for t in opened)
        print(f"the UI process's CPU until the first image of a first open: {cpu:.2f} s (median)")
    if not runs["spare"]:
        print(f"load at the end {os.getloadavg()[0]:.2f}")
        return
    print("\n`w` 1 s after the results appear: key to why-map on screen, s (120x40)")
    print(f"{'way':<10}{'--run (cold)':>14}{'reopened p50':>14}{'max':>8}   each reopen")
    for way, results in runs.items():
        cold = statistics.median(float(r["cold"]) for r in results)  # type: ignore[arg-type]
        reopens = [t for r in results for t in r["reopen"]]  # type: ignore[attr-defined]
        each = " ".join(f"{t:.2f}" for t in reopens)
        p50 = statistics.median(reopens) if reopens else float("nan")
        top = max(reopens) if reopens else float("nan")
        print(f"{way:<10}{cold:>14.2f}{p50:>14.2f}{top:>8.2f}   {each}")
    spare = runs["spare"][0].get("spare")
    if spare:
        rss, cpu = spare  # type: ignore[misc]
        print(f"a spare, warm: {rss:.0f} MiB resident, {cpu:.1f} CPU s to start (import of Keras and TensorFlow)")
    print(f"load at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
