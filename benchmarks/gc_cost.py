"""What Textual's style-cache leak cost the UI process: objects, memory and full garbage collections.

    python benchmarks/gc_cost.py                 # 2 rounds of each, alternating (about a minute)
    python benchmarks/gc_cost.py --rounds 1 --cycles 5   # a smoke run

Each row is a fresh process running the app on scripted results (no Keras), as ``mnist-tui``
launches it (``freeze_heap``), at 120x40 under Textual's pilot: the help screen opened and
closed and five images stepped through, ``--cycles`` times. ``without`` puts back Textual's own
``StylesCache.get_inner_outer`` (an ``lru_cache`` on an instance method, which keeps up to 1,024
removed widgets' style caches alive: Textualize/textual#6665); ``with`` is the app as it ships
(``mnist_tui/widgets/textual_fixes.py``). Printed: the objects the collector tracks after a
final collection, the peak resident memory, and the count and wall time of the full
collections during the browsing.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child(way: str, cycles: int) -> None:
    sys.path.insert(0, str(ROOT))
    from textual._styles_cache import StylesCache

    textuals_own = StylesCache.__dict__["get_inner_outer"]
    from mnist_tui.app import MnistApp  # applies the fix
    from tests.support import fakes

    if way == "without":
        StylesCache.get_inner_outer = textuals_own  # type: ignore[method-assign]
    full = {"count": 0, "seconds": 0.0, "start": 0.0}

    def clock(phase: str, info: dict) -> None:
        if info["generation"] == 2:
            if phase == "start":
                full["start"] = time.perf_counter()
            else:
                full["count"] += 1
                full["seconds"] += time.perf_counter() - full["start"]

    async def browse() -> int:
        app = MnistApp(predictions=fakes.fake_predictions(), title="scripted", freeze_heap=True)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            gc.callbacks.append(clock)
            for _ in range(cycles):
                await pilot.press("question_mark")
                await pilot.press("escape")
                await pilot.press(*["right"] * 5)
            gc.callbacks.remove(clock)
            gc.collect()
            return len(gc.get_objects())

    objects = asyncio.run(browse())
    peak = int(Path("/proc/self/status").read_text().split("VmHWM:")[1].split()[0]) / 1024
    print(
        "RESULT " + json.dumps({"objects": objects, "peak_mib": peak, "full": full["count"], "full_s": full["seconds"]})
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--cycles", type=int, default=40, help="help opened and closed, five images stepped, N times")
    parser.add_argument("--child", choices=("without", "with"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.cycles)
        return
    ways = ("without", "with")
    runs: dict[str, list[dict]] = {way: [] for way in ways}
    for round_ in range(args.rounds):
        for way in ways if round_ % 2 == 0 else reversed(ways):
            command = [sys.executable, __file__, "--child", way, "--cycles", str(args.cycles)]
            out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT).stdout
            runs[way].append(json.loads(out.split("RESULT ", 1)[1]))
    print(f"The app at 120x40 (freeze_heap), help opened and closed and 5 images stepped {args.cycles} times")
    print(f"{'style caches':<14}{'objects':>10}{'peak MiB':>10}{'full GCs':>10}{'in them s':>11}   runs (s)")
    for way in ways:
        rows = runs[way]
        median = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
        each = " ".join(f"{r['full_s']:.2f}" for r in rows)
        print(
            f"{way + ' fix':<14}{median['objects']:>10,.0f}{median['peak_mib']:>10.0f}"
            f"{median['full']:>10.0f}{median['full_s']:>11.2f}   {each}"
        )


if __name__ == "__main__":
    main()
