"""Process tests: real trainer and model processes, the CLI in subprocesses, the app in a pseudo-terminal, the benchmarks' smoke runs."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # `pytest -m process` runs this tier alone (as `pytest tests/process` does)
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.process)
