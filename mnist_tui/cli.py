"""Command line: parse and validate options, then run the app or headless mode.

Parsing never imports TensorFlow, so ``mnist-tui --help`` and every option error
answer at once.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from . import __version__
from .config import (
    ARCHITECTURES,
    BACKENDS,
    PRECISIONS,
    TYPED_OPTIONS,
    ConfigError,
    TrainConfig,
    check_int,
    check_save_path,
    parse_value,
)

DESCRIPTION = """\
Train a handwritten-digit classifier on MNIST and watch it learn, live, in your
terminal; then browse the 10,000 test images with the model's predictions, its
mistakes and a confusion matrix.

MNIST is looked for in --data (or $MNIST_TUI_DATA), then in Keras's cache
(~/.keras/datasets/mnist.npz), then in ~/.cache/mnist-tui; if it is nowhere, it is
downloaded there (about 11 MB, checksums verified).
"""

EPILOG = """\
keys while training:  s stop early (keeps the model)   q quit
keys in the results:  ←/→ browse  e mistakes  0-9 one digit  a all  o by confidence
                      g go to  m ASCII/half-block  c confusion matrix  ? help  q quit

every run is recorded in $MNIST_TUI_HOME (else $XDG_DATA_HOME/mnist-tui, else ~/.local/share/mnist-tui):
  mnist-tui runs [--csv | --json]           list the recorded runs
  mnist-tui runs show ID                    one run with its epochs
  mnist-tui runs rm ID... [--yes]           delete runs (their models and predictions too)
  mnist-tui labels --model M.keras [--top N] [--csv]   test images whose label the model doubts most

examples:
  mnist-tui --data ~/mnist                  train the reference model, offline
  mnist-tui --arch cnn --epochs 12          train the convolutional network
  mnist-tui --headless --save model.keras   train without the UI, save the model
  mnist-tui --model model.keras             browse a saved model's predictions
  mnist-tui --run 12                        browse recorded run 12's predictions
