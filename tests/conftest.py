"""Fixtures every tier shares: tiny MNIST-shaped data, the real data when it is there, a local download mirror."""

from __future__ import annotations

import os
import tempfile
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.support.data import SHARED_MNIST, write_idx_dir
from tests.support.mirror import Handler

# Tests never draw over a real terminal and never show TensorFlow's chatter.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Runs recorded by tests (and by the app and headless runs they start) never reach the
# person's own run store.
os.environ["MNIST_TUI_HOME"] = tempfile.mkdtemp(prefix="mnist-tui-test-home-")


def _weight(item: pytest.Item) -> int:
    """Real Keras first, then the other process tests, then the rest (Pilot and plain functions)."""
    if item.get_closest_marker("keras"):
        return 0
    return 1 if "process" in Path(item.path).parts else 2


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The long tests (real TensorFlow in child processes: up to minutes each on 2 cores) start
    # first, so that under -n the workers end on short tests together rather than one of them
    # starting a benchmark smoke run while the other sits idle. A stable sort: the order within
    # each group is the collection order, the same on every worker as xdist requires.
    items.sort(key=_weight)


@pytest.fixture
def tiny_dir(tmp_path: Path) -> Path:
    return write_idx_dir(tmp_path / "mnist")


@pytest.fixture
def real_mnist() -> Path:
    if not SHARED_MNIST.is_dir():
        pytest.skip(f"real MNIST not found in {SHARED_MNIST} (set MNIST_TUI_DATA to its folder)")
    return SHARED_MNIST


@pytest.fixture
def server():
    """A local mirror on 127.0.0.1 serving tiny MNIST files (see :class:`tests.support.mirror.Handler`)."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.hits = []
    httpd.release = threading.Event()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.release.set()
    httpd.shutdown()
    httpd.server_close()
