"""UI tests: the app under Textual's Pilot and its snapshots, fed by fakes (no Keras, no trainer process); deterministic sizes and data."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # `pytest -m ui` runs this tier alone (as `pytest tests/ui` does)
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.ui)
