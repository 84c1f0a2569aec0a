"""The training screen: stages, live sparklines, progress bars and the epoch table."""

from __future__ import annotations

import threading
import traceback
from typing import Protocol

import numpy as np
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Label, ProgressBar, Static

from ..events import (
    BatchEnd,
    DownloadProgress,
    EpochEnd,
    Failed,
    Finished,
    Notice,
    RunControl,
    Stage,
    Started,
    Stopped,
    TrainerEvent,
    one_line,
)
from ..runs.format import duration as format_duration
from ..widgets.bar import LiveProgressBar
from ..widgets.chart import LineChart
from ..widgets.metric import MetricSpark
from .base import AppScreen, NewSweep, ShowLastResults, TrainAgain, bindings
from .dialogs import HelpScreen

TRAINER_THREAD = "mnist-tui-trainer"
# The whole-run chart redraws at most this often (seconds of training) and at each
# epoch's end: it keeps up with the status line (batch events come 4 a second)
# within a quarter second, and its few milliseconds per redraw cost about 1% of a core.
RUN_CHART_EVERY = 0.25
PARENT_COLOUR = "#7f7f7f"
"""The parent run's epochs, greyed, before those of a run that trains it further."""
RUN_CHART_POINTS = 400  # about the braille dots across a wide chart
# What the empty charts say: short enough for their narrowest (23 and 26 columns at 80x24)
EMPTY_EPOCHS = "waiting for epoch 1"
EMPTY_BATCHES = "waiting for batches"
PLAN = ("Loading data", "Loading TensorFlow", "Building model", "Training", "Evaluating")
SHORT = {
    "Loading TensorFlow": "TensorFlow",
    "Loading JAX": "JAX",
    "Loading data": "Data",
    "Loading model": "Model file",
    "Building model": "Model",
    "Training": "Training",
    "Evaluating": "Evaluating",
    "Saving": "Saving",
}


