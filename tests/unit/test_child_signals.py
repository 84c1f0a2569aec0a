"""The model process's signal handlers: a SIGTERM unwinds a running job, never the exit handlers."""

from __future__ import annotations

import signal
import sys

import pytest

from mnist_tui.worker import child


@pytest.fixture
def saved_handlers():
    names = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    before = {name: signal.getsignal(name) for name in names}
    stdout = sys.stdout
    yield
    sys.stdout = stdout
    for name, handler in before.items():
        signal.signal(name, handler)


def test_once_its_work_is_done_a_sigterm_ends_the_process_without_raising_into_its_exit(monkeypatch, saved_handlers):
    seen = {}

    class Finishing:
        def __init__(self, conn, make_trainer, make_served) -> None:
            pass

        def run(self, job) -> None:  # while the job runs, a SIGTERM unwinds it (a save removes its temporary file)
            seen["during"] = signal.getsignal(signal.SIGTERM)

        def close(self) -> None:
            pass

    monkeypatch.setattr(child, "Child", Finishing)
    monkeypatch.setattr(child.os, "dup2", lambda fd, fd2: None)
    child.main(None, None)
    assert seen["during"] is child._terminated
    # after main returns the interpreter runs its exit handlers: SystemExit raised in one of them
    # would print "Exception ignored in atexit callback" and a traceback into the log
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    assert signal.getsignal(signal.SIGHUP) == signal.SIG_DFL
