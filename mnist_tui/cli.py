"""Command line: the ``mnist-tui`` entry point, which hands each command to :mod:`mnist_tui.commands`.

Parsing never imports TensorFlow, so ``mnist-tui --help`` and every option error
answer at once.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from .commands.runs import check_openable, runs_main, show_run
from .commands.train import parse_args


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mnist-tui`` command; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["runs"]:
        return runs_main(argv[1:])
    if argv[:1] == ["labels"]:  # the suspicious-labels ranking (mnist_tui/commands/labels.py)
        from .commands.labels import main as labels_main

        return labels_main(argv[1:])
    if argv[:1] in (["sweep"], ["sweeps"]):  # Optuna sweeps (mnist_tui/commands/sweep.py)
        from .commands.sweep import sweep_main, sweeps_main

        return (sweep_main if argv[0] == "sweep" else sweeps_main)(argv[1:])
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
