"""Pilot tests of the train-again form and the save dialog (fakes, no Keras)."""

from __future__ import annotations

import gc
import threading
import weakref

import pytest
from textual.widgets import Button, Input

from mnist_tui.app import MnistApp
from mnist_tui.config import TrainConfig
from mnist_tui.screens.dialogs import SaveDialog, TrainForm
from mnist_tui.screens.results import ResultsScreen
from tests.support import fakes
from tests.support.pilot import wait_until


def scripted_app(config: TrainConfig | None = None, models: list | None = None, freeze_heap: bool = False) -> MnistApp:
    """Every run (the first and each train-again) replays a finished run that returns a model."""

    def trainer(config: TrainConfig) -> fakes.ScriptedTrainer:
        model = fakes.TemplateModel()
        if models is not None:
            models.append(weakref.ref(model))
        return fakes.ScriptedTrainer(fakes.finished(model=model))

    return MnistApp(config, trainer_factory=trainer, threaded=False, freeze_heap=freeze_heap)


async def replace(pilot, selector: str, text: str) -> None:
    field = pilot.app.screen.query_one(selector, Input)
    field.value = text
    await pilot.pause()


async def test_form_checks_each_field_as_it_is_typed():
    app = scripted_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("t")
        form = app.screen
        assert isinstance(form, TrainForm)
        start = form.query_one("#start", Button)
        assert not start.disabled and form.errors == {}
        await pilot.press("backspace", "backspace", "0")  # epochs "10" -> "0"
        assert "epochs must be at least 1" in form.errors["epochs"] and start.disabled
        assert form.query_one("#field-epochs").has_class("-invalid")
        await replace(pilot, "#field-dropout", "1")
        await replace(pilot, "#field-learning_rate", "fast")
        assert set(form.errors) == {"epochs", "dropout", "learning_rate"}
        assert form.errors["learning_rate"] == "expected a number, got 'fast'"
        await pilot.press("enter")  # refused while anything is wrong
        assert app.screen is form
        await replace(pilot, "#field-epochs", "3")
        await replace(pilot, "#field-dropout", "0.5")
        await replace(pilot, "#field-learning_rate", "2e-3")
        assert form.errors == {} and not start.disabled


async def test_form_starts_a_new_run_and_lets_go_of_the_old_one(tmp_path):
    models: list[weakref.ref] = []
    app = scripted_app(TrainConfig(save=tmp_path / "first.keras"), models)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        first_results = app.screen
        assert isinstance(first_results, ResultsScreen)
        await pilot.press("t")
        await replace(pilot, "#field-epochs", "4")
        app.screen.query_one("#field-arch").value = "cnn"
        await pilot.press("enter")
        await pilot.pause()
        assert app.config.epochs == 4 and app.config.arch == "cnn"
        assert app.config.save is None  # never overwrites the first run's file
        assert isinstance(app.screen, ResultsScreen) and app.screen is not first_results
        assert app.screen.model is models[1]()


async def test_escape_cancels_the_form():
    app = scripted_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        results = app.screen
        await pilot.press("t", "escape")
        assert app.screen is results and app.config == TrainConfig()


async def test_a_run_asked_for_while_the_last_ones_screen_still_mounts_replaces_it_cleanly():
    # Keys typed ahead can ask for a second run before the first run's screen has mounted its
    # widgets; Textual cannot pop such a screen (its widgets' mount handlers then fail).
    models: list[weakref.ref] = []
    app = scripted_app(models=models)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.start_training(app.config)
        app.start_training(app.config)
        await wait_until(pilot, lambda: len(models) == 3 and isinstance(app.screen, ResultsScreen))
        assert [type(screen).__name__ for screen in app.screen_stack] == ["TrainingScreen"] * 2 + ["ResultsScreen"]


@pytest.mark.parametrize("freeze_heap", [False, True])
async def test_several_runs_leave_nothing_behind(freeze_heap, monkeypatch):
    import mnist_tui.app

    calls: list[str] = []

    class Recorder:  # the app's gc module, recording freeze/unfreeze
        def freeze(self) -> None:
            calls.append("freeze")
            gc.freeze()

        def unfreeze(self) -> None:
            calls.append("unfreeze")
            gc.unfreeze()

    monkeypatch.setattr(mnist_tui.app, "gc", Recorder())
    models: list[weakref.ref] = []
    app = scripted_app(models=models, freeze_heap=freeze_heap)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            threads, stack = threading.active_count(), len(app.screen_stack)
            for run in range(8):
                await pilot.press("t", "enter")
                # (with freeze_heap, the results' heap is frozen after their first frame)
                await wait_until(
                    pilot,
                    lambda: (
                        isinstance(app.screen, ResultsScreen)
                        and len(models) == run + 2
                        and calls.count("freeze") == (run + 2 if freeze_heap else 0)
                    ),
                )
            # with freeze_heap each run's results are frozen, and thawed when the next run starts
            assert calls == (["freeze"] + ["unfreeze", "freeze"] * 8 if freeze_heap else [])
            gc.unfreeze()  # as on exit
            assert threading.active_count() <= threads
            assert len(app.screen_stack) <= stack + 1  # the first screen stays, retired
            # No growth: the current model, plus at most a couple from closed screens that
            # Textual's message loops have not let go of yet (which ones varies from run to
            # run, and a loop may hold one a moment longer: give them a few turns).
            for _ in range(100):
                gc.collect()
                alive = [ref() is not None for ref in models]
                if sum(alive) <= 3:
                    break
                await pilot.pause(0.05)
            assert alive[-1] and sum(alive) <= 3, alive
    finally:
        gc.unfreeze()


