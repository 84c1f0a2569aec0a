"""Sweep benchmarks: the driver's own overhead per trial, and the sweep screen's redraw at 200 trials.

    python benchmarks/sweep.py [--trials 200] [--repeat 5]
    MNIST_TUI_HOME=STORE python benchmarks/sweep.py --replay NAME


Overhead: the driver runs trials of a scripted trainer that trains nothing, so what is timed is
Optuna (ask, report, tell, TPE sampling on a journal file) and the recording (a run row, epochs,
the predictions file, the trial's tags). Redraw: a live 200-trial sweep at 120x40 whose running
trial gains an epoch: the parallel coordinates' strips, the trial table changed in place, the whole
screen's update, each against every part drawn afresh (alternating, in the same run). The pruning and workers comparisons are
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

import numpy as np

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


def live_views(trials: int):
    """Two states of a live sweep a poll apart: its running trial before and after one more epoch."""
    from dataclasses import replace

    from tests.support.sweeps import fake_view

    before = fake_view(trials, running=True)
    last = before.rows[-1]
    after = replace(before, rows=(*before.rows[:-1], replace(last, curve=(*last.curve, last.curve[-1] + 0.004))))
    return before, after


async def redraw(trials: int, repeat: int) -> dict[str, float]:
    """Median milliseconds of a live update (one more epoch of the running trial), in place and rebuilt, alternating.

    ``parallel``: the parallel coordinates' strips built from scratch. ``table``: the trial
    table's update. ``screen``: the whole screen's update (``show``), plus building again the
    strips of every chart whose data changed (the parallel coordinates, the curves), as its
    next render does. ``rebuilt``: the same update with every part drawn afresh and the table
    cleared and refilled, as each update did before the table was changed in place.
    """
    from mnist_tui.widgets.chart import LineChart
    from mnist_tui.widgets.parallel import ParallelCoords
    from tests.ui.test_sweep_screen import SweepApp

    views = live_views(trials)
    app = SweepApp(views[0])
    times: dict[str, list[float]] = {"parallel": [], "table": [], "screen": [], "rebuilt table": [], "rebuilt": []}
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        plot = screen.query_one(ParallelCoords)
        charts = list(screen.query(LineChart))
        width, height = plot.size

        def forget() -> None:  # every part drawn again, the table built afresh
            screen._drawn.clear()
            screen._labels = []
            screen._formatted.clear()

        def update(view, *, rebuilt: bool) -> float:
            if rebuilt:
                forget()
            scores, versions = plot.scores, [chart.version for chart in charts]
            start = time.perf_counter()
            screen.show(view)
            if plot.scores is not scores:
                plot.build(width, height)
            for chart, version in zip(charts, versions):
                if chart.version != version:
                    chart.build(*chart.size)
            return (time.perf_counter() - start) * 1000

        def table_update(view, *, rebuilt: bool) -> float:
            rows = list(view.rows)
            keep = np.ones(len(rows), bool)
            if rebuilt:
                forget()
            start = time.perf_counter()
            screen._table(rows, keep)
            return (time.perf_counter() - start) * 1000

        for i in range(repeat):
            start = time.perf_counter()
            plot.build(width, height)
            times["parallel"].append((time.perf_counter() - start) * 1000)
            for rebuilt in (False, True) if i % 2 == 0 else (True, False):
                name = "rebuilt" if rebuilt else "screen"
                for view, other in (views, views[::-1]):
                    screen.show(other)  # the state a poll before: the update below is a change
                    times[name].append(update(view, rebuilt=rebuilt))
                    screen.show(other)
                    times[f"{'rebuilt ' if rebuilt else ''}table"].append(table_update(view, rebuilt=rebuilt))
            await pilot.pause()
    return {name: statistics.median(values) for name, values in times.items()}


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
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--overhead-trials", type=int, default=30)
    parser.add_argument("--replay", metavar="NAME", help="replay pruners on a recorded unpruned sweep, and stop")
    args = parser.parse_args()
    if args.replay:
        replay(args.replay)
        return
    per_trial = overhead(args.overhead_trials)
    print(f"driver overhead per 3-epoch trial (Optuna + recording): {per_trial * 1000:.0f} ms")
    ms = asyncio.run(redraw(args.trials, args.repeat))
    print(
        f"{args.trials} trials at 120x40, a live update (the running trial's next epoch): "
        f"parallel coordinates {ms['parallel']:.1f} ms; trial table {ms['table']:.1f} ms in place "
        f"vs {ms['rebuilt table']:.1f} ms rebuilt; whole screen {ms['screen']:.1f} ms vs {ms['rebuilt']:.1f} ms "
        "with every part drawn afresh"
    )


if __name__ == "__main__":
    main()
