"""The ``mnist-tui`` entry point called in the test's own process, read as a subprocess's result would be."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from mnist_tui.cli import main


class Ran(NamedTuple):
    """What one command did: its exit status and what it wrote (named as in ``subprocess.CompletedProcess``)."""

    returncode: int
    stdout: str
    stderr: str


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> Ran:
    """Run ``mnist-tui ARGV`` in-process; argparse's exits (status 2) are read as the status they carry.

    Only for commands that never import TensorFlow: a check of what a command imports, or of
    how it behaves in a terminal, needs a process of its own.
    """
    capsys.readouterr()  # what the test printed before is not the command's
    try:
        status = main(list(argv))
    except SystemExit as stop:
        status = stop.code if isinstance(stop.code, int) else 0 if stop.code is None else 1
    captured = capsys.readouterr()
    return Ran(status, captured.out, captured.err)
