"""The spare model process's pool: which job takes it, when the next one starts, when none is kept (no real process)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mnist_tui.config import TrainConfig
from mnist_tui.worker import spare
from mnist_tui.worker.protocol import ServeJob, SpareJob, TrainJob


@dataclass
class FakeProcess:
    exitcode: int | None = None
    pid: int = 0


@dataclass(eq=False)
class FakeLive:
    """What ``processes.start`` returns, without a process: what it was sent, whether it was ended."""

    job: object
    process: FakeProcess = field(default_factory=FakeProcess)
    sent: list = field(default_factory=list)
    writing: set = field(default_factory=set)
    ended: threading.Event = field(default_factory=threading.Event)

    def send(self, message: object) -> None:
        if self.process.exitcode is not None:
            raise OSError("the pipe is closed")
        self.sent.append(message)

    def end(self) -> None:
        self.process.exitcode = -15
        self.ended.set()


@pytest.fixture
def started(monkeypatch):
    """Every process the pool starts, in order; the pool off again afterwards."""
    lives: list[FakeLive] = []

    def start(job, target, writing):
        lives.append(FakeLive(job, FakeProcess(pid=len(lives) + 1)))
        return lives[-1]

    monkeypatch.setattr(spare, "start", start)
    monkeypatch.setattr(spare, "REFILL_DELAY", 0.01)
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    monkeypatch.delenv(spare.NO_SPARE, raising=False)
    yield lives
    spare.disable()
    monkeypatch.setattr(spare, "_holds", 0)


def settle(lives: list[FakeLive], count: int, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while len(lives) < count and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.05)  # and no more than that
    assert len(lives) == count, [live.job for live in lives]


SERVE = ServeJob(Path("/nowhere/model.keras"), "mlp-1")


def test_a_spare_starts_at_once_takes_a_model_and_the_next_one_follows(started):
    spare.enable()
    settle(started, 1)
    assert started[0].job == SpareJob("tensorflow")
    assert spare.spare_pid() == 1
    taken = spare.take(SERVE)
    assert taken is started[0] and taken.sent == [SERVE]
    settle(started, 1)  # none while the taken one may still be importing
    spare.loaded()
    settle(started, 2)  # the next spare, REFILL_DELAY after the model has loaded
    assert started[1].job == SpareJob("tensorflow") and spare.spare_pid() == 2


def test_a_training_run_takes_the_spare_and_no_other_starts_until_it_ends(started):
    spare.enable()
    settle(started, 1)
    job = TrainJob(TrainConfig(epochs=1, save=Path("/tmp/x.keras")))
    taken = spare.take(job, [Path("/tmp/x.keras")], hold=True)
    assert taken is started[0] and taken.sent == [job] and taken.writing == {Path("/tmp/x.keras")}
    settle(started, 1)  # no spare beside a training run
    assert spare.take(SERVE) is None  # a model opened while it trains starts its own process
    settle(started, 1)
    spare.release()
    settle(started, 2)


def test_no_spare_starts_while_a_model_files_predictions_are_asked_for(started):
    spare.enable()
    settle(started, 1)
    assert spare.take(SERVE) is started[0]
    spare.hold()  # the results browser asks the model file's process for the test predictions
    spare.loaded()
    settle(started, 1)  # its model has loaded, but the predictions are still coming
    spare.release()
    settle(started, 2)


def test_a_spare_that_does_not_fit_the_job_is_ended_and_none_kept_while_training(started):
    spare.enable()
    settle(started, 1)
    jax = TrainJob(TrainConfig(epochs=1, backend="jax"))
    assert spare.take(jax, hold=True) is None
    assert started[0].ended.wait(5) and started[0].sent == []
    assert spare.spare_pid() is None
    spare.release()
    settle(started, 2)


def test_a_dead_spare_is_not_handed_a_job(started):
    spare.enable()
    settle(started, 1)
    started[0].process.exitcode = -9
    assert spare.take(SERVE) is None
    spare.loaded()
    settle(started, 2)


@pytest.mark.parametrize(("backend", "expected"), [(None, "tensorflow"), ("tensorflow", "tensorflow"), ("auto", None)])
def test_which_jobs_a_spare_fits(backend, expected, monkeypatch):
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    assert spare.job_backend(TrainJob(TrainConfig(backend=backend))) == expected
    assert spare.job_backend(SERVE, {"KERAS_BACKEND": "jax"}) == "jax"
    assert spare.job_backend(SERVE, {"KERAS_BACKEND": "theano"}) is None


def test_no_spare_when_asked_or_when_quitting(started, monkeypatch):
    monkeypatch.setenv(spare.NO_SPARE, "1")
    spare.enable()
    settle(started, 0)
    assert spare.take(SERVE) is None
    settle(started, 0)
    monkeypatch.delenv(spare.NO_SPARE)
    spare.enable()
    settle(started, 1)
    spare.disable()  # quitting: the spare ends and no other starts
    assert started[0].ended.wait(5)
    assert spare.take(SERVE) is None
    settle(started, 1)


# ---------------------------------------------------------------------- the spare process's side


class SpareChild:
    """``Child.warm_up`` on a thread, its parent's end of the pipe, and an import held until ``imported()``."""

    def __init__(self, monkeypatch) -> None:
        from multiprocessing import Pipe

        from mnist_tui import backend
        from mnist_tui.worker.child import Child

        self.importing, self.go_on = threading.Event(), threading.Event()

        def prepare(name: str, arch: str):  # stands in for the import, and fails: no Keras is imported here
            self.importing.set()
            assert self.go_on.wait(10)
            raise RuntimeError("no backend in this test")

        monkeypatch.setattr(backend, "prepare", prepare)
        self.parent, end = Pipe()
        self.child = Child(end)
        self.result: list = []
        self.thread = threading.Thread(target=lambda: self.result.append(self.child.warm_up(SpareJob("tensorflow"))))
        self.thread.start()
        assert self.importing.wait(10)

    def imported(self) -> None:
        self.go_on.set()
        assert self.child.warm.wait(10)

    def handed_over(self) -> object:
        self.thread.join(10)
        assert not self.thread.is_alive()
        return self.result[0]


