"""The order the suite runs in: under ``-n`` each worker starts on its share of the long tests.

pytest-xdist's ``worksteal`` gives each worker one contiguous part of the collected items
(the first ``len // n`` to the first worker, and so on) and lets an idle worker take the
second half of another's queue. Sorting the long tests to the front therefore put every one
of them in the first worker's part, one after another, while the other worker ran the short
ones. :func:`deal` instead splits the items into the same parts xdist will cut, the long
tests dealt out so that each part holds about the same CPU time of them (longest first,
each to the part with the least so far), each part beginning with its long tests, longest
first, then short tests in collection order (so a module's tests stay together). What an
idle worker steals from the end of a queue is then short tests, and no long test starts
last. The tests of :data:`CHAIN` are dealt out as one, in their order.

The costs are CPU seconds measured on the 2-core machine (benchmarks/README.md, "The test
suite"); they only order the tests, so a stale figure costs time, never a result.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

LONG: dict[str, float] = {
    "tests/process/test_benchmarks.py::test_benchmarks_run_on_tiny_settings": 120,  # with the shared headless run
    "tests/process/test_benchmarks.py::test_lever_benchmark_runs_on_tiny_settings": 31,
    "tests/process/test_resume_headless.py::test_a_killed_run_resumes_to_the_same_weights": 27,
    "tests/process/test_sweep_postgres.py::test_two_workers_share_a_study": 24,
    "tests/process/test_process_app.py::": 22,
    "tests/process/test_e2e.py::test_headless_trains_and_saves": 6,  # scores the shared run's model
    "tests/process/test_runs_cli.py::test_a_real_headless_run_is_recorded": 0.5,  # reads the shared run
    "tests/process/test_benchmarks.py::test_process_benchmark_runs_on_tiny_settings": 14,
    "tests/ui/test_forms.py::test_several_runs_leave_nothing_behind": 14,
    "tests/process/test_explain.py::test_labels_csv_ranks_a_saved_models_test_images": 6,
    # Keras in the worker itself: a fraction of a second each once TensorFlow is imported
    "tests/process/test_explain.py::": 0.5,
    "tests/process/test_benchmarks.py::test_ui_cost_benchmark_runs_on_tiny_settings": 2,
    "tests/process/test_e2e.py::test_headless_failure_is_one_clear_line": 0.5,
    "tests/process/test_resume_headless.py::test_resume_refuses": 1,
}
"""CPU seconds of the longest tests, by node id or its beginning."""

HEAVY = 3.0
"""Tests expected to take at least this many CPU seconds are dealt out one by one."""

CHAIN = (
    "tests/process/test_benchmarks.py::test_benchmarks_run_on_tiny_settings",
    "tests/process/test_e2e.py::",
    "tests/process/test_runs_cli.py::test_a_real_headless_run_is_recorded",
    # one PostgreSQL server (a module fixture) for the module's tests
    "tests/process/test_sweep_postgres.py::",
    # Keras in the test process: the process tier's (the unit and UI tiers': see chained())
    "tests/process/test_explain.py::",
    "tests/process/test_labels_cli.py::test_a_model_is_ranked_from_the_test_files_alone",
)
"""Tests that run one after another on one worker, in this order, dealt out as one: the app in a
pseudo-terminal times its exit (within 0.75 s), so those tests do not run beside each other, nor
beside the benchmark smoke, which runs two benchmark processes at a time; the tests that read
the one real headless run (``headless_run`` in tests/process/conftest.py) share it, as the
PostgreSQL tests share their server; and the tests that import TensorFlow into the test process
(3-4 s of CPU, and half a gigabyte, per process) import it once."""


def cost(item: pytest.Item) -> float:
    """The CPU seconds ``item`` is expected to take: from :data:`LONG`, else by its kind."""
    for prefix, seconds in LONG.items():
        if item.nodeid.startswith(prefix):
            return seconds
    process = "process" in Path(item.path).parts
    if process and item.get_closest_marker("keras"):
        return 10.0  # TensorFlow in a child process (the app, a headless run): most take 4 to 12 s
    return 1.0 if process else 0.5


def part_sizes(count: int, workers: int) -> list[int]:
    """How many of ``count`` items each worker first gets: xdist's worksteal cut (``len(pending) // nodes_left``)."""
    sizes = []
    for i in range(workers):
        sizes.append(count // (workers - i))
        count -= sizes[-1]
    return sizes


def chained(item: pytest.Item) -> int | None:
    """Where ``item`` stands in :data:`CHAIN` (``None``: not in it).

    The unit and UI tiers' tests marked ``keras`` run Keras in the test process: they come last.
    """
    where = next((k for k, prefix in enumerate(CHAIN) if item.nodeid.startswith(prefix)), None)
    if where is None and item.get_closest_marker("keras") and "process" not in Path(item.path).parts:
        return len(CHAIN)
    return where


def deal(costs: Sequence[float], workers: int, chain: Sequence[int] = ()) -> list[int]:
    """The order to run items of these ``costs`` in, as indices: one part per worker, as described above.

    ``chain``: indices that run one after another in one part, in this order, dealt as one unit.
    """
    sizes = part_sizes(len(costs), max(workers, 1))
    parts: list[list[int]] = [[] for _ in sizes]
    loads = [0.0] * len(sizes)
    if len(chain) > sizes[0]:  # longer than a part (a few files chosen under -n): not kept together
        chain = ()
    if chain:  # first, into the first part (the smallest): it is the longest unit in the suite
        parts[0].extend(chain)
        loads[0] += sum(costs[i] for i in chain)
    in_chain = set(chain)
    for i in sorted((i for i, c in enumerate(costs) if c >= HEAVY and i not in in_chain), key=lambda i: -costs[i]):
        j = min((j for j in range(len(parts)) if len(parts[j]) < sizes[j]), key=lambda j: loads[j])
        parts[j].append(i)
        loads[j] += costs[i]
    light = iter(i for i, c in enumerate(costs) if c < HEAVY and i not in in_chain)
    for part, size in zip(parts, sizes):
        part.extend(next(light) for _ in range(size - len(part)))
    return [i for part in parts for i in part]
