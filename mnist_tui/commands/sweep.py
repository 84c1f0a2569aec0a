"""``mnist-tui sweep``: search the training options with Optuna; ``mnist-tui sweeps``: list and export them.

Parsing never imports TensorFlow. A sweep's trials train in this process (the Keras trainer,
one trial after another); ``--workers K`` starts K-1 more processes that ``--join`` the
same study.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..config import DEFAULTS, ConfigError, TrainConfig, cli_options
from . import Parser, at_least, fail
from .train import add_option

EXAMPLES = """\
examples:
  mnist-tui sweep --trials 20 --epochs 3 --name lr-search
  mnist-tui sweep --space "lr=1e-4..1e-2:log hidden=32..512:log dropout=0..0.5 batch=32,64,128" --trials 30
  mnist-tui sweep --join lr-search          another worker on the same sweep (another terminal)
  mnist-tui sweep --resume lr-search        go on with a stopped sweep
  mnist-tui sweep --storage postgresql://user@host/db --name shared   workers on several machines
  mnist-tui sweeps                          list the sweeps;  mnist-tui sweeps NAME --csv  its trials

space: name=lo..hi (add :log for a log scale) or name=a,b,c; names: lr, hidden, dropout, batch,
epochs, arch. An option given on the command line (--epochs 3) fixes it for every trial.
"""


def workers_count(text: str) -> str | int:
    if text == "auto":
        return text
    return int(at_least("workers", 1)(text))  # type: ignore[call-overload]


def build_sweep_parser() -> Parser:
    parser = Parser(
        prog="mnist-tui sweep",
        description="Search the training options with Optuna (TPE, pruned on each epoch's validation accuracy); "
        "every trial is a recorded run.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sweep = parser.add_argument_group("sweep")
    which = sweep.add_mutually_exclusive_group()
    which.add_argument("--name", help="the sweep's name (default: sweep-DATE-TIME)")
    which.add_argument("--join", metavar="NAME", help="work on a running sweep as one more worker")
    which.add_argument("--resume", metavar="NAME", help="go on with a stopped sweep up to its number of trials")
    sweep.add_argument("--space", help="what to search (default: the architecture's space; see below)")
    sweep.add_argument(
        "--trials", type=at_least("trials", 1), help="trials in all (default: 20, or none with --timeout)"
    )
    sweep.add_argument(
        "--timeout", type=at_least("timeout", 1), metavar="S", help="stop starting trials after S seconds"
    )
    sweep.add_argument(
        "--prune", choices=("median", "hyperband", "none"), default="median", help="pruner (default: %(default)s)"
    )
    sweep.add_argument(
        "--repeat", type=at_least("repeat", 1), default=1, metavar="K", help="train each trial K times over seeds"
    )
    sweep.add_argument(
        "--workers", type=workers_count, default=1, metavar="K|auto", help="trial processes on this machine"
    )
    sweep.add_argument(
        "--storage", metavar="URL", help="where the study lives (default: a journal file in the run store)"
    )
    sweep.add_argument("--headless", action="store_true", help="print a table row as each trial ends (no UI)")
    sweep.add_argument("--worker-index", type=int, default=0, help=argparse.SUPPRESS)
    groups: dict[str, argparse._ArgumentGroup] = {}
    for option in cli_options():
        if option.name != "save":
            group = groups.get(option.group) or groups.setdefault(
                option.group, parser.add_argument_group(f"{option.group} (fixed for every trial)")
            )
            add_option(group, option)
    for action in parser._actions:
        if action.dest in {option.name for option in cli_options()}:
            action.help = (action.help or "").replace("%(default)s", str(action.default))
            action.default = argparse.SUPPRESS  # given or not: only what is given fixes an option
    return parser


@dataclass(frozen=True)
class SweepArgs:
    name: str
    join: bool
    space: str | None
    fixed: dict[str, Any]
    trials: int | None
    timeout: float | None
    prune: str
    repeat: int
    workers: int
    storage: str | None
    worker_index: int


AUTO_WORKERS = {"mlp": 1, "cnn": 1}
"""``--workers auto``, measured (benchmarks/README.md, Sweeps): on the shared 2-core machine one worker
ran 8 MLP trials in 49 s and two workers in 64 s (the second process's TensorFlow start and the
other processes' load ate the second core); the CNN uses both cores in one process already."""


def auto_workers(arch: str) -> int:
    """``--workers auto``: the faster of the measured choices for ``arch`` (:data:`AUTO_WORKERS`)."""
    return AUTO_WORKERS.get(arch, 1)


def parse_sweep_args(argv: Sequence[str]) -> SweepArgs:
    parser = build_sweep_parser()
    args = parser.parse_args(argv)
    fixed = {option.name: getattr(args, option.name) for option in cli_options() if hasattr(args, option.name)}
    join = args.join or args.resume
    if join and (args.space or fixed):
        parser.error("--join and --resume take the sweep's own space and options; give only the name")
    trials = args.trials if args.trials is not None or args.timeout is not None or join else 20
    from ..sweeps.launch import default_name

    name = join or args.name or default_name()
    workers = args.workers
    if workers == "auto":
        workers = auto_workers(fixed.get("arch", DEFAULTS.arch))
    return SweepArgs(
        name=name,
        join=bool(join),
        space=args.space,
        fixed=fixed,
        trials=trials,
        timeout=args.timeout,
        prune=args.prune,
        repeat=args.repeat,
        workers=int(workers),
        storage=args.storage,
        worker_index=args.worker_index,
    )


def sweep_main(argv: Sequence[str]) -> int:
    """``mnist-tui sweep ...``; returns the exit status."""
    args = parse_sweep_args(argv)
    from ..runs import StoreError
    from ..sweeps.space import SpaceError, default_space, parse_space
    from ..sweeps.study import SweepError, SweepSpec, check_name, create_study, load_study, open_storage
    from .runs import open_run_store

    store = open_run_store()
    if store is None:
        return 1
    from ..runs.trials import add_sweep, sweep_storage
    from ..sweeps.study import journal_path, redact

    try:
        check_name(args.name)
        if args.join:
            storage = args.storage or sweep_storage(store, args.name)
            if storage is None:
                return fail(f"there is no sweep {args.name!r} in this run store (mnist-tui sweeps lists them)")
            study, spec = load_study(args.name, open_storage(storage), worker=args.worker_index)
            add_sweep(store, args.name, storage)
        else:
            if sweep_storage(store, args.name) is not None:
                return fail(f"a sweep named {args.name!r} exists (--resume {args.name} goes on with it)")
            base = TrainConfig(**{k: v for k, v in args.fixed.items()})
            space = parse_space(args.space) if args.space else default_space(base.arch)
            space = tuple(p for p in space if p.name not in args.fixed)  # the command line fixes these
            if not space:
                return fail("every option of the search space is fixed on the command line: nothing to search")
            storage = args.storage or str(journal_path(store.home, args.name))
            spec = SweepSpec(args.name, space, base, base.seed, args.prune, args.trials, args.timeout, args.repeat)
            study = create_study(spec, open_storage(storage))
            add_sweep(store, args.name, storage)
    except (SpaceError, SweepError, ConfigError, StoreError) as exc:
        return fail(str(exc))
    if args.timeout is not None and args.join:
        spec = replace(spec, timeout=args.timeout)
    children = start_workers(args, storage) if args.workers > 1 and args.worker_index == 0 else []
    if args.worker_index == 0:
        where = redact(storage)
        print(f"Sweep {args.name}: {describe(spec)} · study in {where}", flush=True)
    return run_worker(study, spec, store, children, header=args.worker_index == 0, workers=args.workers)


def describe(spec) -> str:
    from ..sweeps.space import space_text

    budget = [f"{spec.trials} trials" if spec.trials else "", f"{spec.timeout:g} s" if spec.timeout else ""]
    return f"{space_text(spec.space)} · {' / '.join(b for b in budget if b) or 'until stopped'} · prune {spec.prune}"


def start_workers(args: SweepArgs, storage: str) -> list[subprocess.Popen]:
    """K-1 more processes on the same study, one TensorFlow thread each (they share the cores)."""
    env = {**os.environ, "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}
    os.environ.update({"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"})
    from ..sweeps.launch import sweep_command

    command = sweep_command("--join", args.name, "--storage", storage)
    return [
        subprocess.Popen([*command, "--worker-index", str(i)], env=env, stdin=subprocess.DEVNULL)
        for i in range(1, args.workers)
    ]


def keras_trainers(spec):
    """In-process Keras trainers sharing one load of the data; Keras's state is cleared between trials."""
    from ..data import load_mnist
    from ..training import KerasTrainer

    data = load_mnist(spec.base.data)

    class Trainer:
        def __init__(self, config: TrainConfig) -> None:
            self.inner = KerasTrainer(config, data=data)

        def run(self, sink, control) -> None:
            try:
                self.inner.run(sink, control)
            finally:
                self.inner.model = None
                if "keras" in sys.modules:  # each trial builds a new model: drop the last one's graph
                    sys.modules["keras"].backend.clear_session()

    return Trainer


def run_worker(study, spec, store, children, *, header: bool, workers: int) -> int:
    from ..data import DataError
    from ..headless import line_console
    from ..sweeps.driver import Progress, SweepDriver
    from ..sweeps.table import rows_of
    from ..terminal import stderr_to_log

    console = line_console()
    printer = RowPrinter(console, spec.space, header=header)
    try:
        trainers = keras_trainers(spec)
    except DataError as exc:
        stop_children(children)
        return fail(str(exc))
    try:
        with stderr_to_log(None) as (terminal, _log):  # TensorFlow's C++ logging goes to the log, not the table

            def notice(text: str) -> None:
                print(f"mnist-tui: {text}", file=terminal, flush=True)

            driver = SweepDriver(study, spec, store, trainers, Progress(on_trial_end=printer.row, on_notice=notice))
            driver.run()
    except KeyboardInterrupt:
        stop_children(children)
        print(f"mnist-tui: sweep interrupted; mnist-tui sweep --resume {spec.name} goes on with it", file=sys.stderr)
        return 130
    for child in children:
        child.wait()
    if header:
        print_summary(console, rows_of(study.trials), spec, driver.trained_epochs, workers)
    return 0


def stop_children(children: list[subprocess.Popen]) -> None:
    for child in children:
        child.terminate()
    for child in children:
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()


class RowPrinter:
    """A table printed a row at a time as trials end: fixed column widths, so the rows line up."""

    def __init__(self, console, space, *, header: bool = True) -> None:
        self.console = console
        self.space = space
        self.columns = ["trial", "state", *[p.column for p in space], "epochs", "accuracy", "best", "time", "run"]
        self.widths = [5, 8, *[max(7, len(p.column)) for p in space], 6, 8, 8, 7, 5]
        self.best: float | None = None
        if header:
            self.console.print(self._line(self.columns), style="bold", highlight=False)

    def _line(self, cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i != 1 else c.ljust(w) for i, (c, w) in enumerate(zip(cells, self.widths)))

    def row(self, row) -> None:
        from ..runs.format import duration
        from ..sweeps.table import format_param

        if row.value is not None:
            self.best = row.value if self.best is None else max(self.best, row.value)
        value = "–" if row.value is None else f"{row.value:.2%}"
        if row.spread is not None and row.value is not None:
            value = f"{row.value:.2%}±{row.spread:.2%}"
        cells = [
            str(row.number),
            row.state,
            *[format_param(p.name, row.params[p.name]) if p.name in row.params else "–" for p in self.space],
            str(len(row.curve)),
            value,
            "–" if self.best is None else f"{self.best:.2%}",
            "–" if row.seconds is None else duration(row.seconds),
            "–" if row.run_id is None else str(row.run_id),
        ]
        style = {"complete": "", "pruned": "dim", "failed": "red"}.get(row.state, "")
        self.console.print(self._line(cells), style=style or None, highlight=False, markup=False)
        if row.state == "failed" and row.note:
            self.console.print(f"       {row.note}", style="red", highlight=False, markup=False)


def print_summary(console, rows, spec, epochs: int, workers: int) -> None:
    from ..sweeps.table import best_rows, format_param

    states = {s: sum(r.state == s for r in rows) for s in ("complete", "pruned", "failed")}
    console.print(
        f"{len(rows)} trials: {states['complete']} complete, {states['pruned']} pruned, {states['failed']} failed"
        + (f" · {epochs} epochs trained here" if workers == 1 else ""),
        highlight=False,
    )
    best = best_rows(rows, 1)
    if best:
        b = best[0]
        params = " ".join(
            f"{p.column}={format_param(p.name, b.params[p.name])}" for p in spec.space if p.name in b.params
        )
        run = f" · run {b.run_id} (mnist-tui --run {b.run_id})" if b.run_id is not None else ""
        console.print(f"Best: trial {b.number}, {b.value:.2%} with {params}{run}", highlight=False, markup=False)


# ---------------------------------------------------------------------- mnist-tui sweeps


def build_sweeps_parser() -> Parser:
    parser = Parser(prog="mnist-tui sweeps", description="The sweeps recorded in the run store, or one sweep's trials.")
    parser.add_argument("name", nargs="?", help="one sweep: its trials")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--csv", action="store_true", help="the sweep's trials as CSV rows")
    output.add_argument("--json", action="store_true", help="the sweep's trials as one JSON array")
    return parser


def sweeps_main(argv: Sequence[str]) -> int:
    """``mnist-tui sweeps [NAME] [--csv | --json]``."""
    args = build_sweeps_parser().parse_args(argv)
    from ..runs import StoreError
    from ..runs.trials import list_sweeps, sweep_storage
    from ..sweeps.study import SweepError, load_study, open_storage, redact
    from ..sweeps.table import record, rows_of
    from .runs import open_run_store, write_records

    store = open_run_store()
    if store is None:
        return 1
    try:
        if args.name is None:
            if args.csv or args.json:
                return fail("--csv and --json export one sweep's trials: mnist-tui sweeps NAME --csv", 2)
            sweeps = list_sweeps(store)
            if not sweeps:
                print("No sweeps yet: mnist-tui sweep --trials 20 starts one.")
                return 0
            from rich.table import Table

            from .runs import print_out

            table = Table(box=None, header_style="bold", pad_edge=False)
            for column in ("Name", "Started", "Trials", "Best", "Storage"):
                table.add_column(column, justify="right" if column in ("Trials", "Best") else "left")
            for sweep in sweeps:
                table.add_row(
                    sweep.name,
                    time.strftime("%Y-%m-%d %H:%M", time.localtime(sweep.created_at)),
                    str(sweep.trials),
                    "–" if sweep.best is None else f"{sweep.best:.2%}",
                    redact(sweep.storage),
                )
            print_out(table)
            return 0
        storage = sweep_storage(store, args.name)
        if storage is None:
            return fail(f"there is no sweep {args.name!r} (mnist-tui sweeps lists them)")
        study, spec = load_study(args.name, open_storage(storage))
        rows = rows_of(study.get_trials(deepcopy=False))
        if args.csv or args.json:
            write_records([record(row, spec.space) for row in rows], as_json=args.json)
            return 0
        from ..headless import line_console

        console = line_console()
        console.print(f"Sweep {spec.name}: {describe(spec)}", highlight=False, markup=False)
        printer = RowPrinter(console, spec.space)
        for row in rows:
            printer.row(row)
        print_summary(console, rows, spec, sum(len(r.curve) for r in rows), 1)
        return 0
    except (StoreError, SweepError) as exc:
        return fail(str(exc))
    except BrokenPipeError:
        sys.stderr.close()
        return 0
