"""Command-line parsing: validation at parse time, one-line errors, and no TensorFlow on the way."""

from __future__ import annotations

import os
import subprocess
import sys
import time

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
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "mnist_tui", *args], capture_output=True, text=True, timeout=60, env=env
    )


def test_save_refuses_an_existing_file(tmp_path, capsys):
    target = tmp_path / "best.keras"
    target.write_bytes(b"a 96.8% model")
    with pytest.raises(SystemExit) as exc:
        parse_args(["--headless", "--save", str(target)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert f"{target} exists; add --overwrite to replace it" in err
    with pytest.raises(SystemExit):
        parse_args(["--save", str(target)])  # the app's --save (no --headless) refuses alike
    options = parse_args(["--headless", "--save", str(target), "--overwrite"])
    assert options.config.save == target and options.overwrite
    assert parse_args(["--save", str(tmp_path / "new.keras")]).config.save == tmp_path / "new.keras"


@pytest.mark.parametrize("headless", [True, False])
def test_save_to_an_existing_file_stops_before_training(tmp_path, headless):
    target = tmp_path / "best.keras"
    target.write_bytes(b"a 96.8% model")
    # no MNIST anywhere and a dead mirror: had anything started, it would fail differently
    args = ["--save", str(target), "--epochs", "1", "--data", str(tmp_path)] + (["--headless"] if headless else [])
    started = time.monotonic()
    result = run_module(*args, env_extra={"MNIST_TUI_HOME": str(tmp_path / "home")})
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("mnist-tui: error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "exists; add --overwrite" in result.stderr
    assert result.stdout == ""
    assert target.read_bytes() == b"a 96.8% model"
    assert not (tmp_path / "home").exists()  # no run was recorded
    assert time.monotonic() - started < 30


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


HEADLESS_INTO_A_PIPE = """
import sys
from mnist_tui.config import TrainConfig
from mnist_tui.events import EpochEnd, Failed, Started
from mnist_tui.headless import HeadlessReporter, line_console

reporter = HeadlessReporter(line_console(), line_console(sys.stderr))
config = TrainConfig(arch="cnn", learning_rate=0.000123456)
reporter(Started(config, 10, 1875, 1_234_567, "", 60_000, 10_000, precision="bfloat16 (auto: AMX)", backend="tensorflow (auto)"))
reporter(EpochEnd(1, 10, 0.123456, 0.987654, 0.0456789, 0.9912345, 123.4, 123.4))
reporter.stop_bars()
reporter(Failed("The training process exited with status 3 and said nothing more about why it stopped", hint="Details are in the log file " + "x" * 60))
"""


def test_headless_lines_are_never_wrapped_into_a_pipe():
    result = subprocess.run(
        [sys.executable, "-c", HEADLESS_INTO_A_PIPE],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "COLUMNS"},
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    started = next(line for line in out if line.startswith("Training cnn"))
    assert started.endswith("learning rate 0.000123456, bfloat16 (auto: AMX) on tensorflow (auto)"), out
    assert len(started) > 80
    epoch = next(line for line in out if line.startswith("Epoch 1/10"))
    assert "val_accuracy 0.9912  (" in epoch and epoch.endswith(")") and len(epoch) > 80, out
    assert all(line.startswith(("Training ", "Epoch ")) for line in out if line), out  # no continuation lines
    errors = result.stderr.splitlines()
    assert len(errors) == 1 and errors[0].endswith("x" * 60), errors


def test_a_model_too_large_for_memory_is_refused_at_once(tmp_path):
    from mnist_tui import footprint
    from mnist_tui.config import TrainConfig

    available = footprint.available_memory()
    huge = TrainConfig(epochs=1, hidden_units=3_000_000)
    if available is None or footprint.estimate(huge).total <= available:
        pytest.skip("this machine has the memory for 2.4 billion parameters (or does not say how much it has)")
    env = {k: v for k, v in os.environ.items() if k not in ("MNIST_TUI_DATA", "MNIST_TUI_MEMORY_CHECK")}
    env.update(HOME=str(tmp_path), XDG_CACHE_HOME=str(tmp_path / "cache"), MNIST_TUI_MIRRORS="http://127.0.0.1:9/")
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "mnist_tui", "--headless", "--epochs", "1", "--hidden-units", "3000000", "--no-record"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "mnist-tui: error: Out of memory while building the model (" in result.stderr
    assert "GB available). Try fewer hidden units (it was 3,000,000)" in result.stderr
    assert "could not download" not in result.stderr  # refused before the data was looked for
    assert time.monotonic() - started < 30