async def test_save_dialog_writes_and_asks_before_replacing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = scripted_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("s")
        dialog = app.screen
        assert isinstance(dialog, SaveDialog)
        assert dialog.query_one(Input).value == str(
            tmp_path / "mnist-templates.keras"
        )  # the working directory, absolute
        await pilot.press("enter")
        assert (tmp_path / "mnist-templates.keras").read_bytes() == b"fake model"
        assert isinstance(app.screen, ResultsScreen)
        assert any("Saved the model" in n.message for n in app._notifications)

        (tmp_path / "mnist-templates.keras").write_bytes(b"precious")
        await pilot.press("s", "enter")  # exists: asks first
        message = str(app.screen.query_one("#save-message").render())
        assert "exists: enter again to replace it" in message
        assert (tmp_path / "mnist-templates.keras").read_bytes() == b"precious"
        await pilot.press("enter")
        assert (tmp_path / "mnist-templates.keras").read_bytes() == b"fake model"


async def test_save_dialog_refuses_bad_paths(tmp_path):
    (tmp_path / "a-file").write_bytes(b"")
    app = scripted_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("s")
        for text, expected in [
            (str(tmp_path / "a-file" / "m.keras"), "is not a folder"),
            (str(tmp_path), "is a folder"),
            ("", "type a file name"),
        ]:
            await replace(pilot, "#save-path", text)
            await pilot.press("enter")
            assert expected in str(app.screen.query_one("#save-message").render())
        assert isinstance(app.screen, SaveDialog) and [p.name for p in tmp_path.iterdir()] == ["a-file"]


async def test_save_dialog_adds_keras_creates_a_folder_when_asked_and_remembers_the_path(tmp_path, monkeypatch):
    start = tmp_path / "start"
    start.mkdir()
    monkeypatch.chdir(start)
    app = scripted_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("s")
        await replace(pilot, "#save-path", "models/best")  # relative, no .keras, a folder to make
        await pilot.press("enter")
        message = str(app.screen.query_one("#save-message").render())
        assert f"{start / 'models'} does not exist: enter again to create it" in message
        assert not (start / "models").exists()
        await pilot.press("enter")  # again: create it, and save
        await pilot.pause()
        assert (start / "models" / "best.keras").read_bytes() == b"fake model"
        assert isinstance(app.screen, ResultsScreen)
        assert app.session.last_save == ("templates", start / "models" / "best.keras")

        monkeypatch.chdir(tmp_path)  # the session's last path wins over the directory
        await pilot.press("s")
        assert app.screen.query_one(Input).value == str(start / "models" / "best.keras")
        await pilot.press("escape")


def test_the_suggested_save_path_is_absolute_and_follows_the_last_save(tmp_path, monkeypatch):
    from mnist_tui.session import Session

    monkeypatch.chdir(tmp_path)
    session = Session(TrainConfig())
    assert session.save_path_for("run-3") == tmp_path / "mnist-run-3.keras"
    session.remember_save("run-3", tmp_path / "kept" / "mine.keras")
    assert session.save_path_for("run-3") == tmp_path / "kept" / "mine.keras"
    assert session.save_path_for("run-4") == tmp_path / "kept" / "mnist-run-4.keras"
    assert all(session.save_path_for(name).is_absolute() for name in ("run-3", "run-4"))


async def test_form_sets_the_training_limit_and_the_seed():
    app = scripted_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("t")
        form = app.screen
        assert isinstance(form, TrainForm)
        labels = [str(label.render()) for label in form.query(".field-label")]
        assert "Seed" in labels and "Training limit" in labels
        limit, seed = form.query_one("#field-train_limit", Input), form.query_one("#field-seed", Input)
        assert limit.value == seed.value == ""  # not set: all images, a new seed
        assert "all training images" in limit.placeholder
        await replace(pilot, "#field-train_limit", "0")
        assert form.query_one("#field-train_limit").has_class("-invalid")
        assert form.query_one("#start", Button).disabled
        await replace(pilot, "#field-train_limit", "2000")
        await replace(pilot, "#field-seed", "7")
        assert not form.query_one("#start", Button).disabled
        assert form.values()["train_limit"] == 2000 and form.values()["seed"] == 7
        await replace(pilot, "#field-seed", "")
        assert form.values()["seed"] is None and not form.errors
