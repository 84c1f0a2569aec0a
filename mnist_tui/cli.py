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
from .config import ARCHITECTURES, TYPED_OPTIONS, ConfigError, TrainConfig, check_int, check_save_path, parse_value

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

examples:
  mnist-tui --data ~/mnist                  train the reference model, offline
  mnist-tui --arch cnn --epochs 12          train the convolutional network
  mnist-tui --headless --save model.keras   train without the UI, save the model
  mnist-tui --model model.keras             browse a saved model's predictions
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
        "--data", metavar="PATH", type=existing_path,
        help="directory with the four MNIST IDX files (.gz or not), or a Keras mnist.npz (default: $MNIST_TUI_DATA, then the caches, then download)",
    )  # fmt: skip
    data.add_argument(
        "--train-limit", metavar="N", type=at_least("train limit", 1),
        help="train on only the first N training images (quick experiments)",
    )  # fmt: skip
    model = parser.add_argument_group("model and training")
    model.add_argument("--arch", choices=ARCHITECTURES, default=defaults.arch, help="mlp: the reference dense network; cnn: a small convolutional network (default: %(default)s)")
    model.add_argument("--epochs", metavar="N", type=checked(*TYPED_OPTIONS["epochs"]), default=defaults.epochs, help="passes over the training set (default: %(default)s)")
    model.add_argument("--batch-size", metavar="N", type=checked(*TYPED_OPTIONS["batch_size"]), default=defaults.batch_size, help="images per weight update (default: %(default)s)")
    model.add_argument("--hidden-units", metavar="N", type=checked(*TYPED_OPTIONS["hidden_units"]), default=defaults.hidden_units, help="width of the mlp's hidden layer (default: %(default)s)")
    model.add_argument("--dropout", metavar="RATE", type=checked(*TYPED_OPTIONS["dropout"]), default=defaults.dropout, help="dropout rate, 0 <= RATE < 1 (default: %(default)s)")
    model.add_argument("--learning-rate", metavar="LR", type=checked(*TYPED_OPTIONS["learning_rate"]), default=defaults.learning_rate, help="Adam learning rate, > 0 (default: %(default)s)")
    model.add_argument("--seed", metavar="N", type=at_least("seed", 0), help="seed every random number generator, for repeatable runs")
    model.add_argument("--no-validation", action="store_true", help="skip scoring the test set after every epoch (faster)")
    files = parser.add_argument_group("saved models")
    files.add_argument("--save", metavar="PATH.keras", type=save_path, help="save the trained model there (and its history as PATH.history.json)")
    files.add_argument("--model", metavar="PATH.keras", type=existing_file, help="skip training: open a saved model's predictions in the results browser")
    run = parser.add_argument_group("running")
    run.add_argument("--headless", action="store_true", help="no UI: print progress and metrics as plain text (for scripts and CI)")
    run.add_argument("--log-file", metavar="PATH", type=Path, help="where TensorFlow's own messages go while the UI runs (default: ~/.cache/mnist-tui/mnist-tui.log)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


@dataclass(frozen=True)
class Options:
    """Parsed command line: the training configuration plus how to run."""

    config: TrainConfig
    model: Path | None
    headless: bool
    log_file: Path | None


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
            data=args.data,
            save=args.save,
        )
    except ConfigError as exc:  # pragma: no cover - the argument types check first
        parser.error(str(exc))
    return Options(config=config, model=args.model, headless=args.headless, log_file=args.log_file)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mnist-tui`` command; returns the exit status."""
    options = parse_args(argv)
    if options.headless:
        from .headless import run_headless

        return run_headless(options.config, model_path=options.model, log_file=options.log_file)
    if not (sys.stdout.isatty() and sys.stdin.isatty()):
        print("mnist-tui: not running in a terminal; use --headless for plain-text output", file=sys.stderr)
        return 2
    from .launch import run_app

    return run_app(options)
