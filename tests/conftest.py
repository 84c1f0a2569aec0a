"""Fixtures every tier shares: tiny MNIST-shaped data, the real data when it is there, a local download mirror."""

from __future__ import annotations

import gc
import os
import tempfile
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
import textual._wait as textual_wait

from tests.support import schedule
from tests.support.data import SHARED_MNIST, write_idx_dir
from tests.support.mirror import Handler

# Tests never draw over a real terminal and never show TensorFlow's chatter.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Runs recorded by tests (and by the app and headless runs they start) never reach the
# person's own run store (and each test has a store of its own: own_run_store below).
os.environ["MNIST_TUI_HOME"] = tempfile.mkdtemp(prefix="mnist-tui-test-home-")
# A test process lives through hundreds of apps, each making and dropping hundreds of
# thousands of objects: with Python's default thresholds (700, 10, 10) it collected its whole
# heap 98 times over 101 UI tests, 13.5 of their 61 s of CPU; with these, twice (54 s in all).
# Garbage is still collected (and tests that look for leaks collect it themselves).
gc.set_threshold(10_000, 20, 20)
# Textual's pilot waits after every key (twice) and every pause until the process has been
# idle for a whole slice of 20 ms: at least 40 ms a key, 2 minutes of the UI tests' 3 on
# 2 cores. Slices of 10 ms, idle meaning the same (under 5% of a slice spent working).
# Tests that need a thing to have happened wait for it (tests/support/pilot.py).
if hasattr(textual_wait, "SLEEP_GRANULARITY") and hasattr(textual_wait, "SLEEP_IDLE"):
    textual_wait.SLEEP_GRANULARITY = 0.01
    textual_wait.SLEEP_IDLE = textual_wait.SLEEP_GRANULARITY / 20


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The long tests (real TensorFlow in child processes: up to minutes each on 2 cores) are
    # dealt out so that under -n every worker starts on its share of them, longest first, and
    # the workers end on short tests together (tests/support/schedule.py). The order depends
    # only on the collection and the number of workers, the same on every worker as xdist
    # requires.
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    links = sorted((k, i) for i, item in enumerate(items) if (k := schedule.chained(item)) is not None)
    order = schedule.deal([schedule.cost(item) for item in items], workers, [i for _, i in links])
    items[:] = [items[i] for i in order]


@pytest.fixture(autouse=True)
def own_run_store(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run store of the test's own: nothing an earlier test (or a process it started) wrote or
    still holds is in it, and the interrupted runs of one test are not offered by the next."""
    monkeypatch.setenv("MNIST_TUI_HOME", str(tmp_path_factory.mktemp("home")))


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch):
    """Times in UTC, whatever the machine's zone (the process's zone set again both ways: ``time.tzset``)."""
    with monkeypatch.context() as patch:
        patch.setenv("TZ", "UTC")
        time.tzset()
        yield
    time.tzset()


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
