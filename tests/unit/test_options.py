"""The options table: every consumer (command line, form, run record, runs table, comparison,
configuration panel) reads it, so a new option is one table entry.

The "new option" is ``steps_per_execution``: a TrainConfig field that is not an option today.
Adding its entry to the table (monkeypatched) must be all it takes to put it everywhere.
"""

from __future__ import annotations

from dataclasses import fields, replace

import pytest
from textual.app import App

from mnist_tui import config
from mnist_tui.commands.train import build_parser, parse_args
from mnist_tui.config import ConfigError, Option, TrainConfig, check_int, whole_number
from mnist_tui.runs import compare, open_store
from mnist_tui.runs import format as fmt
from mnist_tui.runs.model import Run
from mnist_tui.screens.dialogs import TrainForm

STEPS = Option(
    "steps_per_execution",
    "batches per call into the graph (default: %(default)s)",
    parse=whole_number,
    check=lambda value: check_int("steps per execution", value, 2),  # stricter than TrainConfig's own check
    metavar="N",
    label="Steps per call",
    column="steps",
)


@pytest.fixture
def new_option(monkeypatch):
    """The table with one more entry, and nothing else changed."""
    monkeypatch.setattr(config, "OPTIONS", (*config.OPTIONS, STEPS))
    return STEPS


def recorded_runs(home, *configs: TrainConfig) -> list[Run]:
    store = open_store(home)
    ids = [store.create_run(c) for c in configs]
    runs = [store.get_run(run_id) for run_id in ids]
    store.close()
    return runs


class FormApp(App):
    def __init__(self, config: TrainConfig) -> None:
        super().__init__()
        self.config = config

    def on_mount(self) -> None:
        self.push_screen(TrainForm(self.config))


async def form_fields(config: TrainConfig) -> tuple[list[str], dict[str, object]]:
    """The ids of the form's editable fields (``field-`` cut off), in order, and the values they parse to."""
    app = FormApp(config)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        form = app.screen
        assert isinstance(form, TrainForm)
        names = [w.id.removeprefix("field-") for w in form.query("Input, Select") if w.id and w.id.startswith("field-")]
        return names, form.values()


# ---------------------------------------------------------------------- the table covers everything


def test_every_config_field_is_an_option_or_named_as_not_one():
    names = [option.name for option in config.OPTIONS]
    assert len(names) == len(set(names))
    assert not set(names) & set(config.NON_OPTIONS)
    assert set(names) | set(config.NON_OPTIONS) == {f.name for f in fields(TrainConfig)}
    columns = [option.column for option in config.OPTIONS if option.column]
    assert len(columns) == len(set(columns))


def test_the_command_line_has_a_flag_for_every_option():
    flags = {action.dest: action.option_strings for action in build_parser()._actions}
    for option in config.OPTIONS:
        assert flags.get(option.name) == [option.cli_flag], option.name
    assert parse_args([]).config == TrainConfig()


async def test_the_form_edits_exactly_the_form_options():
    names, values = await form_fields(TrainConfig(arch="cnn", hidden_units=64))
    assert names == [option.name for option in config.form_options()]
    assert names == [
        "arch", "epochs", "batch_size", "hidden_units", "dropout", "learning_rate", "seed", "train_limit"
    ]  # fmt: skip
    assert values == {
        "arch": "cnn",
        "epochs": 10,
        "batch_size": 32,
        "hidden_units": 64,
        "dropout": 0.2,
        "learning_rate": 1e-3,
        "seed": None,  # blank: not set
        "train_limit": None,
    }
    _, values = await form_fields(TrainConfig(seed=3, train_limit=2000))
    assert values["seed"] == 3 and values["train_limit"] == 2000  # a quick, repeatable trial from the app


def test_hidden_units_help_says_what_it_means_for_each_architecture():
    text = config.option("hidden_units").help
    assert config.option("hidden_units").archs == config.ARCHITECTURES
    assert "mlp's only hidden layer" in text and "cnn's dense layer after the convolutions" in text


# ---------------------------------------------------------------------- a new option is one entry


def test_a_new_option_reaches_the_command_line(new_option, capsys):
    assert "--steps-per-execution N" in build_parser().format_help()
    assert parse_args(["--steps-per-execution", "7"]).config.steps_per_execution == 7
    with pytest.raises(SystemExit):
        parse_args(["--steps-per-execution", "1"])
    assert "steps per execution must be at least 2 (got 1)" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="at least 2"):
        TrainConfig(steps_per_execution=1)  # TrainConfig runs the table's checks


async def test_a_new_option_reaches_the_form(new_option):
    names, values = await form_fields(TrainConfig(steps_per_execution=7))
    assert names[-1] == "steps_per_execution" and values["steps_per_execution"] == 7


def test_a_new_option_reaches_the_record_the_runs_table_and_the_comparison(new_option, tmp_path):
    assert TrainConfig(steps_per_execution=7).describe()["steps_per_execution"] == 7
    tuned, default = recorded_runs(tmp_path, TrainConfig(steps_per_execution=7), TrainConfig())
    assert "steps_per_execution" in Run.record_fields()
    assert tuned.to_record()["steps_per_execution"] == 7 and default.to_record()["steps_per_execution"] == 50
    assert tuned.options == {"steps": 7} and fmt.options(tuned) == "steps=7" and default.options == {}
    assert compare.OPTION_KEYS["steps_per_execution"] == "steps"
    assert compare.differing_options([tuned, default]) == ["steps_per_execution"]
    assert compare.apart(tuned, ["steps_per_execution"]) == "steps=7"


def test_an_option_one_architecture_uses_is_hidden_for_the_other(monkeypatch, tmp_path):
    monkeypatch.setattr(config, "OPTIONS", (*config.OPTIONS, replace(STEPS, archs=("cnn",))))
    assert "steps_per_execution" not in TrainConfig(steps_per_execution=7).describe()
    assert TrainConfig(arch="cnn", steps_per_execution=7).describe()["steps_per_execution"] == 7
    mlp_7, mlp_50, cnn_7 = recorded_runs(
        tmp_path,
        TrainConfig(steps_per_execution=7),
        TrainConfig(),
        TrainConfig(arch="cnn", steps_per_execution=7),
    )
    assert mlp_7.options == {} and fmt.options(mlp_7) == "" and cnn_7.options == {"steps": 7}
    assert compare.option_value(mlp_7, "steps_per_execution") is compare.NOT_SET
    assert compare.differing_options([mlp_7, mlp_50]) == []
    assert compare.differing_options([mlp_7, cnn_7]) == ["arch", "steps_per_execution"]
    assert compare.apart(mlp_7, ["arch", "steps_per_execution"]) == "mlp"
