"""``mnist-tui --headless``: the same trainer, reported as plain text with Rich."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from .config import TrainConfig
from .events import (
    BatchEnd,
    DownloadProgress,
    EpochEnd,
    Failed,
    Finished,
    Notice,
    RunControl,
    Sink,
    Stage,
    Started,
    Stopped,
    TrainerEvent,
)
from .runs.format import duration
from .runs.resume import ResumePlan
from .terminal import stderr_to_log
from .training import KerasTrainer, SavedModelScorer


class HeadlessReporter:
    """A sink that prints events: Rich progress bars on a terminal, plain lines otherwise."""

    def __init__(self, console: Console, errors: Console) -> None:
        self.console = console
        self.errors = errors
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self.downloads = Progress(
            TextColumn("{task.description}"), BarColumn(), DownloadColumn(), console=console, transient=True
        )
        self._download_tasks: dict[str, TaskID] = {}
        self._epoch_task: TaskID | None = None
        self.outcome: Finished | Failed | None = None

    def __call__(self, event: TrainerEvent) -> None:
        if isinstance(event, Stage):
            if event.name == "Training":
                return  # the Started line already says so
            detail = f" ({event.detail})" if event.detail else ""
            self.console.print(f"[dim]{event.name}{detail}…[/]")
        elif isinstance(event, DownloadProgress):
            if event.file not in self._download_tasks:
                self.downloads.start()
                self._download_tasks[event.file] = self.downloads.add_task(f"download {event.file}", total=event.total)
            self.downloads.update(self._download_tasks[event.file], completed=event.done)
            if event.done >= event.total:
                self.downloads.stop()
        elif isinstance(event, Started):
            c = event.config
            if event.earlier:
                done = event.earlier[-1].epoch
                self.console.print(
                    f"Resuming after epoch {done} of {c.epochs}"
                    if event.resumed
                    else f"Training further from the end of its parent's epoch {done}"
                )
            self.console.print(
                f"Training {c.arch} ({event.params:,} parameters) on {event.train_size:,} images: "
                f"{plural(c.epochs, 'epoch')}, batch {c.batch_size}, learning rate {c.learning_rate:g}"
                + (f", {event.precision} on {event.backend}" if event.precision and event.backend else "")
                + (f"; validating on {c.holdout:,} held-out training images" if c.holdout else "")
            )
            self.progress.start()
        elif isinstance(event, BatchEnd):
            if self._epoch_task is None:
                self._epoch_task = self.progress.add_task("epoch", total=event.steps)
            self.progress.update(
                self._epoch_task,
                completed=event.step,
                total=event.steps,
                description=f"epoch {event.epoch}  loss {event.loss:.4f}  acc {event.accuracy:.4f}",
            )
        elif isinstance(event, EpochEnd):
            val = ""
            if event.val_loss is not None and event.val_accuracy is not None:
                val = f"  val_loss {event.val_loss:.4f}  val_accuracy {event.val_accuracy:.4f}"
            self.console.print(
                f"Epoch {event.epoch}/{event.epochs}  loss {event.loss:.4f}  accuracy {event.accuracy:.4f}{val}  "
                f"({duration(event.seconds)})"
            )
            if self._epoch_task is not None:
                self.progress.reset(self._epoch_task)
        elif isinstance(event, Stopped):
            self.console.print(f"Stopping early at epoch {event.epoch}, batch {event.step}")
        elif isinstance(event, Finished):
            self.stop_bars()
            self.outcome = event
            self.console.print(
                f"Test accuracy: {event.test_accuracy:.2%}  (loss {event.test_loss:.4f}, "
                f"{event.predictions.mistakes} mistakes of {len(event.predictions):,})"
            )
            if event.saved_to is not None:
                self.console.print(f"Saved model to {event.saved_to}")
        elif isinstance(event, Failed):
            self.stop_bars()
            self.outcome = event
            hint = ("" if event.message.endswith(".") else ".") + f" {event.hint}" if event.hint else ""
            self.errors.print(f"mnist-tui: error: {event.message}{hint}", markup=False, highlight=False, soft_wrap=True)
        elif isinstance(event, Notice):
            self.errors.print(f"mnist-tui: {event.message}", markup=False, highlight=False, soft_wrap=True)

    def stop_bars(self) -> None:
        for bars in (self.progress, self.downloads):
            if bars.live.is_started:
                bars.stop()


def line_console(file: TextIO | None = None) -> Console:
    """A Console for ``file`` (stdout by default): wrapped to the terminal's width on a terminal,
    never wrapped into a file or a pipe, where a line must stay one line for ``grep``."""
    console = Console(file=file, highlight=False)
    if not console.is_terminal:
        console.soft_wrap = True  # Rich would otherwise wrap at 80 columns, its width for a non-terminal
    return console


def plural(n: int, word: str) -> str:
    """``1 epoch``, ``3 epochs``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def run_headless(
    config: TrainConfig,
    model_path: Path | None = None,
    log_file: Path | None = None,
    record: bool = True,
    plan: ResumePlan | None = None,
) -> int:
    """Train (or score ``model_path``) without the UI. Returns the exit status.

    A training run is recorded in the run store unless ``record`` is false, with a
    checkpoint in its folder after every epoch; scoring a saved model is not a run and
    is never recorded. A store that fails is said in one line on stderr and the run goes
    on unrecorded. ``plan`` resumes a recorded run, or trains a finished one further.
    """
    trainer: KerasTrainer | SavedModelScorer
    control = RunControl()
    with stderr_to_log(log_file) as (terminal, _log):
        reporter = HeadlessReporter(line_console(), line_console(terminal))
        recorder = None
        sink: Sink = reporter
        checkpoint_dir = None
        if (record or plan is not None) and model_path is None:
            from .runs import Recorder

            recorder = Recorder.open(
                reporter,
                config,
                resume_id=plan.resume_id if plan else None,
                parent_id=plan.parent_id if plan else None,
            )
            run_id = recorder.start()
            if run_id is not None and recorder.store is not None:
                checkpoint_dir = recorder.store.run_dir(run_id)
            sink = recorder
        if model_path:
            trainer = SavedModelScorer(model_path, config)
        else:
            trainer = KerasTrainer(
                config,
                checkpoint_dir=checkpoint_dir,
                resume=plan.checkpoint if plan else None,
                further=plan.further if plan else False,
            )
        worker = threading.Thread(target=trainer.run, args=(sink, control), name="mnist-tui-trainer")
        worker.start()
        try:
            while worker.is_alive():
                worker.join(0.1)
        except KeyboardInterrupt:
            control.cancel.set()
            reporter.stop_bars()
            reporter.errors.print("mnist-tui: interrupted")
            worker.join(10)
            if recorder is not None:
                recorder.close()
            return 130
        if recorder is not None:
            recorder.close()  # a run that ended without an outcome (cancelled) is interrupted
            if recorder.recording and recorder.run_id is not None:
                reporter.console.print(
                    f"[dim]Recorded as run {recorder.run_id} (mnist-tui runs show {recorder.run_id})[/]"
                )
    return 0 if isinstance(reporter.outcome, Finished) else 1