"""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, with no usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def checked(convert: Callable[[str], object], check: Callable[[object], object]) -> Callable[[str], object]:
    """An argparse type: convert the text, then validate it with a config check."""

    def parse(text: str) -> object:
        try:
            return parse_value(text, convert, check)
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def at_least(name: str, minimum: int) -> Callable[[str], object]:
    return checked(int, lambda v: check_int(name, v, minimum))


def existing_path(text: str) -> Path:
    path = Path(text).expanduser()
    if not path.exists():
        raise argparse.ArgumentTypeError(f"no such file or directory: {text}")
    return path


def existing_file(text: str) -> Path:
    path = existing_path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"not a file: {text}")
    return path


def save_path(text: str) -> Path:
    try:
        return check_save_path(Path(text).expanduser())
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> Parser:
    parser = Parser(
        prog="mnist-tui",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    defaults = TrainConfig()
    data = parser.add_argument_group("data")
    data.add_argument(
        "--data",
        metavar="PATH",
        type=existing_path,
        help="directory with the four MNIST IDX files (.gz or not), or a Keras mnist.npz (default: $MNIST_TUI_DATA, then the caches, then download)",
    )
    data.add_argument(
        "--train-limit",
        metavar="N",
        type=at_least("train limit", 1),
        help="train on only the first N training images (quick experiments)",
    )
    model = parser.add_argument_group("model and training")
    model.add_argument(
        "--arch",
        choices=ARCHITECTURES,
        default=defaults.arch,
        help="mlp: the reference dense network; cnn: a small convolutional network (default: %(default)s)",
    )
    model.add_argument(
        "--epochs",
        metavar="N",
        type=checked(*TYPED_OPTIONS["epochs"]),
        default=defaults.epochs,
        help="passes over the training set (default: %(default)s)",
    )
    model.add_argument(
        "--batch-size",
        metavar="N",
        type=checked(*TYPED_OPTIONS["batch_size"]),
        default=defaults.batch_size,
        help="images per weight update (default: %(default)s)",
    )
    model.add_argument(
        "--hidden-units",
        metavar="N",
        type=checked(*TYPED_OPTIONS["hidden_units"]),
        default=defaults.hidden_units,
        help="width of the mlp's hidden layer (default: %(default)s)",
    )
    model.add_argument(
        "--dropout",
        metavar="RATE",
        type=checked(*TYPED_OPTIONS["dropout"]),
        default=defaults.dropout,
        help="dropout rate, 0 <= RATE < 1 (default: %(default)s)",
    )
    model.add_argument(
        "--learning-rate",
        metavar="LR",
        type=checked(*TYPED_OPTIONS["learning_rate"]),
        default=defaults.learning_rate,
        help="Adam learning rate, > 0 (default: %(default)s)",
    )
    model.add_argument(
        "--seed", metavar="N", type=at_least("seed", 0), help="seed every random number generator, for repeatable runs"
    )
    model.add_argument(
        "--no-validation", action="store_true", help="skip scoring the test set after every epoch (faster)"
    )
    model.add_argument(
        "--precision",
        choices=PRECISIONS,
        default=defaults.precision,
        help="auto: bfloat16 for the cnn on CPUs with AMX or AVX512-BF16, float16 for the cnn on NVIDIA tensor cores, else float32; the output layer stays float32 (default: %(default)s)",
    )
    model.add_argument(
        "--backend",
        choices=BACKENDS,
        help="the Keras backend; auto: the fastest installed for --arch (default: $KERAS_BACKEND, else tensorflow)",
    )
    files = parser.add_argument_group("saved models")
    files.add_argument(
        "--save",
        metavar="PATH.keras",
        type=save_path,
        help="save the trained model there (and its history as PATH.history.json)",
    )
    opened = files.add_mutually_exclusive_group()
    opened.add_argument(
        "--model",
        metavar="PATH.keras",
        type=existing_file,
        help="skip training: open a saved model's predictions in the results browser",
    )
    opened.add_argument(
        "--run",
        metavar="ID",
        type=at_least("run id", 1),
        help="skip training: open a recorded run's results (with --headless: print its summary)",
    )
    run = parser.add_argument_group("running")
    run.add_argument(
        "--headless", action="store_true", help="no UI: print progress and metrics as plain text (for scripts and CI)"
    )
    run.add_argument(
        "--no-record", action="store_true", help="do not record this run in the run store (see mnist-tui runs)"
    )
    run.add_argument(
        "--log-file",
        metavar="PATH",
        type=Path,
        help="where TensorFlow's own messages go while the UI runs (default: ~/.cache/mnist-tui/mnist-tui.log)",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


@dataclass(frozen=True)
class Options:
    """Parsed command line: the training configuration plus how to run."""

    config: TrainConfig
    model: Path | None
    headless: bool
    log_file: Path | None
    record: bool = True
    """Record the run in the run store (``--no-record`` turns it off)."""
    run: int | None = None
    """Open this recorded run instead of training (``--run``)."""


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = TrainConfig(
            arch=args.arch,
            epochs=args.epochs,
            batch_size=args.batch_size,
            hidden_units=args.hidden_units,
            dropout=args.dropout,
            learning_rate=args.learning_rate,
            seed=args.seed,
            train_limit=args.train_limit,
            validate=not args.no_validation,
            precision=args.precision,
            backend=args.backend,
            data=args.data,
            save=args.save,
        )
    except ConfigError as exc:  # pragma: no cover - the argument types check first
        parser.error(str(exc))
    return Options(
        config=config,
        model=args.model,
        headless=args.headless,
        log_file=args.log_file,
        record=not args.no_record,
        run=args.run,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mnist-tui`` command; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["runs"]:
        return runs_main(argv[1:])
    if argv[:1] == ["labels"]:  # the suspicious-labels ranking (mnist_tui/labels.py)
        from .labels import main as labels_main

        return labels_main(argv[1:])
    options = parse_args(argv)
    if options.run is not None:
        if options.headless:
            return show_run(options.run)
        if (status := check_openable(options.run)) != 0:
            return status
    if options.headless:
        from .headless import run_headless

        return run_headless(options.config, model_path=options.model, log_file=options.log_file, record=options.record)
    if not (sys.stdout.isatty() and sys.stdin.isatty()):
        print("mnist-tui: not running in a terminal; use --headless for plain-text output", file=sys.stderr)
        return 2
    from .launch import run_app

    return run_app(options)


# ---------------------------------------------------------------------- mnist-tui runs


def build_runs_parser() -> Parser:
    parser = Parser(prog="mnist-tui runs", description="The runs recorded in the run store ($MNIST_TUI_HOME).")
    output = parser.add_mutually_exclusive_group()
    output.add_argument(
        "--csv", action="store_true", help="every run as a CSV row: configuration, final and best metrics"
    )
    output.add_argument("--json", action="store_true", help="every run as a JSON object, in one JSON array")
    commands = parser.add_subparsers(dest="command", metavar="{show,rm}")
    show = commands.add_parser("show", help="one run with its epoch table")
    show.add_argument("id", type=at_least("run id", 1))
    remove = commands.add_parser("rm", help="delete runs: their rows, models and predictions")
    remove.add_argument("ids", metavar="ID", nargs="+", type=at_least("run id", 1))
    remove.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    return parser


def fail(message: str, status: int = 1) -> int:
    print(f"mnist-tui: error: {message}", file=sys.stderr)
    return status


def open_run_store():
    """The default run store, or ``None`` after saying on stderr why it cannot be opened."""
    from .runs import StoreError, open_store

    try:
        store = open_store()
    except StoreError as exc:
        fail(str(exc))
        return None
    for notice in store.notices:
        print(f"mnist-tui: {notice}", file=sys.stderr)
    return store


def print_out(*renderables: object) -> None:
    """Rich on a terminal; plain, colourless text without trailing blanks into a pipe or a file."""
    from rich.console import Console

    if sys.stdout.isatty():
        Console(highlight=False).print(*renderables)
        return
    console = Console(highlight=False, no_color=True, width=400, force_terminal=False)
    with console.capture() as captured:
        console.print(*renderables)
    sys.stdout.write("".join(line.rstrip() + "\n" for line in captured.get().splitlines()))


def runs_main(argv: Sequence[str]) -> int:
    """``mnist-tui runs ...``: list, show or delete recorded runs. Never imports TensorFlow."""
    args = build_runs_parser().parse_args(argv)
    store = open_run_store()
    if store is None:
        return 1
    from .runs import StoreError

    try:
        if args.command == "show":
            return show_run(args.id, store)
        if args.command == "rm":
            return remove_runs(store, args.ids, args.yes)
        runs = store.list_runs()
        if args.csv or args.json:
            write_records([run.to_record() for run in runs], as_json=args.json)
        else:
            print_runs_table(runs)
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

    from .runs.model import Run

    names = list(records[0]) if records else Run.record_fields()
    writer = csv.DictWriter(sys.stdout, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: "" if v is None else v for k, v in record.items()} for record in records)


RUN_COLUMNS = ("ID", "Name", "When", "Arch", "Options", "Epochs", "Best val", "Test", "Time", "Status", "Size")
RIGHT = {"ID", "Epochs", "Best val", "Test", "Time", "Size"}


def print_runs_table(runs: list) -> None:
    """The runs as a table: Rich on a terminal, aligned plain text (quick for any number of runs) elsewhere."""
    import time

    from .runs import format as fmt

    if not runs:
        print("No runs recorded yet: every training run is recorded once it starts.")
        return
    now = time.time()
    rows = [
        (
            str(run.id),
            run.name,
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

    from .runs import StoreError
    from .runs import format as fmt

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
    from .runs import StoreError

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
