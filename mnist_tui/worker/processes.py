"""The child processes the UI starts: start one, know how it ended, end them all, sweep what they left.

UI side: imports neither TensorFlow nor Keras.
"""

from __future__ import annotations

import importlib
import multiprocessing
import multiprocessing.connection
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..events import Failed
from ..files import remove_temporaries
from .protocol import Cancel, Job

PROCESS_NAME = "mnist-tui-trainer"
CHILD_MODULE = "mnist_tui.worker.child"
"""The child's main loop, named rather than imported: it imports the Keras side, which the UI never does."""
EXIT_GRACE = 0.25  # seconds a process may take to exit when asked before it is killed


def describe_exit(exitcode: int | None) -> str:
    """How a process ended, in words: ``killed by SIGKILL`` or ``exited with status 3``."""
    if exitcode is None:
        return "stopped answering"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"was killed by {name}"
    return f"exited with status {exitcode}"


def died(exitcode: int | None, what: str = "training process") -> Failed:
    """The ``Failed`` event for a trainer process that ended without saying why.

    It says only what is known: a SIGKILL comes from outside or from the system's
    out-of-memory killer, and nothing here tells which. The keys that work next are the
    screen's to offer (it knows whether there are earlier results to go back to).
    """
    message = f"The {what} {describe_exit(exitcode)}."
    hint = ""
    if exitcode == -signal.SIGKILL:
        message = f"The {what} {describe_exit(exitcode)}: from outside, or by the system when memory ran out."
        hint = "If memory ran out, fewer hidden units or a smaller batch size need less."
    return Failed(message, hint)


