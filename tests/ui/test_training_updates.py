"""What a batch event repaints on the training screen: only what it changed."""

from __future__ import annotations

from textual.widgets import Label

from mnist_tui.app import MnistApp
from mnist_tui.events import BatchEnd
from tests.support import fakes


async def test_batch_events_repaint_the_eta_only_when_its_text_changes(monkeypatch):
    # 20 batch events 50 ms of training apart: the ETA (whole seconds) reads the same for several in a row
    steps = [200 + 5 * i for i in range(20)]
    events = [*fakes.PREFIX, *(BatchEnd(1, step, fakes.STEPS, 0.3, 0.9, step * 0.01) for step in steps)]
    app = MnistApp(trainer_factory=lambda c: fakes.ScriptedTrainer(events), threaded=False)
    updates: list[str] = []
    update = Label.update

    def counted(self, content="", *, layout=True):
        if self.id == "eta":
            updates.append(str(content))
        return update(self, content, layout=layout)

    monkeypatch.setattr(Label, "update", counted)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.2)
        shown = str(app.screen.query_one("#eta", Label).render())
    texts = [text for text in updates if text]
    assert len(set(texts)) < 20  # the events did repeat a text
    assert len(texts) == len(set(texts)), texts  # each text painted once
    assert shown == texts[-1]
