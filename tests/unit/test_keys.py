"""The keys table (mnist_tui/keys.py): what the screens bind, their help, the README's table and the CLI's epilog."""

from __future__ import annotations

import re
import subprocess
import sys
import threading

import pytest

from mnist_tui import keys
from mnist_tui.datasets import MNIST
from mnist_tui.keys import SCREENS, display, epilog, help_rows
from tests.support.data import ROOT


def readme_keys_section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("\n## Keys\n")
    return text[start : text.index("\n## ", start + 1)]


def written_keys(text: str) -> set[str]:
    """The keys between backticks in ``text``; a range written "`0` … `9`" stands for every class between."""
    found = set(re.findall(r"`([^`]+)`", text))
    for first, last in re.findall(r"`(\w+)` … `(\w+)`", text):
        found |= {str(label) for label in range(int(first), int(last) + 1)}
    return found


def bound_keys(*screens: str) -> set[str]:
    """Every key that runs an action on ``screens``, as a person writes it."""
    return {display(name) for screen in screens for key in SCREENS[screen].keys for name in key.names}


def test_the_readme_table_lists_exactly_the_results_keys():
    section = readme_keys_section()
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    assert len(rows) > 10
    # every line from the table's first row to its last is a row: no paragraph inside it
    lines = section.splitlines()
    first, last = lines.index(rows[0]), lines.index(rows[-1])
    assert all(line.startswith("|") for line in lines[first : last + 1])
    first_cells = " ".join(row.split("|")[1] for row in rows)
    assert written_keys(first_cells) == bound_keys("results")


def test_the_readme_lists_exactly_the_training_keys():
    paragraph = readme_keys_section().split("\n\n")[1]
    assert paragraph.startswith("While training:")
    assert written_keys(paragraph) == bound_keys("training") | bound_keys("app")


def test_the_digit_keys_are_the_datasets_classes():
    actions = [key.action for key in SCREENS["results"].keys if key.action.startswith("digit(")]
    assert actions == [f"digit({label})" for label in MNIST.classes]
    rows = {row.keys: row.text for row in help_rows("results")}
    assert rows[f"{MNIST.classes[0]} … {MNIST.classes[-1]}"] == "only images of that true digit"


@pytest.mark.parametrize("screen", list(SCREENS))
def test_no_key_is_bound_twice_on_a_screen(screen):
    names = [name for key in SCREENS[screen].keys for name in key.names]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("screen", ["results", "runs", "compare"])
def test_every_key_of_a_screen_with_a_help_is_in_it(screen):
    """Each key is on a help line of its own or joins the line above; the classes after the first are a range."""
    class_keys = {key.action for key in keys.CLASS_KEYS[1:]}
    for key in SCREENS[screen].keys:
        assert key.help or key.joins or key.action in class_keys, f"{key.keys} is missing from the help"
        assert key.action or not key.bound, f"{key.keys}: a screen binds only actions"


def test_help_rows_join_and_write_keys_as_a_person_does():
    rows = help_rows("results")
    assert rows[0] == keys.HelpRow("Browse", "→  l  j", "next image")
    assert keys.HelpRow("Browse", "pagedown / pageup", "jump a page") in rows
    assert keys.HelpRow("Views", "?", "this help") in rows
    runs = help_rows("runs")
    assert keys.HelpRow("Runs", "enter / click", "open the run's results") in runs
    # a key that is not live on the screen is left out; the mouse's lines stay
    without_draw = help_rows("results", lambda key: None if key.action == "draw" else key.names)
    assert len(without_draw) == len(rows) - 1 and not any(row.keys == "d" for row in without_draw)
    mouse_only = help_rows("results", lambda key: None)
    assert [row.keys for row in mouse_only] == ["click a row"]


def test_the_epilog_lists_the_training_and_results_keys():
    text = epilog()
    assert text.startswith("keys while training:\n")
    assert "\n\nkeys in the results:\n" in text
    assert re.search(r"^  s +stop early", text, re.M)
    assert re.search(r"^  0 … 9 +only images of that true digit$", text, re.M)
    assert "click a row" in text and "ctrl+p" in text


def test_the_keys_table_imports_no_textual():
    code = "import sys, mnist_tui.keys; print(sorted(m for m in ('textual', 'rich') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_test_set_is_read_once_however_many_ask(monkeypatch):
    from mnist_tui import data
    from mnist_tui.session import TestSet

    calls = []
    release = threading.Event()

    def load(path=None, **kwargs):
        calls.append(path)
        release.wait(2)
        return "the test set"

    monkeypatch.setattr(data, "load_mnist", load)
    test_set = TestSet()
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(test_set.load("here"))) for _ in range(3)]
    for thread in threads:
        thread.start()
    release.set()
    for thread in threads:
        thread.join(5)
    assert calls == ["here"] and answers == ["the test set"] * 3 and test_set.data == "the test set"
    test_set.keep("another")  # the first one stays: screens may show it
    assert test_set.data == "the test set"