@dataclass(eq=False)
class Live:
    """A child process the UI started, its end of the pipe, and the files it may be half-way through writing."""

    process: Any
    conn: Any
    writing: set[Path] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    """Held while the process is reaped: ``Process.join`` from two threads at once may lose its exit status."""
    send_lock: threading.Lock = field(default_factory=threading.Lock)
    """One writer at a time on the pipe (requests come from several threads)."""

    def send(self, message: object) -> None:
        """Send ``message`` to the child; raises ``OSError`` or ``ValueError`` when the pipe is closed."""
        with self.send_lock:
            self.conn.send(message)

    def ask_to_exit(self) -> None:
        try:
            self.send(Cancel())
        except (OSError, ValueError):
            pass

    def end(self, grace: float = EXIT_GRACE, *, terminated: bool = False) -> None:
        """Ask the process to exit, terminate it after ``grace`` seconds, kill it if it still runs.

        ``terminated``: it was asked and sent SIGTERM already, and had its time: kill it now.
        """
        with self.lock:
            process = self.process
            if process.exitcode is None and not terminated:
                self.ask_to_exit()
                process.join(grace)
            if process.exitcode is None and not terminated:
                process.terminate()  # SIGTERM: the child unwinds, removing its temporary files
                process.join(0.1)
            if process.exitcode is None:
                process.kill()
                process.join(1.0)
            try:
                self.conn.close()
            except OSError:
                pass
            self.sweep()

    def reap(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for the process to exit (one thread at a time, as in :meth:`end`)."""
        with self.lock:
            self.process.join(timeout)

    def exit_status(self, timeout: float) -> str:
        """How the process ended, in words, once it has (waiting up to ``timeout`` seconds).

        Waits on the process's sentinel, not under :attr:`lock`: a quit that is ending the
        process meanwhile never waits for this.
        """
        if multiprocessing.connection.wait([self.process.sentinel], timeout):
            # Its descriptors close a moment before its exit status can be read: a
            # blocking join, which returns within that moment.
            self.reap(1.0)
        return describe_exit(self.process.exitcode)

    def sweep(self) -> None:
        """Remove what a process that is gone left half-written (a kill gives it no time to)."""
        pid = self.process.pid
        for folder in {path.parent for path in list(self.writing)}:  # a save may finish meanwhile
            remove_temporaries(folder, pid)


_live: list[Live] = []
_start_lock = threading.Lock()
_live_lock = threading.Lock()
_closing = False
"""Set by the last :func:`end_all` of a UI on its way out: no process may start after it."""


def _register(live: Live) -> None:
    with _live_lock:
        _live[:] = [other for other in _live if other.process.exitcode is None]
        _live.append(live)


def live_processes() -> list[Any]:
    """The trainer and model processes of this UI that are still running."""
    with _live_lock:
        return [live.process for live in _live if live.process.exitcode is None]


def end_all(deadline: float | None = None, *, last: bool = False) -> None:
    """End every process this UI started, all at once, by ``deadline`` (``time.monotonic()``) if given.

    Quitting calls this: every process gets a cancel and a SIGTERM together, and
    SIGKILL if it is still there at the deadline (an import of TensorFlow does not
    stop for a signal handler). A process killed in the middle of a save leaves a
    temporary file, which is removed here: the UI knows what each process was writing.

    Returns only once every process is gone, even when another thread is ending them
    at the same time: the app starts ending them on ``q`` on a daemon thread, and
    ``launch.run_app`` calls this again before ``os._exit``, which would otherwise cut
    that thread off before its kill (a process slow to die, e.g. mid-save, was left behind).
    ``last``: the UI is exiting; a process that a worker thread would start after this
    (a recorded run being opened) is refused, not left running without its parent.
    """
    global _closing
    if last:
        with _start_lock:  # a start under way finishes and is registered first
            _closing = True
    with _live_lock:
        lives = list(_live)  # they stay listed until ended: a concurrent call ends them too
    running = [live for live in lives if live.process.exitcode is None]
    for live in running:
        live.ask_to_exit()
        live.process.terminate()
    deadline = time.monotonic() + EXIT_GRACE if deadline is None else deadline
    multiprocessing.connection.wait([live.process.sentinel for live in running], max(deadline - time.monotonic(), 0.0))
    for live in lives:
        live.end(terminated=True)  # under the process's lock: waits for another thread's kill and sweep
    with _live_lock:
        _live[:] = [other for other in _live if other not in lives]


def run_child(conn: Any, job: Job) -> None:
    """The child process's entry point: imports :data:`CHILD_MODULE` there, never in the UI process."""
    importlib.import_module(CHILD_MODULE).main(conn, job)


def start(job: Job, target: Callable[[Any, Job], None] | None, writing: Iterable[Path]) -> Live:
    """Start a child process running ``job`` (``target``: the child's entry point, scripted in tests)."""
    context = multiprocessing.get_context("spawn")  # never fork: the UI has threads
    parent, child = context.Pipe(duplex=True)
    process = context.Process(target=target or run_child, args=(child, job), name=PROCESS_NAME, daemon=True)
    with _start_lock:
        if _closing:
            parent.close()
            child.close()
            raise RuntimeError("The app is quitting: no new process starts.")
        # multiprocessing hands its helper process sys.stderr's descriptor, and inside
        # Textual sys.stderr is a capture object without one: give it the real stream.
        captured, sys.stderr = sys.stderr, sys.__stderr__
        try:
            process.start()
        finally:
            sys.stderr = captured
        live = Live(process, parent, set(writing))
        _register(live)  # under the start lock: the last end_all sees every process started before it
    child.close()
    return live


class Group:
    """A command's process and every process it starts, as :func:`end_all` sees a process.

    The command leads a process group of its own: its signals go to the whole group, so a
    sweep's extra workers (started by the sweep, not by the UI) end with it.
    """

    def __init__(self, popen: subprocess.Popen, sentinel: int) -> None:
        self.popen = popen
        self.pid = popen.pid
        self.sentinel = sentinel
        """Readable once the command has exited (the read end of a pipe whose write end only it held)."""

    @property
    def exitcode(self) -> int | None:
        return self.popen.poll()

    def _signal(self, signum: int) -> None:
        try:
            os.killpg(self.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass  # nothing of the group is left

    def interrupt(self) -> None:
        """SIGINT, as Ctrl-C in a terminal: ``mnist-tui sweep`` marks its trial stopped and ends its workers."""
        self._signal(signal.SIGINT)

    def terminate(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def join(self, timeout: float | None = None) -> None:
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            pass


class NoPipe:
    """A command started by :func:`start_command` is told nothing over a pipe: it is signalled."""

    def send(self, message: object) -> None:
        raise OSError("a command has no pipe")

    def close(self) -> None:
        pass


@dataclass(eq=False)
class CommandLive(Live):
    """A command the UI started (:func:`start_command`): asked to exit as Ctrl-C would."""

    def ask_to_exit(self) -> None:
        self.process.interrupt()

    def end(self, grace: float = EXIT_GRACE, *, terminated: bool = False) -> None:
        super().end(grace, terminated=terminated)
        self.process.kill()  # whatever of its group outlived it (a worker whose sweep was killed)


def start_command(command: list[str], *, output: Path, env: dict[str, str] | None = None) -> Live:
    """Run ``command`` in a process group of its own, its output into ``output``; :func:`end_all` ends it and its group.

    Raises ``OSError`` when it cannot start, ``RuntimeError`` while the app is quitting.
    """
    with _start_lock:
        if _closing:
            raise RuntimeError("The app is quitting: no new process starts.")
        sentinel, held = os.pipe()
        try:
            with open(output, "ab") as log:
                popen = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    env=env,
                    start_new_session=True,
                    pass_fds=(held,),
                )
        except BaseException:
            os.close(sentinel)
            raise
        finally:
            os.close(held)
        live = CommandLive(Group(popen, sentinel), NoPipe())
        _register(live)
    return live


def receive(live: Live, timeout: float) -> Any:
    """The next message, or ``None`` when none came within ``timeout``; raises EOFError when the child is gone."""
    if live.conn.poll(timeout):
        return live.conn.recv()  # EOFError / OSError once the child has exited
    if live.process.exitcode is not None and not live.conn.poll(0):
        raise EOFError
    return None