def bin_means(x: np.ndarray, y: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` reduced to at most ``bins`` points: the means of equal runs of consecutive points."""
    if len(y) <= bins:
        return x, y
    edges = np.linspace(0, len(y), bins + 1).astype(int)
    counts = np.diff(edges)
    return np.add.reduceat(x, edges[:-1]) / counts, np.add.reduceat(y, edges[:-1]) / counts


class Trainer(Protocol):
    """Anything that runs a training job and reports events; see ``training.KerasTrainer``."""

    def run(self, sink, control: RunControl) -> None: ...


class TrainingScreen(AppScreen):
    """Runs a trainer on a thread of its own and shows its events as they arrive.

    Args:
        trainer: Runs the training job and reports its events.
        threaded: Run the trainer on a thread. ``False`` runs it on the event loop, for
            the scripted trainers of the snapshot and Pilot tests: they report every event
            at once, and inline the screen shows the same frames on every run, with no
            thread to wait for (DESIGN.md: snapshots run no threads or processes).
        title: The screen's subtitle until the run starts.
        earlier_results: A run of this session finished before this one: after a
            failure, ``r`` opens its results.
    """

    KEYS = "training"
    BINDINGS = bindings(KEYS)

    class Event(Message):
        """A trainer event, carried from the worker thread to the screen."""

        def __init__(self, event: TrainerEvent) -> None:
            super().__init__()
            self.event = event

    class Done(Message):
        """Training finished (or was stopped early) and the test set was scored."""

        def __init__(self, result: Finished) -> None:
            super().__init__()
            self.result = result

    def __init__(
        self, trainer: Trainer, *, threaded: bool = True, title: str = "Training", earlier_results: bool = False
    ) -> None:
        super().__init__()
        self.trainer = trainer
        self.threaded = threaded
        self.earlier_results = earlier_results
        self.control = RunControl()
        self.stages: list[str] = list(PLAN)
        self.current_stage: str | None = None
        self.started: Started | None = None
        self.result: Finished | None = None
        self.failure: Failed | None = None
        self.epochs: list[EpochEnd] = []
        self.stopped: Stopped | None = None
        """Where the run stopped, once the trainer said so."""
        self.batch_losses: list[float] = []
        self.batch_accuracies: list[float] = []
        self.run_x: list[float] = []  # every batch loss of the run, x in epochs
        self.run_losses: list[float] = []
        self.x_offset = 0
        """Epochs of the parent run drawn (greyed) before this run's own, when it trains a finished run further."""
        self._run_drawn_at = -RUN_CHART_EVERY
        self._eta_text = ""
        self.status = Text("Starting…")
        self.sub_title = title

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="status-panel") as panel:
            panel.border_title = "Status"
            yield Static(id="stages")
            yield Static(id="status")
            with Horizontal(id="bars"):
                yield Label("Epoch", id="epoch-label")
                yield LiveProgressBar(id="epoch-progress", show_eta=False)
                yield Label("Run", id="run-label")
                yield LiveProgressBar(id="run-progress", show_eta=False)
                yield Label("", id="eta")
        yield Static(id="error")
        with Horizontal(id="charts"):
            with Vertical(id="left-column"):
                with Vertical(id="batch-chart", classes="chart") as chart:
                    chart.border_title = "This epoch"
                    yield MetricSpark("loss", id="batch-loss")
                    yield MetricSpark("accuracy", short="acc", id="batch-accuracy", higher_is_better=True, percent=True)
                # all the layers first, the count in the title: the options below scroll
                with VerticalScroll(id="model") as model:
                    model.border_title = "Model"
                    yield Static(id="model-text", markup=False)
            with Vertical(id="loss-panel", classes="chart") as chart:
                chart.border_title = "Loss per epoch"
                yield LineChart(y_label="loss", empty_text=EMPTY_EPOCHS, id="epoch-loss")
            with Vertical(id="accuracy-panel", classes="chart") as chart:
                chart.border_title = "Accuracy per epoch"
                yield LineChart(
                    y_label="accuracy",
                    percent=True,
                    higher_is_better=True,
                    empty_text=EMPTY_EPOCHS,
                    id="epoch-accuracy",
                )
        with Horizontal(id="lower"):
            with Vertical(id="run-panel", classes="chart") as chart:
                chart.border_title = "Batch loss, whole run"
                yield LineChart(y_label="loss", empty_text=EMPTY_BATCHES, id="run-loss")
            table: DataTable = DataTable(id="epochs", cursor_type="row", zebra_stripes=True)
            table.border_title = "Epochs"
            yield table
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#epochs", DataTable)
        for column, label in (
            ("epoch", "epoch"),
            ("loss", "loss"),
            ("accuracy", "acc"),
            ("val_loss", "val_loss"),
            ("val_accuracy", "val_acc"),
            ("time", "time"),
        ):
            table.add_column(label, key=column)
        self._fit_layout()
        self._render_stages()
        self._render_status()
        self._start()

    def on_resize(self) -> None:
        self._fit_layout()

    def _fit_layout(self) -> None:
        """The layout for the terminal's size: set on mount too, so that the first frame already has
        the running layout (a Resize comes only after it, and the layout then jumped)."""
        width, height = self.size if self.size.area else self.app.size
        self.set_class(width < 100, "narrow")
        self.set_class(height < 32, "short")

    # ------------------------------------------------------------------ the worker

    def _start(self) -> None:
        if self.threaded:
            # A plain daemon thread, not a Textual thread worker: it blocks in the trainer's
            # run() for the whole run. Thread workers run in asyncio's default executor,
            # which the event loop joins when the app closes, so a quit would wait for run()
            # to return (a trainer process being ended, an in-process fit() finishing its
            # batch), and a trainer that misses the cancel would keep the app alive (Textual
            # issue #3966); Textual cannot cancel a thread anyway. The run stops through
            # RunControl: q sets cancel, and launch.py ends the trainer's process.
            thread = threading.Thread(target=self._run_trainer, name=TRAINER_THREAD, daemon=True)
            thread.start()
        else:
            self._run_inline()

    def _run_trainer(self) -> None:
        """Run the trainer; should it raise (it is meant to report ``Failed``), show that too."""
        try:
            self.trainer.run(self._sink, self.control)
        except Exception as exc:
            self._sink(
                Failed(f"The run crashed: {one_line(exc)}", "See the log file for details.", traceback.format_exc())
            )

    @work(exclusive=True, exit_on_error=False)
    async def _run_inline(self) -> None:
        """Scripted trainers (tests) run on the event loop: deterministic, no threads."""
        self._run_trainer()

    def _sink(self, event: TrainerEvent) -> None:
        # Called on the trainer's thread: never touch widgets here, only post.
        self.post_message(self.Event(event))

    # ------------------------------------------------------------------ events

    @on(Event)
    def _on_trainer_event(self, message: Event) -> None:
        event = message.event
        with self.app.batch_update():
            if isinstance(event, Stage):
                self._on_stage(event)
            elif isinstance(event, DownloadProgress):
                self._on_download(event)
            elif isinstance(event, Started):
                self._on_started(event)
            elif isinstance(event, BatchEnd):
                self._on_batch(event)
            elif isinstance(event, EpochEnd):
                self._on_epoch(event)
            elif isinstance(event, Stopped):
                self._on_stopped(event)
            elif isinstance(event, Finished):
                self._on_finished(event)
            elif isinstance(event, Failed):
                self._on_failed(event)
            elif isinstance(event, Notice):
                self.notify(event.message, severity="warning", timeout=8)

    def _on_stage(self, event: Stage) -> None:
        if event.name == "Loading JAX" and "Loading TensorFlow" in self.stages:
            # the backend's own name in the plan, where TensorFlow's was
            self.stages[self.stages.index("Loading TensorFlow")] = event.name
        current = self.stages.index(self.current_stage) if self.current_stage in self.stages else -1
        if event.name in self.stages[: max(current, 0)]:
            # the stages before the current one are those that were current: one said again once over
            # (a spare's import, then the run's own instant one) is not a step back
            return
        position = current + 1
        if event.name in self.stages and self.stages.index(event.name) > position:
            # it comes before stages the plan put first (a spare imports TensorFlow before the run
            # reads its data): the plan follows what happens, and those stay to come
            self.stages.remove(event.name)
            self.stages.insert(position, event.name)
        if event.name not in self.stages:
            self.stages.insert(position, event.name)
            if event.name == "Loading model" and "Building model" in self.stages:
                self.stages.remove("Building model")
                self.stages.remove("Training")
        self.current_stage = event.name
        detail = f" ({event.detail})" if event.detail and event.name != "Training" else ""
        self.status = Text(f"{event.name}{detail}…")
        self._render_stages()
        self._render_status()

    def _on_download(self, event: DownloadProgress) -> None:
        self.query_one("#epoch-label", Label).update("Download")
        self.query_one("#epoch-progress", ProgressBar).update(total=event.total, progress=event.done)
        self.status = Text(f"Downloading {event.file}: {event.done / 1e6:.1f} of {event.total / 1e6:.1f} MB")
        self._render_status()

    def _on_started(self, event: Started) -> None:
        self.started = event
        self.query_one("#epoch-label", Label).update("Epoch")
        self.query_one("#epoch-progress", ProgressBar).update(total=event.steps_per_epoch, progress=0)
        self.query_one("#run-progress", ProgressBar).update(total=event.epochs * event.steps_per_epoch, progress=0)
        config = event.config
        lines = [event.summary, "", f"{'train images':<14}{event.train_size:,}"]
        lines += [
            f"{key.replace('_', ' '):<14}{value}" for key, value in config.describe().items() if value is not None
        ]
        self.query_one("#model").border_title = f"Model · {event.params:,} parameters"
        self.query_one("#model-text", Static).update("\n".join(lines))
        self.sub_title = f"Training {config.arch}"
        if event.earlier:
            self._show_earlier(event)

    def _show_earlier(self, event: Started) -> None:
        """One continuous history: a resumed run's own epochs, or its parent's greyed before this run's."""
        earlier = event.earlier
        reached = earlier[-1].epoch
        points = list(event.earlier_curve.points) if event.earlier_curve is not None else []
        # the curve's points are spread evenly over the epochs they cover
        xs = [(i + 0.5) / len(points) * reached for i in range(len(points))]
        if event.resumed:
            self.run_x.extend(xs)
            self.run_losses.extend(points)
            for epoch in earlier:
                self._on_epoch(epoch)
            self.sub_title = f"Training {event.config.arch} · resumed after epoch {reached}"
            return
        self.x_offset = reached
        x = [e.epoch for e in earlier]
        validated = earlier[0].val_loss is not None
        loss = [float(e.val_loss if validated and e.val_loss is not None else e.loss) for e in earlier]
        accuracy = [float(e.val_accuracy if validated and e.val_accuracy is not None else e.accuracy) for e in earlier]
        self.query_one("#epoch-loss", LineChart).set_series("parent", loss, x=x, colour=PARENT_COLOUR)
        self.query_one("#epoch-accuracy", LineChart).set_series("parent", accuracy, x=x, colour=PARENT_COLOUR)
        if points:
            self.query_one("#run-loss", LineChart).set_series(
                "parent", points, x=xs, colour=PARENT_COLOUR, markers=False
            )
        self.sub_title = f"Training {event.config.arch} further · from epoch {reached}"

    def _on_batch(self, event: BatchEnd) -> None:
        if self.started is None:
            return
        epoch_chart = self.query_one("#batch-chart")
        if epoch_chart.border_title != f"Epoch {event.epoch}":
            self.batch_losses, self.batch_accuracies = [], []
            epoch_chart.border_title = f"Epoch {event.epoch}"
        losses = event.losses or (event.loss,)
        self.batch_losses.extend(losses)
        self.batch_accuracies.extend(event.accuracies or (event.accuracy,))
        # the whole run's curve, x in epochs: the losses reported since the last event end at this step
        first = event.step - len(losses) + 1
        self.run_x.extend(self.x_offset + (event.epoch - 1) + (first + i) / event.steps for i in range(len(losses)))
        self.run_losses.extend(losses)
        if event.elapsed - self._run_drawn_at >= RUN_CHART_EVERY or event.step >= event.steps:
            self._draw_run_chart()
            self._run_drawn_at = event.elapsed
        self.query_one("#batch-loss", MetricSpark).set_values(self.batch_losses)
        self.query_one("#batch-accuracy", MetricSpark).set_values(self.batch_accuracies)
        steps, epochs = event.steps, self.started.epochs
        done = (event.epoch - 1) * steps + event.step
        self.query_one("#epoch-progress", ProgressBar).update(total=steps, progress=event.step)
        self.query_one("#run-progress", ProgressBar).update(total=epochs * steps, progress=done)
        eta = event.elapsed / done * (epochs * steps - done) if done else None
        self._show_eta(f"ETA {format_duration(eta)}")
        self.status = Text.assemble(
            ("Epoch ", "bold"),
            f"{event.epoch}/{epochs} · batch {event.step:,}/{steps:,} · ",
            f"loss {event.loss:.4f} · accuracy {event.accuracy:.2%}",
        )
        self._render_status()

    def _on_stopped(self, event: Stopped) -> None:
        """Show the batches up to the stop (they came after the last throttled batch event)."""
        self.stopped = event
        steps = event.steps or (self.started.steps_per_epoch if self.started else 0)
        if event.losses and steps:
            self._on_batch(
                BatchEnd(
                    event.epoch,
                    event.step,
                    steps,
                    event.loss,
                    event.accuracy,
                    event.elapsed,
                    losses=event.losses,
                    accuracies=event.accuracies,
                )
            )
            self._draw_run_chart()
        self._show_eta("")
        self.status = Text(f"Stopping at {self._stop_point()}…", style="yellow")
        self._render_status()

    def _stop_point(self) -> str:
        """``batch 100 of 938`` (``(epoch 4)`` after it when there are several), or ``the end of epoch 3 of 10``."""
        stopped = self.stopped
        if stopped is None:
            return "this batch"
        steps = stopped.steps or (self.started.steps_per_epoch if self.started else 0)
        epochs = self.started.epochs if self.started else 0
        if steps and stopped.step >= steps:
            return f"the end of epoch {stopped.epoch} of {epochs}" if epochs else f"the end of epoch {stopped.epoch}"
        where = f"batch {stopped.step:,} of {steps:,}" if steps else f"batch {stopped.step:,}"
        return f"{where} (epoch {stopped.epoch})" if epochs > 1 else where

    def _partial_steps(self, event: EpochEnd) -> int | None:
        """The batches an epoch cut short by a stop trained (``None`` for a whole epoch)."""
        stopped = self.stopped
        if stopped is None or stopped.epoch != event.epoch or self.started is None:
            return None
        steps = stopped.steps or self.started.steps_per_epoch
        return stopped.step if stopped.step < steps else None

    def _on_epoch(self, event: EpochEnd) -> None:
        self.epochs.append(event)
        partial = self._partial_steps(event)

        def series(name: str) -> list[float]:
            return [getattr(e, name) for e in self.epochs if getattr(e, name) is not None]

        loss_chart = self.query_one("#epoch-loss", LineChart)
        accuracy_chart = self.query_one("#epoch-accuracy", LineChart)
        for chart, names in ((loss_chart, ("loss", "val_loss")), (accuracy_chart, ("accuracy", "val_accuracy"))):
            for name in names:
                points = [
                    (e.epoch + self.x_offset, getattr(e, name)) for e in self.epochs if getattr(e, name) is not None
                ]
                if points:
                    chart.set_series(name, [v for _, v in points], x=[e for e, _ in points])
        self._draw_run_chart()

        def fmt(value: float | None, percent: bool = False) -> str:
            if value is None:
                return "–"
            return f"{value:.2%}" if percent else f"{value:.4f}"

        table = self.query_one("#epochs", DataTable)
        table.add_row(
            f"{event.epoch}/{event.epochs}" + (" part" if partial is not None else ""),
            fmt(event.loss),
            fmt(event.accuracy, True),
            fmt(event.val_loss),
            fmt(event.val_accuracy, True),
            format_duration(event.seconds),
        )
        table.move_cursor(row=table.row_count - 1)
        if self.started is not None and partial is not None:
            # a stop cut this epoch short: the bars stay where the training stopped
            steps = self.started.steps_per_epoch
            self.query_one("#run-progress", ProgressBar).update(progress=(event.epoch - 1) * steps + partial)
            self.query_one("#epoch-progress", ProgressBar).update(progress=partial)
            self._show_eta("")
        elif self.started is not None:
            self.query_one("#run-progress", ProgressBar).update(progress=event.epoch * self.started.steps_per_epoch)
            remaining = event.elapsed / event.epoch * (event.epochs - event.epoch)
            self._show_eta(f"ETA {format_duration(remaining)}")
            self.query_one("#epoch-progress", ProgressBar).update(progress=self.started.steps_per_epoch)

    def _on_finished(self, event: Finished) -> None:
        self.result = event
        self.current_stage = None
        self._render_stages(done=True)
        how = "Finished"
        if event.stopped_early:
            how = f"Stopped at {self._stop_point()}" if self.stopped is not None else "Stopped early"
        saved = f" · saved to {event.saved_to}" if event.saved_to else ""
        self.status = Text.assemble(
            (f"✓ {how}", "bold green"),
            f" in {format_duration(event.seconds)} · test accuracy ",
            (f"{event.test_accuracy:.2%}", "bold"),
            f" · {event.predictions.mistakes:,} mistakes of {len(event.predictions):,}{saved}",
        )
        self._show_eta("")
        self._settle_bars(full=True)
        self._render_status()
        self.add_class("-finished")
        self.refresh_bindings()
        self.post_message(self.Done(event))

    def _on_failed(self, event: Failed) -> None:
        self.failure = event
        self.add_class("-error")
        body = Text.assemble(("✗ ", "bold red"), (event.message, "bold"))
        if event.hint:
            body.append(f"\n{event.hint}")
        earlier = "r opens the last results · " if self.earlier_results else ""
        body.append(f"\n{earlier}t trains again · q quits", style="dim")
        error = self.query_one("#error", Static)
        error.border_title = "Training failed" if self.current_stage == "Training" else "Something went wrong"
        error.update(body)
        self.status = Text(f"Failed while {(self.current_stage or 'starting').lower()}", style="red")
        self._settle_bars(full=False)
        self._render_status()
        self._render_stages(failed=True)
        self.refresh_bindings()

    # ------------------------------------------------------------------ drawing

    def _draw_run_chart(self) -> None:
        """The whole run's batch losses, averaged into at most RUN_CHART_POINTS points (the dots there are)."""
        if not self.run_losses:
            return
        x, y = bin_means(np.asarray(self.run_x), np.asarray(self.run_losses), RUN_CHART_POINTS)
        self.query_one("#run-loss", LineChart).set_series("batch loss", y, x=x, markers=False)

    def _settle_bars(self, *, full: bool) -> None:
        """Stop the bars that never got a total (a saved model, a failure while loading).

        An indeterminate bar animates for as long as it exists, and would keep repainting
        the screen, even from under the results screen.
        """
        for bar in self.query(ProgressBar):
            if bar.total is None:
                bar.update(total=1, progress=1 if full else 0)

    def _render_stages(self, *, done: bool = False, failed: bool = False) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        current = self.stages.index(self.current_stage) if self.current_stage in self.stages else -1
        for i, stage in enumerate(self.stages):
            if i:
                text.append("  ")
            if done or i < current:
                text.append("✓ ", style="green")
                text.append(SHORT.get(stage, stage))
            elif i == current:
                text.append("✗ " if failed else "● ", style="bold red" if failed else "bold yellow")
                text.append(SHORT.get(stage, stage), style="bold")
            else:
                text.append("○ ", style="dim")
                text.append(SHORT.get(stage, stage), style="dim")
        self.query_one("#stages", Static).update(text)

    def _show_eta(self, text: str) -> None:
        """The ETA, repainted only when its text changes (it changes once a second, batch events come 4 times)."""
        if text != self._eta_text:
            self._eta_text = text
            self.query_one("#eta", Label).update(text, layout=False)  # a fixed width: no layout pass

    def _render_status(self) -> None:
        # one line whatever it says (no wrapping): a repaint is enough, no layout pass per batch
        self.query_one("#status", Static).update(self.status, layout=False)

    # ------------------------------------------------------------------ actions

    def unavailable(self, action: str) -> str | None:
        """Why ``action`` does nothing in the run's present state (a key pressed then says it)."""
        running = self.result is None and self.failure is None
        if action == "stop":
            if self.result is not None:
                return "The run has ended: there is nothing to stop."
            if self.failure is not None:
                return "The run failed: there is nothing to stop."
            if self.control.stop.is_set():
                return "Already stopping: the run ends after this batch."
        elif action == "results":
            if running:
                return "The results open when the run ends (s stops it early)."
            if self.result is None and not self.earlier_results:
                return "No results to open: this run failed, and no run finished before it."
        elif action == "train_again" and running:
            return "A new run can start once this one ends (s stops it early)."
        elif action == "new_sweep" and running:
            return "A sweep can start once this run ends (s stops it early)."
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # the footer and the palette offer only what works now; the key says why it does not
        return self.unavailable(action) is None

    def action_stop(self) -> None:
        self.control.stop.set()
        self.status = Text("Stopping after this batch…", style="yellow")
        self._render_status()
        self.refresh_bindings()

    def action_log_scale(self) -> None:
        """A log y axis for the loss charts (accuracy stays linear)."""
        for chart_id in ("#epoch-loss", "#run-loss"):
            self.query_one(chart_id, LineChart).toggle_log()

    def action_results(self) -> None:
        if self.result is not None:
            self.post_message(self.Done(self.result))
        elif self.earlier_results:
            self.post_message(ShowLastResults())

    def action_train_again(self) -> None:
        self.post_message(TrainAgain())

    def action_new_sweep(self) -> None:
        self.post_message(NewSweep())

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self))

    def retire(self) -> None:
        """A newer run replaced this one: drop the trainer and its model so that memory is freed."""
        self.cancel()
        self.trainer = None  # type: ignore[assignment]
        self.result = None

    def cancel(self) -> None:
        """Abandon the run (the app is quitting)."""
        self.control.cancel.set()
