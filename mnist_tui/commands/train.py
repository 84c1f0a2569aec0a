"""``mnist-tui [options]``: the main parser, built from the options table, and what it parses to."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .. import __version__, keys
from ..config import DEFAULTS, ConfigError, Option, TrainConfig, cli_options, existing_path
from ..files import keras_file_problem
from . import Parser, argument, at_least

DESCRIPTION = """\
Train a handwritten-digit classifier on MNIST and watch it learn, live, in your
terminal; then browse the 10,000 test images with the model's predictions, its
mistakes and a confusion matrix.

MNIST is looked for in --data (or $MNIST_TUI_DATA), then in Keras's cache
(~/.keras/datasets/mnist.npz), then in ~/.cache/mnist-tui; if it is nowhere, it is
downloaded there (about 11 MB, checksums verified).
"""

EPILOG = (
    keys.epilog()
    + """

every run is recorded in $MNIST_TUI_HOME (else $XDG_DATA_HOME/mnist-tui, else ~/.local/share/mnist-tui):
  mnist-tui runs [--csv | --json]           list the recorded runs
  mnist-tui runs show ID                    one run with its epochs
  mnist-tui runs rm ID... [--yes]           delete runs (their models and predictions too)
  mnist-tui labels --model M.keras [--top N] [--csv]   test images whose label the model doubts most
  mnist-tui sweep [--space S] [--trials N] ...   search the options with Optuna (mnist-tui sweep --help)
  mnist-tui sweeps [NAME] [--csv | --json]  list the sweeps, or one sweep's trials

examples:
  mnist-tui --data ~/mnist                  train the reference model, offline
  mnist-tui --arch cnn --epochs 12          train the convolutional network
  mnist-tui --headless --save model.keras   train without the UI, save the model
  mnist-tui --model model.keras             browse a saved model's predictions
  mnist-tui --run 12                        browse recorded run 12's predictions
  mnist-tui --headless --resume 12          go on with interrupted run 12 from its last checkpoint
  mnist-tui --continue 12 --epochs 5        train finished run 12 five more epochs, as a new run
"""
)
"""The end of ``mnist-tui --help``: the keys (from the keys table), the subcommands and examples."""


def existing_file(text: str) -> Path:
    try:
        path = existing_path(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"not a file: {text}")
    return path


def add_option(group: argparse._ArgumentGroup, option: Option) -> None:
    """One table entry as a flag: a choice, a switch (``--no-validation`` for one on by default), or typed text."""
    default = getattr(DEFAULTS, option.name)
    if isinstance(default, bool):
        group.add_argument(
            option.cli_flag, dest=option.name, action="store_false" if default else "store_true", help=option.help
        )
    elif option.choices:
        group.add_argument(option.cli_flag, dest=option.name, choices=option.choices, default=default, help=option.help)
    else:
        group.add_argument(
            option.cli_flag,
            dest=option.name,
            metavar=option.metavar,
            type=argument(option.read),
            default=default,
            help=option.help,
        )


def build_parser() -> Parser:
    parser = Parser(
        prog="mnist-tui",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # the options table's entries, a group at a time (the usage line lists them in this order)
    groups = {}
    for name in dict.fromkeys(option.group for option in cli_options()):
        groups[name] = parser.add_argument_group(name)
        for option in cli_options():
            if option.group == name:
                add_option(groups[name], option)
    files = groups.get("saved models") or parser.add_argument_group("saved models")
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
    opened.add_argument(
        "--resume",
        metavar="ID",
        type=at_least("run id", 1),
        help="go on with interrupted run ID from its last checkpoint (the same run, its options as recorded)",
    )
    opened.add_argument(
        "--continue",
        dest="further",
        metavar="ID",
        type=at_least("run id", 1),
        help="train finished run ID --epochs more epochs from its weights and optimizer state, as a new run",
    )
    files.add_argument(
        "--overwrite",
        action="store_true",
        help="let --save replace a file that exists (without it, an existing file is refused before training)",
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
    overwrite: bool = False
    """``--save`` may replace an existing file (``--overwrite``); without it parsing refuses one."""
    resume: int | None = None
    """Resume this interrupted run from its last checkpoint (``--resume``)."""
    further: int | None = None
    """Train this finished run ``config.epochs`` more epochs as a new run (``--continue``)."""
    backend: str | None = None
    """``--backend`` as given (``None`` when not given): a resumed run keeps its own otherwise."""


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = TrainConfig(**{option.name: getattr(args, option.name) for option in cli_options()})
    except ConfigError as exc:  # pragma: no cover - the argument types check first
        parser.error(str(exc))
    if args.model is not None and (problem := keras_file_problem(args.model)):
        parser.error(problem)  # before TensorFlow loads: a wrong file is refused at once
    if config.save is not None and config.save.exists() and not args.overwrite:
        # checked before anything trains: a user's file is never replaced without being asked
        parser.error(f"{config.save} exists; add --overwrite to replace it, or choose another --save path")
    if (args.resume or args.further) and args.no_record:
        parser.error("--resume and --continue go on with a recorded run; they cannot be used with --no-record")
    return Options(
        resume=args.resume,
        further=args.further,
        backend=args.backend,
        config=config,
        model=args.model,
        headless=args.headless,
        log_file=args.log_file,
        record=not args.no_record,
        run=args.run,
        overwrite=args.overwrite,
    )
