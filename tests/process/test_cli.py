"""Command-line parsing: validation at parse time, one-line errors, and no TensorFlow on the way."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mnist_tui.commands.train import parse_args
from mnist_tui.config import ConfigError, TrainConfig


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--epochs", "0"], "epochs must be at least 1 (got 0)"),
        (["--epochs", "-3"], "epochs must be at least 1 (got -3)"),
        (["--epochs", "ten"], "expected a whole number, got 'ten'"),
        (["--batch-size", "0"], "batch size must be at least 1"),
        (["--hidden-units", "0"], "hidden units must be at least 1"),
        (["--dropout", "1"], "dropout must be at least 0 and below 1"),
        (["--dropout", "-0.1"], "dropout must be at least 0 and below 1"),
        (["--dropout", "nan"], "dropout must be at least 0 and below 1"),
        (["--learning-rate", "0"], "learning rate must be a number above 0"),
        (["--learning-rate=-1e-3"], "learning rate must be a number above 0"),
        (["--learning-rate", "fast"], "expected a number, got 'fast'"),
        (["--arch", "transformer"], "invalid choice: 'transformer'"),
        (["--data", "/no/such/place"], "no such file or directory: /no/such/place"),
        (["--model", "/no/such/model.keras"], "no such file or directory"),
        (["--save", "model.h5"], "must end in .keras"),
        (["--save", "/no/such/dir/model.keras"], "directory does not exist"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_bad_options_exit_2_with_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        parse_args(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("mnist-tui: error: ")
    assert message in err


def test_defaults_are_the_reference_model():
    options = parse_args([])
    assert options.config == TrainConfig()
    c = options.config
    assert (c.arch, c.epochs, c.batch_size, c.hidden_units, c.dropout, c.learning_rate) == (
        "mlp",
        10,
        32,
        128,
        0.2,
        1e-3,
    )
    assert not options.headless and options.model is None


def test_options_reach_the_config(tmp_path):
    options = parse_args(
        [
            "--data",
            str(tmp_path),
            "--epochs",
            "3",
            "--batch-size",
            "64",
            "--hidden-units",
            "32",
            "--dropout",
            "0",
            "--learning-rate",
            "0.01",
            "--seed",
            "7",
            "--train-limit",
            "500",
            "--arch",
            "cnn",
            "--headless",
            "--save",
            str(tmp_path / "m.keras"),
            "--no-validation",
        ]
    )
    c = options.config
    assert (c.epochs, c.batch_size, c.hidden_units, c.dropout, c.learning_rate) == (3, 64, 32, 0.0, 0.01)
    assert (c.seed, c.train_limit, c.arch, c.validate, c.data, c.save) == (
        7,
        500,
        "cnn",
        False,
        tmp_path,
        tmp_path / "m.keras",
    )
    assert options.headless


@pytest.mark.parametrize(
    "changes",
    [
        {"epochs": 0},
        {"batch_size": 0},
        {"dropout": 1.0},
        {"learning_rate": 0.0},
        {"arch": "rnn"},
        {"hidden_units": 1.5},
    ],
)
def test_config_validates_itself(changes):
    with pytest.raises(ConfigError):
        TrainConfig(**changes)


def run_module(*args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mnist_tui", *args], capture_output=True, text=True, timeout=60)


def test_help_explains_every_option():
    result = run_module("--help")
    assert result.returncode == 0
    for option in (
        "--data",
        "--epochs",
        "--batch-size",
        "--hidden-units",
        "--dropout",
        "--learning-rate",
        "--seed",
        "--arch",
        "--save",
        "--model",
        "--headless",
        "--train-limit",
        "--log-file",
    ):
        assert option in result.stdout


def test_parsing_and_the_ui_do_not_import_tensorflow():
    code = (
        "import sys; from mnist_tui import cli, app, render, predictions, data, headless; from mnist_tui.commands import train;"
        "train.parse_args(['--epochs', '2']);"
        "bad = [m for m in ('tensorflow', 'keras') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_not_a_terminal_suggests_headless():
    result = run_module("--epochs", "1")
    assert result.returncode == 2
    assert "--headless" in result.stderr and "Traceback" not in result.stderr
