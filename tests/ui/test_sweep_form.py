"""The sweep form (T beside train-again): fields checked as typed, a start that launches the sweep and opens it live.

No sweep trains here: a fake launcher creates the sweep's study as ``mnist-tui sweep`` would,
after checking that the command line reads the form's arguments back into the same sweep.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Button, Input, Label, Select, Static

from mnist_tui.app import MnistApp
from mnist_tui.commands.sweep import parse_sweep_args
from mnist_tui.config import TrainConfig
from mnist_tui.screens.results import ResultsScreen
from mnist_tui.screens.sweep import SweepScreen
from mnist_tui.screens.sweep_form import SweepForm
from mnist_tui.sweeps import launch
from mnist_tui.sweeps.launch import StartedSweep, SweepRequest
from mnist_tui.sweeps.space import DEFAULT_SPACES, parse_space
from tests.support import fakes

SIZES = [(80, 24), (120, 40)]
NAME = "sweep-20261203-080000"
CONFIG = TrainConfig(epochs=1, train_limit=1000, seed=1)


class FakeProcess:
    exitcode: int | None = None


class FakeLauncher:
    """Creates the sweep's study and registers it, as the sweep process does first; trains nothing."""

    def __init__(self, *, fail: str | None = None) -> None:
        self.requests: list[SweepRequest] = []
        self.process = FakeProcess()
        self.fail = fail

    def __call__(self, request: SweepRequest, home: Path) -> StartedSweep:
        from mnist_tui.runs import open_store
        from mnist_tui.runs.trials import add_sweep
        from mnist_tui.sweeps.study import SweepSpec, create_study, journal_path, open_storage

        self.requests.append(request)
        log = home / "sweeps" / f"{request.name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        if self.fail:
            log.write_text(f"mnist-tui: error: {self.fail}\n")
            self.process.exitcode = 1
            return StartedSweep(request.name, self.process, log)
        args = parse_sweep_args(request.argv())  # what the sweep process would read
        base = TrainConfig(**args.fixed)
        space = tuple(p for p in parse_space(args.space or "") if p.name not in args.fixed)
        spec = SweepSpec(args.name, space, base, base.seed, args.prune, args.trials, args.timeout)
        storage = str(journal_path(home, args.name))
        create_study(spec, open_storage(storage))
        add_sweep(open_store(home), args.name, storage)
        return StartedSweep(request.name, self.process, log)


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("MNIST_TUI_HOME", str(tmp_path))
    monkeypatch.setattr(launch, "default_name", lambda: NAME)
    return tmp_path


def results_app(launcher=None, config: TrainConfig = CONFIG) -> MnistApp:
    app = MnistApp(
        config,
        predictions=fakes.fake_predictions(),
        model=fakes.TemplateModel(),
        sweep_launcher=launcher or FakeLauncher(),
    )
    app.animation_level = "none"
    return app


async def open_form(pilot) -> SweepForm:
    await pilot.press("T")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    form = pilot.app.screen
    assert isinstance(form, SweepForm)
    return form


async def replace(pilot, selector: str, text: str) -> None:
    pilot.app.screen.query_one(selector, Input).value = text
    await pilot.pause()


