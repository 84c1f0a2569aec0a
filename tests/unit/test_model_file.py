"""One Keras-free check of a model file, asked by --model, `mnist-tui labels` and the model process alike."""

from __future__ import annotations

import zipfile

import pytest

from mnist_tui.commands.train import parse_args
from mnist_tui.files import keras_file_problem
from mnist_tui.labels import LabelsError, check_model_file


def zip_with(path, *members: str):
    with zipfile.ZipFile(path, "w") as archive:
        for name in members:
            archive.writestr(name, "{}")
    return path


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda p: p / "missing.keras", "no such model file"),
        (lambda p: zip_with(p / "model.h5", "config.json", "metadata.json"), "its name must end in .keras"),
        (lambda p: (p / "text.keras").write_text("hello") and p / "text.keras", "is a zip archive; this is not one"),
        (lambda p: zip_with(p / "other.keras", "readme.txt"), "without config.json or metadata.json"),
        (lambda p: zip_with(p / "half.keras", "config.json"), "without metadata.json"),
    ],
)
def test_each_problem_is_one_line_naming_the_file(tmp_path, make, problem):
    path = make(tmp_path)
    found = keras_file_problem(path)
    assert found is not None and problem in found
    assert found.startswith(str(path)) and "\n" not in found
    with pytest.raises(LabelsError, match=problem.split(" (")[0]):
        check_model_file(path)


def test_a_keras_archive_passes(tmp_path):
    assert (
        keras_file_problem(zip_with(tmp_path / "m.keras", "config.json", "metadata.json", "model.weights.h5")) is None
    )


def test_model_option_refuses_a_wrong_file_while_parsing(tmp_path, capsys):
    path = tmp_path / "notes.keras"
    path.write_text("not a model")
    with pytest.raises(SystemExit) as exc:
        parse_args(["--model", str(path)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a Keras model file" in err
