"""Unit tests: plain functions and classes (NumPy, the store, the options, parsing), and the Keras side in-process; no app, no child process."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # `pytest -m unit` runs this tier alone (as `pytest tests/unit` does)
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.unit)
