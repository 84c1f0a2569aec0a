"""What an idle TensorFlow process beside a training run costs the run: alone, beside a served model, beside a spare.

    python benchmarks/neighbour.py --data ../shared/data/mnist                 # 3 rounds of 3 epochs
    python benchmarks/neighbour.py --data DIR --epochs 1 --train-limit 2000 --rounds 1   # a smoke run

Before a new run ended the last run's model process, a new run trained beside it: two
TensorFlow processes on the 2 cores. This trains the reference model ``--headless``'s
way (``run.py --child headless``: a fresh process, the clock from building the model to
the scored test set) three ways, alternating:

- ``alone``: no other process of the app;
- ``beside a model``: a model process serving a saved model (loaded, one prediction
  made, then idle, as the last run's process stayed while nobody used it);
- ``beside a spare``: a spare process with Keras imported, idle (what the app would
  keep if it kept its spare while training; it does not).

For each, the neighbour's resident memory and the CPU seconds it used during the run.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run

WAYS = ("alone", "beside a model", "beside a spare")


def usage(pid: int) -> tuple[float, float]:
    """Resident MiB and CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    rss = int(re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text()).group(1)) / 1024
    return rss, cpu


def settled(pid: int) -> None:
    """Wait until the process has used no CPU for a second (its import or load is over)."""
    last, still = -1.0, 0
    while still < 10:
        time.sleep(0.1)
        cpu = usage(pid)[1]
        still = still + 1 if cpu == last else 0
        last = cpu


def neighbour(way: str, model: Path):
    """Start the neighbour for ``way``; returns (its pid, a function that ends it), or None."""
    from mnist_tui.worker import client, processes
    from mnist_tui.worker.protocol import SpareJob

    if way == "beside a model":
        remote = client.RemoteModel.open(model, "m")
        while not remote.ready:
            time.sleep(0.05)
        remote.predict(np.zeros((1, 28, 28), np.uint8))
        settled(remote.pid)
        return remote.pid, remote.close
    if way == "beside a spare":
        live = processes.start(SpareJob("tensorflow"), None, ())
        settled(live.process.pid)
        return live.process.pid, live.end
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="directory with the four MNIST files")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--train-limit", type=int)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    print(f"neighbour · {os.cpu_count()} CPUs · load {os.getloadavg()[0]:.2f}", flush=True)
    results: dict[str, list[dict[str, float]]] = {way: [] for way in WAYS}
    with tempfile.TemporaryDirectory(prefix="mnist-tui-neighbour-") as tmp:
        model = Path(tmp) / "m.keras"
        subprocess.run(
            [sys.executable, "-m", "mnist_tui", "--headless", "--epochs", "1", "--train-limit", "2000"]
            + ["--data", str(args.data), "--save", str(model), "--no-record"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for round_ in range(args.rounds):
            for way in WAYS if round_ % 2 == 0 else reversed(WAYS):
                started = neighbour(way, model)
                before = usage(started[0]) if started else (0.0, 0.0)
                result = run.run_child(args, "headless")
                if started:
                    rss, cpu = usage(started[0])
                    result.update(neighbour_rss=rss, neighbour_cpu=cpu - before[1])
                    started[1]()
                results[way].append(result)
                print(f"  round {round_ + 1} {way:<15} {result['seconds']:.1f} s", file=sys.stderr, flush=True)
    alone = statistics.median(r["seconds"] for r in results["alone"])
    print(
        f"\n{args.epochs} epochs headless, {args.rounds} rounds alternating (median); load now {os.getloadavg()[0]:.2f}"
    )
    print(f"{'way':<16}{'train s':>9}{'/ alone':>9}{'neighbour MiB':>15}{'its CPU s':>11}   runs")
    for way in WAYS:
        rows = results[way]
        seconds = statistics.median(r["seconds"] for r in rows)
        rss = statistics.median(r.get("neighbour_rss", 0.0) for r in rows)
        cpu = statistics.median(r.get("neighbour_cpu", 0.0) for r in rows)
        each = " ".join(f"{r['seconds']:.2f}" for r in rows)
        print(f"{way:<16}{seconds:>9.2f}{seconds / alone:>9.3f}{rss:>15.0f}{cpu:>11.2f}   {each}")


if __name__ == "__main__":
    main()