FORM_STATES = {
    "sweep-form": {},
    "sweep-form-errors": {"#field-space": "lr=1e-2..1e-4:log colour=red", "#field-trials": "0", "#field-name": "a b"},
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("state", list(FORM_STATES))
def test_sweep_form(snap_compare, state, size, home):
    async def act(pilot):
        form = await open_form(pilot)
        for selector, text in FORM_STATES[state].items():
            await replace(pilot, selector, text)
        for widget in form.query(Input):
            widget.cursor_blink = False

    assert snap_compare(results_app(), terminal_size=size, run_before=act)


async def test_the_form_offers_the_architectures_space_and_fixes_the_rest(home) -> None:
    app = results_app(config=CONFIG.with_changes(arch="cnn", hidden_units=256))
    async with app.run_test(size=(120, 40)) as pilot:
        form = await open_form(pilot)
        assert form.query_one("#field-space", Input).value == DEFAULT_SPACES["cnn"]
        assert form.query_one("#field-name", Input).value == NAME
        fixed = str(form.query_one("#sweep-fixed", Static).render())
        # hidden units are searched: the current run's 256 does not fix them
        assert "--arch cnn --epochs 1 --seed 1 --train-limit 1000" in fixed and "hidden" not in fixed
        await replace(pilot, "#field-space", "lr=1e-3..1e-2:log")
        assert "--hidden-units 256" in str(form.query_one("#sweep-fixed", Static).render())


async def test_errors_show_inline_as_typed(home) -> None:
    app = results_app()
    async with app.run_test(size=(120, 40)) as pilot:
        form = await open_form(pilot)
        start = form.query_one("#start", Button)
        assert not form.errors and not start.disabled

        def error(name: str) -> str:
            label = form.query_one(f"#field-{name}-error", Label)
            return str(label.render()) if label.display else ""

        await replace(pilot, "#field-space", "lr=1e-2..1e-4:log")
        assert "the range's low end must be below its high end" in error("space") and start.disabled
        assert form.query_one("#field-space").has_class("-invalid")
        await replace(pilot, "#field-space", "lr=1e-4..1e-2:log colour=red")
        assert error("space") == "cannot search 'colour' (a sweep searches arch, epochs, batch, hidden, dropout, lr)"
        await replace(pilot, "#field-name", "my sweep")
        assert "a sweep's name is 1 to 60 letters" in error("name")
        await replace(pilot, "#field-trials", "0")
        assert error("trials") == "trials must be at least 1 (got 0)"
        await replace(pilot, "#field-trials", "")
        assert error("trials") == "give a number of trials, a timeout or both"
        await replace(pilot, "#field-workers", "many")
        assert error("workers") == "expected a whole number, got 'many'"
        await replace(pilot, "#field-seed", "-1")
        assert "seed" in error("seed")
        await pilot.press("enter")  # refused while anything is wrong
        assert app.screen is form and not app.sweep_launcher.requests
        for name, text in [("space", "lr=1e-4..1e-2:log"), ("name", "lr-search"), ("trials", "")]:
            await replace(pilot, f"#field-{name}", text)
        await replace(pilot, "#field-timeout", "600")
        await replace(pilot, "#field-workers", "auto")
        await replace(pilot, "#field-seed", "")
        assert not form.errors and not start.disabled


async def test_a_taken_name_is_refused(home) -> None:
    from mnist_tui.runs import open_store
    from mnist_tui.runs.trials import add_sweep

    add_sweep(open_store(home), NAME, str(home / "other.journal"))
    async with results_app().run_test(size=(120, 40)) as pilot:
        form = await open_form(pilot)
        assert form.errors == {"name": f"a sweep named {NAME!r} exists: choose another name"}
        assert form.query_one("#start", Button).disabled


async def test_start_launches_the_sweep_and_opens_it_live(home) -> None:
    launcher = FakeLauncher()
    app = results_app(launcher)
    async with app.run_test(size=(120, 40)) as pilot:
        form = await open_form(pilot)
        await replace(pilot, "#field-trials", "2")
        form.query_one("#field-prune", Select).value = "hyperband"
        await pilot.pause()
        await pilot.click("#start")
        for _ in range(50):
            await pilot.pause(0.05)
            if isinstance(app.screen, SweepScreen):
                break
        screen = app.screen
        assert isinstance(screen, SweepScreen) and screen.live
        assert screen.view.spec.name == NAME and screen.view.spec.trials == 2
        assert screen.view.spec.base.train_limit == 1000 and screen.view.spec.base.epochs == 1
        (request,) = launcher.requests
        assert request.trials == 2 and request.seed == 1 and request.space == DEFAULT_SPACES["mlp"]
        assert request.prune == screen.view.spec.prune == "hyperband"
        launcher.process.exitcode = 0  # the sweep ends: the app says so
        await pilot.pause(0.6)
        assert any("has finished" in str(n.message) for n in app._notifications)


async def test_a_sweep_that_cannot_start_says_why(home) -> None:
    app = results_app(FakeLauncher(fail="the data directory /nowhere does not exist"))
    async with app.run_test(size=(120, 40)) as pilot:
        await open_form(pilot)
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, ResultsScreen)
        messages = [str(n.message) for n in app._notifications]
        assert f"Sweep {NAME}: the data directory /nowhere does not exist" in messages


async def test_escape_cancels(home) -> None:
    launcher = FakeLauncher()
    app = results_app(launcher)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_form(pilot)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ResultsScreen) and not launcher.requests


class UntilStopped:
    """A run that trains until it is stopped or cancelled."""

    def __init__(self, config: TrainConfig) -> None:
        self.config = config

    def run(self, sink, control) -> None:
        while not control.halted:
            control.stop.wait(0.02)


async def test_during_a_run_the_key_says_when_a_sweep_can_start(home) -> None:
    launcher = FakeLauncher()
    app = MnistApp(CONFIG, trainer_factory=UntilStopped, sweep_launcher=launcher)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("T")
        await pilot.pause()
        assert not isinstance(app.screen, SweepForm)
        assert "A sweep can start once this run ends (s stops it early)." in [
            str(n.message) for n in app._notifications
        ]
        app.cancel_runs()


async def test_the_palette_and_the_help_offer_the_sweep(home) -> None:
    from mnist_tui.keys import help_rows

    app = results_app()
    async with app.run_test(size=(120, 40)):
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Sweep: search the options (a new sweep)" in titles
    assert any(row.keys == "T" and "sweep" in row.text for row in help_rows("results"))
    assert any(row.keys == "T" and "once the run has ended" in row.text for row in help_rows("training"))


async def test_a_holdout_typed_in_the_form_is_fixed_for_every_trial(home) -> None:
    launcher = FakeLauncher()
    app = results_app(launcher)
    async with app.run_test(size=(120, 40)) as pilot:
        form = await open_form(pilot)
        assert "--holdout" not in str(form.query_one("#sweep-fixed", Static).render())
        await replace(pilot, "#field-holdout", "0")
        assert form.errors == {"holdout": "holdout must be at least 1 (got 0)"}
        await replace(pilot, "#field-holdout", "10000")
        assert not form.errors
        assert "--holdout 10000" in str(form.query_one("#sweep-fixed", Static).render())
        await pilot.click("#start")
        await pilot.pause()
        (request,) = launcher.requests
        assert request.base.holdout == 10_000 and "--holdout" in request.argv()
