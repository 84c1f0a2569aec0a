"""The command line's pieces: the main parser (:mod:`.train`) and the ``runs`` and ``labels`` subcommands.

Shared here: the parser whose errors are one line, the argparse types built on the options
table's parsers, and the helpers that print. Nothing here imports TensorFlow, so ``--help``
and every option error answer at once.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import NoReturn

from ..config import ConfigError, check_int, whole_number


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, with no usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def argument(read: Callable[[str], object]) -> Callable[[str], object]:
    """An argparse type from a reader that raises :class:`ConfigError` (an options-table entry's ``read``)."""

    def parse(text: str) -> object:
        try:
            return read(text)
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def at_least(name: str, minimum: int) -> Callable[[str], object]:
    """An argparse type: a whole number of at least ``minimum`` (``run id must be at least 1``)."""
    return argument(lambda text: check_int(name, whole_number(text), minimum))


def fail(message: str, status: int = 1) -> int:
    """Say ``mnist-tui: error: message`` on stderr; returns ``status``."""
    print(f"mnist-tui: error: {message}", file=sys.stderr)
    return status


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
