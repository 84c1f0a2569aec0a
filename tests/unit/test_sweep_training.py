"""The Keras trainer as a sweep's pruner uses it: a stop asked while an epoch's event is handled ends the run there."""

from __future__ import annotations

import pytest

from mnist_tui.events import BatchEnd, EpochEnd, Finished, RunControl, Stopped
from tests.unit.test_training import TINY, FakeClock, run

pytestmark = pytest.mark.keras


def test_a_stop_at_an_epoch_end_ends_the_run_after_that_epoch() -> None:
    def prune_after_epoch_1(event, control):
        if isinstance(event, EpochEnd) and event.epoch == 1:
            control.stop.set()

    trainer, events = run(
        TINY.with_changes(epochs=4), control=RunControl(), clock=FakeClock(1.0), sink_hook=prune_after_epoch_1
    )
    epochs = [e for e in events if isinstance(e, EpochEnd)]
    assert [e.epoch for e in epochs] == [1]  # not a batch of epoch 2, not a partial epoch
    assert not any(isinstance(e, (Stopped,)) for e in events)
    assert not any(isinstance(e, BatchEnd) and e.epoch == 2 for e in events)
    assert isinstance(events[-1], Finished) and events[-1].stopped_early
    assert events[-1].history["loss"] and len(events[-1].history["loss"]) == 1
