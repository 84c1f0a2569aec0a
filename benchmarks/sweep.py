"""Sweep benchmarks: the driver's own overhead per trial, and the sweep screen's redraw at 200 trials.

    python benchmarks/sweep.py [--trials 200] [--repeat 5]
    MNIST_TUI_HOME=STORE python benchmarks/sweep.py --replay NAME


Overhead: the driver runs trials of a scripted trainer that trains nothing, so what is timed is
Optuna (ask, report, tell, TPE sampling on a journal file) and the recording (a run row, epochs,
the predictions file, the trial's tags). Redraw: the parallel coordinates' strips and the trial
table rebuilt from a 200-trial sweep, at 120x40. The pruning and workers comparisons are
``mnist-tui sweep`` runs (see benchmarks/README.md for the commands).

Replay: the validation curves of a recorded sweep run without pruning (``--prune none``), fed
in trial order to each pruner's settings in a fresh study, say how many epochs each would have
trained and whether it would have stopped the best trial. Exact while the sampler draws at
random (TPE's first 10 trials); after that a pruned sweep samples other trials, so it is an
estimate, to choose settings before a real pruned sweep measures them.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mnist_tui.config import TrainConfig
from mnist_tui.runs import open_store
from mnist_tui.runs.trials import add_sweep
from mnist_tui.sweeps.driver import SweepDriver
from mnist_tui.sweeps.space import parse_space
from mnist_tui.sweeps.study import SweepSpec, create_study, journal_path, open_storage


def overhead(trials: int) -> float:
    """Seconds of driver overhead per trial (a 3-epoch trial whose trainer takes no time)."""
    from tests.support.sweeps import FakeSweepTrainer

    with tempfile.TemporaryDirectory() as home:
        store = open_store(Path(home))
        path = str(journal_path(store.home, "bench"))
        add_sweep(store, "bench", path)
        spec = SweepSpec(
            "bench",
            parse_space("lr=1e-4..1e-1:log hidden=32..512:log dropout=0..0.5 batch=32,64,128"),
            TrainConfig(epochs=3, seed=1),
            seed=1,
            prune="median",
            trials=trials,
        )
        study = create_study(spec, open_storage(path))
        start = time.perf_counter()
        SweepDriver(study, spec, store, FakeSweepTrainer).run()
        return (time.perf_counter() - start) / trials


async def redraw(trials: int, repeat: int) -> tuple[float, float]:
    """Median milliseconds to rebuild the parallel coordinates' strips, and the whole screen's data (table too)."""
    from mnist_tui.widgets.parallel import ParallelCoords
    from tests.support.sweeps import fake_view
    from tests.ui.test_sweep_screen import SweepApp

    view = fake_view(trials, running=False)
    app = SweepApp(view)
    plot_ms, show_ms = [], []
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        plot = screen.query_one(ParallelCoords)
        width, height = plot.size
        for _ in range(repeat):
            start = time.perf_counter()
            plot.build(width, height)
            plot_ms.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            screen.show(view)
            plot.build(width, height)
            show_ms.append((time.perf_counter() - start) * 1000)
        await pilot.pause()
    return statistics.median(plot_ms), statistics.median(show_ms)


def replay(name: str) -> None:
    """Print, for several pruners, the epochs a recorded unpruned sweep would have trained and its best."""
    import optuna
    from optuna import pruners as p
    from optuna.trial import TrialState

    from mnist_tui.runs.trials import sweep_storage
    from mnist_tui.sweeps.study import load_study, make_pruner, quiet_optuna

    store = open_store()
    storage = sweep_storage(store, name)
    if storage is None:
        sys.exit(f"sweep.py: there is no sweep {name!r} in {store.home}")
    study, spec = load_study(name, open_storage(storage))
    curves = [
        ([t.intermediate_values[k] for k in sorted(t.intermediate_values)], t.value)
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    ]
    full = sum(len(curve) for curve, _ in curves)
    epochs = max(len(curve) for curve, _ in curves)
    print(f"{name}: {len(curves)} complete trials, {full} epochs, best {max(v for _, v in curves):.2%}")
    quiet_optuna()
    pruners = {
        "median (the default)": make_pruner("median", epochs),
        "median, 5 start-up trials (Optuna's default)": p.MedianPruner(n_startup_trials=5),
        "median, 2 start-up trials": p.MedianPruner(n_startup_trials=2),
        "median, from epoch 2": p.MedianPruner(n_startup_trials=3, n_warmup_steps=2),
        "median, from epoch 3": p.MedianPruner(n_startup_trials=3, n_warmup_steps=3),
        "percentile 40 (keep the best 40%)": p.PercentilePruner(40.0, n_startup_trials=3),
        "hyperband (--prune hyperband)": make_pruner("hyperband", epochs),
        "successive halving, 1 bracket": p.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3),
    }
    for label, pruner in pruners.items():
        fresh = optuna.create_study(study_name=name, direction="maximize", pruner=pruner)
        trained, pruned, best = 0, 0, None
        for curve, value in curves:
            trial = fresh.ask()
            for epoch, accuracy in enumerate(curve, 1):
                trial.report(accuracy, epoch)
                trained += 1
                if trial.should_prune():
                    fresh.tell(trial, state=TrialState.PRUNED)
                    pruned += 1
                    break
            else:
                fresh.tell(trial, value)
                best = value if best is None else max(best, value)
        print(
            f"  {label:46s} {trained:4d} epochs ({1 - trained / full:4.0%} fewer), {pruned:2d} pruned, best {best:.2%}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--overhead-trials", type=int, default=30)
    parser.add_argument("--replay", metavar="NAME", help="replay pruners on a recorded unpruned sweep, and stop")
    args = parser.parse_args()
    if args.replay:
        replay(args.replay)
        return
    per_trial = overhead(args.overhead_trials)
    print(f"driver overhead per 3-epoch trial (Optuna + recording): {per_trial * 1000:.0f} ms")
    plot_ms, show_ms = asyncio.run(redraw(args.trials, args.repeat))
    print(
        f"{args.trials} trials at 120x40: parallel coordinates {plot_ms:.1f} ms, whole screen update {show_ms:.1f} ms"
    )


if __name__ == "__main__":
    main()
