"""Checkpoint files: written whole or not at all, read back exactly, refused with a reason when not ours."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from mnist_tui.config import TrainConfig
from mnist_tui.events import LossCurve, Started
from mnist_tui.runs import FINISHED, Recorder, checkpoints, open_store
from mnist_tui.runs.checkpoints import Checkpoint, CheckpointError, EpochRow
from mnist_tui.runs.recorder import Downsampler
from mnist_tui.runs.resume import ResumeError, plan_further, plan_resume, recent_interrupted, resumable
from tests.support import fakes
from tests.support.store import script


def checkpoint(epoch: int = 2, epochs: int = 10, **changes) -> Checkpoint:
    rng = np.random.default_rng(epoch)
    rows = tuple(EpochRow(n, 0.3 / n, 0.9, 0.25 / n, 0.95, 2.0, 2.0 * n) for n in range(1, epoch + 1))
    values = dict(
        epoch=epoch,
        epochs=epochs,
        config={"arch": "mlp", "epochs": epochs},
        backend="tensorflow",
        step=epoch * 63,
        order_seed=7,
        data_fingerprint="abc",
        model_variables=(rng.normal(size=(4, 3)).astype(np.float32), np.arange(2, dtype=np.uint32)),
        optimizer_variables=(np.array(epoch * 63, np.int64), rng.normal(size=(4, 3)).astype(np.float32)),
        history=rows,
        curve=LossCurve((0.5, 0.4, 0.3), 2, 0.25, 1),
        model_names=("dense/kernel", "seed_generator_state"),
        optimizer_names=("iteration", "dense_kernel_momentum"),
    )
    values.update(changes)
    return Checkpoint(**values)


def test_a_checkpoint_reads_back_exactly(tmp_path):
    written = checkpoint()
    checkpoints.write(tmp_path, written)
    read = checkpoints.read(tmp_path)
    assert (read.epoch, read.epochs, read.step, read.order_seed, read.backend) == (2, 10, 126, 7, "tensorflow")
    assert read.history == written.history and read.curve == written.curve
    for a, b in zip(
        read.model_variables + read.optimizer_variables, written.model_variables + written.optimizer_variables
    ):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    assert checkpoints.describe(tmp_path) == (2, 10)
    assert not (tmp_path / checkpoints.BEST_NAME).exists()


def test_the_best_is_a_link_that_outlives_the_next_last(tmp_path):
    checkpoints.write(tmp_path, checkpoint(2, best=True))
    checkpoints.write(tmp_path, checkpoint(3))
    assert checkpoints.read(tmp_path).epoch == 3
    assert checkpoints.read(tmp_path, best=True).epoch == 2
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left


def test_a_write_that_fails_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    checkpoints.write(tmp_path, checkpoint(2))

    def full_disk(path, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoints, "atomic_write", full_disk)
    with pytest.raises(OSError):
        checkpoints.write(tmp_path, checkpoint(3))
    assert checkpoints.read(tmp_path).epoch == 2


@pytest.mark.parametrize(
    "damage, reason",
    [
        (lambda data: data[: len(data) // 2], "damaged"),
        (lambda data: b"", "not an mnist-tui checkpoint"),
        (lambda data: b"hello, world", "not an mnist-tui checkpoint"),
    ],
    ids=["truncated", "empty", "text"],
)
def test_a_damaged_checkpoint_is_refused_with_a_reason(tmp_path, damage, reason):
    checkpoints.write(tmp_path, checkpoint())
    path = tmp_path / checkpoints.LAST_NAME
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(CheckpointError, match=reason):
        checkpoints.read(tmp_path)
    assert checkpoints.describe(tmp_path) is None


def npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def test_foreign_and_other_version_checkpoints_are_refused(tmp_path):
    path = tmp_path / checkpoints.LAST_NAME
    path.write_bytes(npz(weights=np.zeros(3)))
    with pytest.raises(CheckpointError, match="not an mnist-tui checkpoint"):
        checkpoints.read(tmp_path)
    data = checkpoints.encode(checkpoint())
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        meta = json.loads(np.load(io.BytesIO(archive.read("meta.npy"))).tobytes())
    meta.update(version=0, written_by="0.0.1")
    path.write_bytes(npz(meta=np.frombuffer(json.dumps(meta).encode(), np.uint8)))
    with pytest.raises(CheckpointError, match=r"format 0 \(written by mnist-tui 0.0.1\).*reads format 1 only"):
        checkpoints.read(tmp_path)
    with pytest.raises(CheckpointError, match="no checkpoint"):
        checkpoints.read(tmp_path / "elsewhere")


def test_a_downsampler_goes_on_exactly_where_it_was():
    whole, first = Downsampler(8), Downsampler(8)
    values = [float(v) for v in np.linspace(1, 0, 37)]
    for v in values:
        whole.add(v)
    for v in values[:23]:
        first.add(v)
    later = Downsampler.restored(first.state(), 8)
    for v in values[23:]:
        later.add(v)
    np.testing.assert_allclose(later.values(), whole.values())
    assert later.every == whole.every


def test_a_resumed_run_continues_its_own_record(tmp_path):
    config = TrainConfig(epochs=4)
    store = open_store(tmp_path)
    recorder = Recorder(store, lambda event: None, config)
    for event in script(config, epochs=3, outcome="interrupted", batches=False):
        recorder(event)
    recorder.close()
    run_id = recorder.run_id
    assert store.get_run(run_id).status == "interrupted"
    checkpoints.write(store.run_dir(run_id), checkpoint(2, 4))
    assert resumable(store.get_run(run_id)) == (2, 4)
    assert recent_interrupted(store.list_runs(), store.get_run(run_id).ended_at + 60).id == run_id
    plan = plan_resume(store, run_id)
    assert plan.resume_id == run_id and plan.config.epochs == 4 and plan.checkpoint.epoch == 2

    seen = []
    resumed = Recorder(store, seen.append, plan.config, resume_id=run_id)
    assert resumed.start() == run_id
    earlier = tuple(fakes.epoch(n, 4) for n in (1, 2))
    resumed(Started(config, 4, 10, 1, "", 600, 100, earlier=earlier, earlier_curve=LossCurve((0.5, 0.4)), resumed=True))
    assert [e.epoch for e in store.get_run(run_id).epochs] == [1, 2]  # epoch 3, trained after the checkpoint, went
    for event in (fakes.epoch(3, 4), fakes.epoch(4, 4), *script(config, epochs=0, batches=False)[-1:]):
        resumed(event)
    run = store.get_run(run_id)
    assert run.status == FINISHED and [e.epoch for e in run.epochs] == [1, 2, 3, 4] and len(run.resumed_at) == 1
    assert run.batch_losses is not None and list(run.batch_losses[:2]) == pytest.approx([0.5, 0.4])
    with pytest.raises(ResumeError, match="is finished; to train it more, use --continue"):
        plan_resume(store, run_id)
    further = plan_further(store, run_id, 3)
    assert further.parent_id == run_id and further.resume_id is None and further.config.epochs == 3
    child = Recorder(store, lambda event: None, further.config, parent_id=run_id)
    assert store.get_run(child.start()).parent_id == run_id


def test_a_run_without_a_checkpoint_cannot_resume(tmp_path):
    store = open_store(tmp_path)
    recorder = Recorder(store, lambda event: None, TrainConfig())
    recorder.start()
    recorder.close()
    assert resumable(store.get_run(recorder.run_id)) is None
    with pytest.raises(ResumeError, match="no checkpoint"):
        plan_resume(store, recorder.run_id)
    with pytest.raises(ResumeError, match="there is no run 42"):
        plan_resume(store, 42)
    with pytest.raises(ResumeError, match="interrupted, not finished"):
        plan_further(store, recorder.run_id, 2)