def test_a_run_that_takes_a_spare_still_importing_is_told_so_at_once(monkeypatch):
    from mnist_tui.events import Stage

    spare_child = SpareChild(monkeypatch)
    job = TrainJob(TrainConfig(epochs=1))
    spare_child.parent.send(job)
    assert spare_child.parent.poll(10) and spare_child.parent.recv() == Stage("Loading TensorFlow")
    assert spare_child.thread.is_alive()  # the job waits for the import
    spare_child.imported()
    assert spare_child.handed_over() == job
    assert not spare_child.parent.poll(0)  # said once, before any of the job's own events


@pytest.mark.parametrize("when", ["warm", "model file opened"])
def test_a_warm_spare_or_a_served_model_file_is_told_nothing(when, monkeypatch):
    spare_child = SpareChild(monkeypatch)
    job = TrainJob(TrainConfig(epochs=1)) if when == "warm" else SERVE
    if when == "warm":
        spare_child.imported()
    spare_child.parent.send(job)
    spare_child.imported()
    assert spare_child.handed_over() == job
    assert not spare_child.parent.poll(0)  # a model file's process answers "serving" or "failed", nothing else


def test_a_spare_nobody_takes_ends_when_cancelled_or_when_its_parent_goes(monkeypatch):
    from mnist_tui.worker.protocol import Cancel

    for ending in ("cancel", "close"):
        spare_child = SpareChild(monkeypatch)
        if ending == "cancel":
            spare_child.parent.send(Cancel())
        else:
            spare_child.parent.close()
        spare_child.imported()
        assert spare_child.handed_over() is None
