"""The spare model process for real: Keras imported before its job, which a training run and a model file take in turn."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from mnist_tui.config import TrainConfig
from mnist_tui.events import Finished, RunControl
from mnist_tui.worker import client, spare
from mnist_tui.worker.protocol import TrainJob


def next_spare(not_pid: int | None = None, timeout: float = 10) -> int:
    deadline = time.monotonic() + timeout
    while (pid := spare.spare_pid()) is None or pid == not_pid:
        assert time.monotonic() < deadline, "no spare started"
        time.sleep(0.01)
    return pid


@pytest.fixture
def spares(monkeypatch):
    monkeypatch.setattr(spare, "REFILL_DELAY", 0.0)
    spare.enable({})
    yield
    spare.disable()
    client.end_all()
    assert client.live_processes() == []


@pytest.mark.keras
def test_a_spare_trains_a_run_and_the_next_one_serves_its_saved_model(spares, real_mnist, tmp_path):
    first = next_spare()
    trainer = client.ProcessTrainer(
        TrainJob(TrainConfig(epochs=1, data=real_mnist, train_limit=500, seed=1, validate=False))
    )
    events: list = []
    trainer.run(events.append, RunControl())
    assert isinstance(events[-1], Finished), events[-1]
    assert trainer.process.pid == first, "the run took the spare"
    trained = events[-1].model
    path = Path(tmp_path) / "m.keras"
    trained.save(path)
    second = next_spare(first)  # the run has ended: the next spare started
    opened = client.RemoteModel.open(path, "m", data=real_mnist)
    assert opened.pid == second, "the model file went to the spare"
    images = events[-1].predictions.images[:3]
    deadline = time.monotonic() + 60
    while not opened.ready:
        assert time.monotonic() < deadline, "the spare never loaded the model"
        time.sleep(0.02)
    np.testing.assert_allclose(opened.predict(images), trained.predict(images), atol=1e-5)
    trained.close()
    opened.close()
