"""The trainer process's protocol, with scripted trainers in real child processes (no TensorFlow)."""

from __future__ import annotations

import inspect
import os
import signal
import threading
import time

import numpy as np
import pytest

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
from mnist_tui.worker import client
from mnist_tui.worker.protocol import Save
from tests.support import fakes, worker_fakes


def drawn(digit: int) -> np.ndarray:
    """A digit as the template model reads it best (as the draw screen sends it)."""
    from mnist_tui.drawing import mnist_style

    return mnist_style(fakes.digit_image(digit))


def trainer(script: str) -> client.ProcessTrainer:
    return client.ProcessTrainer(worker_fakes.ScriptJob(fakes.CONFIG, script=script), target=worker_fakes.main)


class Run:
    """A scripted run on a thread of its own, its events collected."""

    def __init__(self, script: str) -> None:
        self.trainer = trainer(script)
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
    assert events[-1].message == "The training process was killed by SIGKILL."
    assert "out of memory" in events[-1].hint


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
