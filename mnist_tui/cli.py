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
    if argv[:1] == ["images"]:  # the images a query selects (mnist_tui/commands/images.py)
        from .commands.images import main as images_main

        return images_main(argv[1:])
    if argv[:1] == ["tags"]:  # tags, relabels and the corrected labels' export (mnist_tui/commands/tags.py)
        from .commands.tags import main as tags_main

        return tags_main(argv[1:])
    if argv[:1] in (["sweep"], ["sweeps"]):  # Optuna sweeps (mnist_tui/commands/sweep.py)
        from .commands.sweep import sweep_main, sweeps_main

        return (sweep_main if argv[0] == "sweep" else sweeps_main)(argv[1:])
    options = parse_args(argv)
    if options.run is not None:
        if options.headless:
            return show_run(options.run)
        if (status := check_openable(options.run)) != 0:
            return status
    plan = None
    if options.resume is not None or options.further is not None:
        from .runs.resume import plan_from_options

        planned = plan_from_options(options.resume, options.further, options.config.epochs, options.backend)
        if isinstance(planned, str):
            print(f"mnist-tui: error: {planned}", file=sys.stderr)
            return 1
        plan = planned
    if options.headless:
        from .headless import run_headless

        if plan is not None:
            return run_headless(plan.config, log_file=options.log_file, plan=plan)
        return run_headless(options.config, model_path=options.model, log_file=options.log_file, record=options.record)
    if not (sys.stdout.isatty() and sys.stdin.isatty()):
        print("mnist-tui: not running in a terminal; use --headless for plain-text output", file=sys.stderr)
        return 2
    from .launch import run_app

    return run_app(options, plan)
