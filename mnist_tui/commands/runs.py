"""``mnist-tui runs``: list, show and delete recorded runs; and the checks ``--run ID`` needs. Never imports TensorFlow."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from . import Parser, at_least, fail, print_out


def build_runs_parser() -> Parser:
    parser = Parser(prog="mnist-tui runs", description="The runs recorded in the run store ($MNIST_TUI_HOME).")
    output = parser.add_mutually_exclusive_group()
    output.add_argument(
        "--csv", action="store_true", help="every run as a CSV row: configuration, final and best metrics"
    )
    output.add_argument("--json", action="store_true", help="every run as a JSON object, in one JSON array")
    parser.add_argument(
        "--all",
        action="store_true",
        help="the table lists runs that never trained too (ended before their first epoch); --csv and --json always do",
    )
    commands = parser.add_subparsers(dest="command", metavar="{show,rm}")
    show = commands.add_parser("show", help="one run with its epoch table")
    show.add_argument("id", type=at_least("run id", 1))
    remove = commands.add_parser("rm", help="delete runs: their rows, models and predictions")
    remove.add_argument("ids", metavar="ID", nargs="+", type=at_least("run id", 1))
    remove.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    return parser


def open_run_store():
    """The default run store, or ``None`` after saying on stderr why it cannot be opened."""
    from ..runs import StoreError, open_store

    try:
        store = open_store()
    except StoreError as exc:
        fail(str(exc))
        return None
    for notice in store.notices:
        print(f"mnist-tui: {notice}", file=sys.stderr)
    return store


def runs_main(argv: Sequence[str]) -> int:
    """``mnist-tui runs ...``: list, show or delete recorded runs. Never imports TensorFlow."""
    args = build_runs_parser().parse_args(argv)
    store = open_run_store()
    if store is None:
        return 1
    from ..runs import StoreError

    try:
        if args.command == "show":
            return show_run(args.id, store)
        if args.command == "rm":
            return remove_runs(store, args.ids, args.yes)
        runs = store.list_runs()
        if args.csv or args.json:
            write_records([run.to_record() for run in runs], as_json=args.json)
        else:
            shown = runs if args.all else [run for run in runs if not run.never_trained]
            if shown or not runs:
                print_runs_table(shown)
            if hidden := len(runs) - len(shown):
                noun = "run that never trained is" if hidden == 1 else "runs that never trained are"
                print(f"({hidden} {noun} not listed: mnist-tui runs --all lists them)")
        return 0
    except StoreError as exc:
        return fail(str(exc))
    except BrokenPipeError:  # `mnist-tui runs | head`
        sys.stderr.close()
        return 0


def write_records(records: list[dict], *, as_json: bool) -> None:
    if as_json:
        import json

        json.dump(records, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    import csv

    from ..runs.model import Run

    names = list(records[0]) if records else Run.record_fields()
    writer = csv.DictWriter(sys.stdout, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: "" if v is None else v for k, v in record.items()} for record in records)


RUN_COLUMNS = ("ID", "Name", "When", "Arch", "Options", "Epochs", "Best val", "Test", "Time", "Status", "Size")
RIGHT = {"ID", "Epochs", "Best val", "Test", "Time", "Size"}


def print_runs_table(runs: list) -> None:
    """The runs as a table: Rich on a terminal, aligned plain text (quick for any number of runs) elsewhere."""
    import time

    from ..runs import format as fmt

    if not runs:
        print("No runs recorded yet: every training run is recorded once it starts.")
        return
    now = time.time()
    rows = [
        (
            str(run.id),
            fmt.label(run),
            fmt.when(run.started_at, now),
            run.arch,
            fmt.options(run),
            fmt.epochs(run),
            fmt.best(run),
            fmt.percent(run.test_accuracy),
            fmt.duration(run.elapsed),
            fmt.status(run),
            fmt.size(run.size_bytes),
        )
        for run in runs
    ]
    if not sys.stdout.isatty():
        widths = [max(len(cell) for cell in column) for column in zip(RUN_COLUMNS, *rows)]
        for row in (RUN_COLUMNS, *rows):
            cells = [c.rjust(w) if name in RIGHT else c.ljust(w) for name, c, w in zip(RUN_COLUMNS, row, widths)]
            print("  ".join(cells).rstrip())
        return
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(highlight=False)
    # a narrow terminal keeps the columns that tell runs apart; `runs show ID` has the rest
    keep = [i for i, name in enumerate(RUN_COLUMNS) if console.width >= 110 or name not in ("Arch", "Time", "Size")]
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False, collapse_padding=True)
    for i in keep:
        name = RUN_COLUMNS[i]
        wraps = name == "Options"
        table.add_column(
            name, justify="right" if name in RIGHT else "left", no_wrap=not wraps, min_width=12 if wraps else None
        )
    for row in rows:
        table.add_row(*(Text(row[i]) for i in keep))
    console.print(table)


def show_run(run_id: int, store=None) -> int:
    """``mnist-tui runs show ID`` (and ``--headless --run ID``): one run, its epoch table."""
    import time

    from rich.table import Table

    from ..runs import StoreError
    from ..runs import format as fmt

    store = store or open_run_store()
    if store is None:
        return 1
    try:
        run = store.get_run(run_id)
    except StoreError as exc:
        return fail(str(exc))
    info = Table.grid(padding=(0, 2))
    info.add_column(style="bold")
    info.add_column()
    c = run.config
    model = "model missing" if run.model_missing else (str(run.model_path) if run.has_model else "none")
    rows = [
        ("Run", f"{run.id} · {run.name} · {fmt.status(run)}"),
        ("Started", f"{fmt.stamp(run.started_at)} ({fmt.when(run.started_at, time.time())})"),
        ("Ended", fmt.stamp(run.ended_at)),
        *[("Resumed", ", ".join(fmt.stamp(t) for t in run.resumed_at))] * bool(run.resumed_at),
        *[("Trained from", f"run {run.parent_id} (its weights and optimizer state)")] * (run.parent_id is not None),
        (
            "Configuration",
            " ".join(f"{k}={'–' if v is None else v}" for k, v in c.items() if k not in ("data", "save")),
        ),
        ("Options", fmt.options(run) or "the defaults"),
        ("Model", f"{run.params:,} parameters · {model}" if run.params else model),
        (
            "Data",
            f"{run.train_size or 0:,} training, {run.test_size or 0:,} test images · {run.data_fingerprint or '–'}",
        ),
        (
            "Test",
            f"accuracy {fmt.percent(run.test_accuracy)} · loss {fmt.number(run.test_loss)} · {run.mistakes if run.mistakes is not None else '–'} mistakes",
        ),
        ("Best", fmt.best(run)),
        ("Time", fmt.duration(run.elapsed)),
        ("Versions", " · ".join(f"{k} {v}" for k, v in run.versions.items() if v)),
        ("Recorded by", f"{run.host} (pid {run.pid})"),
        ("Folder", f"{run.folder} ({fmt.size(run.size_bytes)})"),
    ]
    if run.message:
        rows.append(("Message", run.message))
    for key, value in rows:
        info.add_row(key, value)
    parts: list[object] = [info]
    if run.epochs:
        best = run.best
        epochs = Table(box=None, header_style="bold", pad_edge=False, title_justify="left")
        for name in ("Epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds", ""):
            epochs.add_column(name, justify="right")
        for e in run.epochs:
            epochs.add_row(
                str(e.epoch),
                fmt.number(e.loss),
                fmt.number(e.accuracy),
                fmt.number(e.val_loss),
                fmt.number(e.val_accuracy),
                fmt.number(e.seconds, 1),
                "best" if best is not None and e.epoch == best.epoch else "",
            )
        parts += ["", epochs]
    print_out(*parts)
    return 0


def remove_runs(store, ids: list[int], yes: bool) -> int:
    """``mnist-tui runs rm``: every id checked first, then one confirmation, then the deletions."""
    runs = [store.get_run(run_id) for run_id in dict.fromkeys(ids)]
    if not yes:
        if not sys.stdin.isatty():
            return fail("not deleting without a terminal to confirm in; pass --yes", 2)
        listed = ", ".join(f"run {run.id} ({run.name}, {run.status})" for run in runs)
        try:
            answer = input(f"Delete {listed}, with their models? [y/N] ")
        except EOFError:
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing deleted.")
            return 1
    for run in runs:
        store.delete(run.id)
        print(f"Deleted run {run.id} ({run.name}).")
    return 0


def check_openable(run_id: int) -> int:
    """Before the app opens ``--run ID``: 0 when the run has predictions to browse, else say why and return 1."""
    store = open_run_store()
    if store is None:
        return 1
    from ..runs import StoreError

    try:
        run = store.get_run(run_id)
    except StoreError as exc:
        return fail(str(exc))
    finally:
        store.close()
    if not run.has_predictions:
        detail = f": {run.message}" if run.message else ""
        return fail(f"run {run_id} has no test predictions to open (it {run.status}{detail})")
    return 0
