"""The trainer process's protocol, with scripted trainers in real child processes (no TensorFlow)."""

from __future__ import annotations

import dataclasses
import inspect
import os
import signal
import struct
import threading
import time

import numpy as np
import pytest

from mnist_tui.config import TrainConfig
from mnist_tui.events import (
    BatchEnd,
    EpochEnd,
    Failed,
    Finished,
    ModelServerError,
    ModelService,
    NearestImages,
    RunControl,
    Stage,
    Started,
    Stopped,
)
from mnist_tui.files import temporary_path
from mnist_tui.worker import client, processes
from mnist_tui.worker.protocol import Save
from tests.support import fakes, worker_fakes


def drawn(digit: int) -> np.ndarray:
    """A digit as the template model reads it best (as the draw screen sends it)."""
    from mnist_tui.drawing import mnist_style

    return mnist_style(fakes.digit_image(digit))


def trainer(script: str, config: TrainConfig = fakes.CONFIG) -> client.ProcessTrainer:
    return client.ProcessTrainer(worker_fakes.ScriptJob(config, script=script), target=worker_fakes.main)


class Run:
    """A scripted run on a thread of its own, its events collected."""

    def __init__(self, script: str, config: TrainConfig = fakes.CONFIG) -> None:
        self.trainer = trainer(script, config)
        self.control = RunControl()
        self.events: list = []
        self.thread = threading.Thread(target=self.trainer.run, args=(self.events.append, self.control))
        self.thread.start()

    def wait_for(self, kind: type, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while not any(isinstance(e, kind) for e in self.events):
            assert time.monotonic() < deadline, f"no {kind.__name__} in {self.events}"
            time.sleep(0.01)

    def join(self, timeout: float = 20) -> list:
        self.thread.join(timeout)
        assert not self.thread.is_alive()
        return self.events


@pytest.fixture(autouse=True)
def no_process_left_behind():
    yield
    client.end_all()
    assert client.live_processes() == []


def test_events_arrive_in_order_and_the_model_is_served():
    events = Run("finish").join()
    assert [type(e) for e in events] == [Stage, Started, EpochEnd, EpochEnd, EpochEnd, Finished]
    assert [e.epoch for e in events if isinstance(e, EpochEnd)] == [1, 2, 3]
    finished = events[-1]
    assert isinstance(finished.model, client.RemoteModel)
    assert len(finished.predictions) == 50
    from mnist_tui.drawing import mnist_style

    images = np.stack([mnist_style(fakes.digit_image(d)) for d in (1, 7)])
    remote = finished.model.predict(images)
    np.testing.assert_allclose(remote, fakes.TemplateModel().predict(images), rtol=1e-6)
    assert remote.argmax(axis=1).tolist() == [1, 7]
    pid = finished.model.pid
    finished.model.close()
    deadline = time.monotonic() + 5
    while client.live_processes() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert client.live_processes() == []
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_stop_keeps_the_model_and_reports_stopped():
    run = Run("hold")
    run.wait_for(BatchEnd)
    run.control.stop.set()
    events = run.join()
    kinds = [type(e) for e in events]
    assert kinds.index(Stopped) < kinds.index(Finished)
    assert events[-1].stopped_early
    assert events[-1].model.predict(fakes.digit_image(3)[None]).shape == (1, 10)


def test_cancel_ends_the_process_without_a_result():
    run = Run("hold")
    run.wait_for(BatchEnd)
    process = run.trainer.process
    run.control.cancel.set()
    events = run.join(5)
    assert not any(isinstance(e, (Finished, Failed)) for e in events)
    assert process.exitcode is not None


def test_a_failure_is_relayed_and_the_process_ends():
    run = Run("fail")
    events = run.join()
    assert isinstance(events[-1], Failed) and events[-1].message == "The data is bad."
    assert run.trainer.process.exitcode is not None


def test_a_child_that_exits_is_reported_with_its_status():
    events = Run("crash").join()
    assert isinstance(events[-1], Failed)
    assert events[-1].message == "The training process exited with status 3."


def test_a_child_killed_mid_run_is_reported_with_its_signal():
    run = Run("hold")
    run.wait_for(BatchEnd)
    os.kill(run.trainer.process.pid, signal.SIGKILL)
    events = run.join()
    assert isinstance(events[-1], Failed)
    assert events[-1].message == (
        "The training process was killed by SIGKILL: from outside, or by the system when memory ran out."
    )
    assert "If memory ran out" in events[-1].hint


def test_requests_to_a_dead_model_server_fail_clearly():
    model = Run("finish").join()[-1].model
    os.kill(model.pid, signal.SIGKILL)
    with pytest.raises(ModelServerError, match="The model process was killed by SIGKILL"):
        model.predict(fakes.digit_image(1)[None])
    with pytest.raises(ModelServerError):
        model.save("/tmp/never.keras")


def test_errors_get_one_response_each_and_the_server_goes_on(tmp_path):
    model = Run("finish").join()[-1].model
    image = drawn(1)
    with pytest.raises(ModelServerError, match="not a Keras model"):  # the scripted model has no layers to explain
        model.why(image, [1], 8)
    with pytest.raises(ModelServerError, match="No such file or directory"):
        model.save(tmp_path / "missing" / "m.keras")
    # the server still answers in order after its errors
    assert model.predict(image[None]).argmax() == 1
    model.save(tmp_path / "m.keras")
    assert (tmp_path / "m.keras").read_bytes() == b"fake model"


def test_a_request_that_times_out_does_not_confuse_the_next(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_TUI_TEST_SAVE_SECONDS", "0.5")
    model = Run("slow-save").join()[-1].model
    monkeypatch.setitem(client.TIMEOUTS, Save, 0.1)
    with pytest.raises(ModelServerError, match="did not answer within 0.1 s"):
        model.save(tmp_path / "m.keras")
    images = np.stack([drawn(d) for d in (4, 2)])
    assert model.predict(images).argmax(axis=1).tolist() == [4, 2]  # the late save response is skipped by id
    assert (tmp_path / "m.keras").read_bytes() == b"half a model"  # the save itself went on


def test_a_prediction_is_answered_while_a_long_job_runs(monkeypatch):
    monkeypatch.setenv("MNIST_TUI_TEST_JOB_SECONDS", "3")
    model = Run("finish").join()[-1].model
    progress: list[float] = []
    found: list = []
    job = threading.Thread(
        target=lambda: found.append(
            model.neighbours(fakes.digit_image(5), 4, progress=lambda f, stage: progress.append(f))
        )
    )
    job.start()
    deadline = time.monotonic() + 10
    while not progress:
        assert time.monotonic() < deadline, "the long job never reported progress"
        time.sleep(0.01)
    slowest = 0.0
    for digit in range(10):
        start = time.monotonic()
        assert model.predict(drawn(digit)[None]).argmax() == digit
        slowest = max(slowest, time.monotonic() - start)
    assert job.is_alive(), "the job ended before the predictions: they proved nothing"
    assert slowest < 1.0  # a drawing's prediction never waits behind the job
    job.join(10)
    assert not job.is_alive() and isinstance(found[0], NearestImages) and len(found[0].indices) == 4
    assert progress == sorted(progress) and progress[-1] == 1.0 and len(progress) == worker_fakes.JOB_STEPS


def test_a_cancelled_wait_ends_at_once_and_its_late_answer_is_skipped(monkeypatch):
    monkeypatch.setenv("MNIST_TUI_TEST_JOB_SECONDS", "1")
    model = Run("finish").join()[-1].model
    cancel = threading.Event()
    cancel.set()
    start = time.monotonic()
    with pytest.raises(ModelServerError, match="cancelled"):
        model.neighbours(fakes.digit_image(2), 3, cancel=cancel)
    assert time.monotonic() - start < 0.5
    found = model.neighbours(fakes.digit_image(2), 2)  # the first job's answer came first, and was skipped
    assert len(found.indices) == 2


def test_the_remote_model_and_the_fake_server_offer_what_the_views_use():
    for handle in (client.RemoteModel, fakes.FakeModelServer):
        for name in ("predict", "save", "why", "neighbours", "embeddings", "layout", "weights"):
            expected = inspect.signature(getattr(ModelService, name))
            assert list(inspect.signature(getattr(handle, name)).parameters) == list(expected.parameters), name
    assert isinstance(fakes.FakeModelServer(), ModelService)
    assert not isinstance(fakes.TemplateModel(), ModelService)  # a plain handle: predict and save only


def start_saving(model, target, saver: threading.Thread):
    """Start ``saver`` and return the model's temporary file once the model process has begun writing it."""
    saver.start()
    temporary = temporary_path(target, model.pid)
    deadline = time.monotonic() + 10
    while not temporary.exists():
        assert time.monotonic() < deadline, "the save never started"
        time.sleep(0.01)
    return temporary


def test_ending_the_process_mid_save_leaves_no_partial_file(tmp_path):
    model = Run("slow-save").join()[-1].model
    target = tmp_path / "m.keras"
    errors: list[Exception] = []

    def save() -> None:
        try:
            model.save(target)
        except ModelServerError as exc:
            errors.append(exc)

    saver = threading.Thread(target=save)
    temporary = start_saving(model, target, saver)
    start = time.monotonic()
    client.end_all(deadline=time.monotonic() + 0.2)
    assert time.monotonic() - start < 2
    saver.join(5)
    assert errors and not target.exists() and not temporary.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("how", "ended"), [(signal.SIGTERM, "exited with status 143"), (signal.SIGKILL, "was killed by SIGKILL")]
)
def test_a_killed_save_is_swept_by_the_ui(tmp_path, how, ended):
    model = Run("slow-save").join()[-1].model
    target = tmp_path / "m.keras"
    outcome: list[BaseException | None] = []

    def save() -> None:
        try:
            model.save(target)
        except BaseException as exc:  # stored: the main thread asserts on it
            outcome.append(exc)
        else:
            outcome.append(None)

    saver = threading.Thread(target=save)
    start_saving(model, target, saver)
    os.kill(model.pid, how)
    saver.join(5)
    assert not saver.is_alive() and len(outcome) == 1
    assert isinstance(outcome[0], ModelServerError) and f"The model process {ended}." == str(outcome[0])
    client.end_all()
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- a parent that goes away is normal


class ClosedPipe:
    """A pipe whose every use fails the way a closed or broken one does."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def recv(self):
        raise self.error

    def send(self, message) -> None:
        # a send never races a close (the child closes under its writers' lock): no TypeError there
        raise BrokenPipeError(32, "Broken pipe") if isinstance(self.error, TypeError) else self.error

    def close(self) -> None:
        pass


@pytest.mark.parametrize(
    "error",
    [
        EOFError(),
        BrokenPipeError(32, "Broken pipe"),
        OSError(9, "Bad file descriptor"),
        ValueError("I/O operation on closed file"),
        # recv racing this process's own close: the closed handle is None when the body is read
        TypeError("'NoneType' object cannot be interpreted as an integer"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_the_child_takes_a_broken_pipe_as_the_end_silently(error):
    from mnist_tui.worker.child import Child

    child = Child(ClosedPipe(error))
    child.read()  # returns: no exception escapes the reader thread
    assert child.control.cancel.is_set()
    assert child.quick.get_nowait() is None and child.long.get_nowait() is None
    child.send(Stopped(1, 2))  # a send into the broken pipe ends the run, quietly
    child.close()
    child.send(Stopped(1, 3))  # and after close, a send is a no-op


def start_logged(script: str, log) -> processes.Live:
    """Start a scripted child whose descriptor 2 (its log file, as in the app) is ``log``."""
    saved = os.dup(2)
    os.dup2(log.fileno(), 2)
    try:
        return processes.start(worker_fakes.ScriptJob(fakes.CONFIG, script=script), worker_fakes.main, ())
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@pytest.mark.parametrize("how", ["close", "half-message", "terminate"])
def test_a_parent_that_goes_away_mid_stream_leaves_no_traceback_in_the_log(tmp_path, how):
    for round in range(6):
        log_path = tmp_path / f"log-{round}.txt"
        with open(log_path, "w") as log:
            live = start_logged("hold", log)
        assert live.conn.poll(20)
        live.conn.recv()  # the child is streaming its batches
        flooding = threading.Event()

        def flood() -> None:
            # the child's reader is busy with messages when the parent goes: a read is cut mid-message
            blob = b"x" * (1000 if round % 2 else 200_000)
            flooding.set()
            while True:
                try:
                    live.send(blob)
                except (OSError, ValueError, TypeError):
                    return

        flooder = threading.Thread(target=flood)
        flooder.start()
        flooding.wait(5)
        time.sleep(0.02 * round)
        if how == "terminate":
            live.process.terminate()  # what quitting does, with a cancel on its way
        elif how == "half-message":
            with live.send_lock:
                os.write(live.conn.fileno(), struct.pack("!i", 1 << 20) + b"half")
                live.conn.close()
        else:
            live.conn.close()
        live.process.join(10)
        try:
            live.conn.close()
        except OSError:
            pass
        flooder.join(10)
        live.end()
        text = log_path.read_text()
        assert "Traceback" not in text and "Exception in thread" not in text, text
        assert live.process.exitcode is not None


# ---------------------------------------------------------------- quitting while a model is being saved


def running(pid: int) -> bool:
    """Whether ``pid`` is a process that has not ended (a zombie has ended: only its status is left)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("deaf", [False, True], ids=["unwinds", "deaf-to-sigterm"])
def test_quitting_mid_save_leaves_no_process_and_no_partial_file(tmp_path, monkeypatch, deaf):
    from mnist_tui.app import QUIT_GRACE

    if deaf:  # a save that SIGTERM does not end in time: only the kill at the deadline does
        monkeypatch.setenv("MNIST_TUI_TEST_SAVE_DEAF", "1")
    target = tmp_path / "m.keras"
    run = Run("save-at-end", dataclasses.replace(fakes.CONFIG, save=target))
    run.wait_for(Stage)
    pid = run.trainer.process.pid
    deadline = time.monotonic() + 10
    while not temporary_path(target, pid).exists():
        assert time.monotonic() < deadline, "the save never started"
        time.sleep(0.01)
    # What q does: the app cancels the run and ends every process on a daemon thread while
    # Textual winds down; launch.run_app then ends whatever is left, and os._exit follows,
    # cutting that daemon thread off wherever it is.
    run.control.cancel.set()
    threading.Thread(target=client.end_all, args=(time.monotonic() + QUIT_GRACE,), daemon=True).start()
    time.sleep(0.02)
    start = time.monotonic()
    client.end_all(deadline=time.monotonic() + QUIT_GRACE)
    assert time.monotonic() - start < 2
    assert not running(pid), "the trainer process outlived the quit"
    assert list(tmp_path.iterdir()) == [], "a partial file was left"
    run.join(5)


def test_a_closed_model_says_why_when_asked(tmp_path):
    model = Run("finish").join()[-1].model
    reason = "The model was closed when a new run started."
    model.close(reason)
    model.close()  # a second close changes nothing, the reason included
    assert not model.alive
    with pytest.raises(ModelServerError, match=f"^{reason}$"):
        model.predict(drawn(1)[None])
    with pytest.raises(ModelServerError, match=f"^{reason}$"):
        model.save(tmp_path / "m.keras")
    assert list(tmp_path.iterdir()) == []


class EndedProcess:
    """A process that has ended (killed), as ``Live`` sees one."""

    pid = 0
    exitcode = -signal.SIGKILL

    def __init__(self) -> None:
        self.sentinel, write = os.pipe()
        os.close(write)  # the sentinel is readable: the process is gone

    def join(self, timeout: float | None = None) -> None:
        pass


def test_the_ui_side_takes_a_pipe_closed_under_a_read_as_the_end_silently(monkeypatch):
    escaped: list = []
    monkeypatch.setattr(threading, "excepthook", escaped.append)
    process = EndedProcess()
    closed_mid_read = ClosedPipe(TypeError("'NoneType' object cannot be interpreted as an integer"))
    model = client.RemoteModel(processes.Live(process, closed_mid_read), "m")
    with pytest.raises(ModelServerError, match="^The model process was killed by SIGKILL.$"):
        model.predict(drawn(1)[None])
    os.close(process.sentinel)
    assert escaped == []


def test_no_process_starts_after_the_last_end_all(monkeypatch):
    monkeypatch.setattr(processes, "_closing", False)  # restored afterwards: later tests start processes
    processes.end_all(last=True)
    with pytest.raises(RuntimeError, match="quitting"):
        processes.start(worker_fakes.ScriptJob(fakes.CONFIG), worker_fakes.main, ())
    assert client.live_processes() == []
