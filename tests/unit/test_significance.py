"""McNemar's exact test against values computed by hand and by statsmodels / R's binom.test."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_tui.analysis.significance import compare_correct, format_p, mcnemar, mcnemar_p


@pytest.mark.parametrize(
    ("b", "c", "p"),
    [
        (0, 0, 1.0),
        (5, 5, 1.0),
        (1, 9, 0.021484375),  # 2 * (1 + 10) / 2**10
        (6, 14, 0.11531829833984375),  # 2 * sum C(20, 0..6) / 2**20 (statsmodels mcnemar(exact=True))
        (0, 10, 0.001953125),  # 2 / 2**10
        (0, 1, 1.0),
        (21, 9, 0.04277394525706768),  # 2 * 22,964,087 / 2**30, as R's binom.test(9, 30)
    ],
)
def test_known_values(b: int, c: int, p: float) -> None:
    assert mcnemar_p(b, c) == pytest.approx(p, rel=1e-12)
    assert mcnemar_p(c, b) == pytest.approx(p, rel=1e-12)  # symmetric


def test_large_counts_do_not_underflow() -> None:
    assert mcnemar_p(5000, 5000) == 1.0
    assert 0 < mcnemar_p(480, 520) < 1
    assert mcnemar_p(0, 5000) == 0.0 or mcnemar_p(0, 5000) < 1e-300


def test_the_tail_is_the_exact_binomial_sum() -> None:
    import math

    for first, second in [(0, 1), (1, 9), (7, 7), (13, 40), (200, 260), (599, 601)]:
        n, k = first + second, min(first, second)
        exact = min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2**n)
        assert mcnemar_p(first, second) == exact == mcnemar_p(second, first)


def test_plain_words() -> None:
    assert mcnemar(1, 9).words() == "p = 0.02: unlikely to be chance"
    assert mcnemar(6, 14).words() == "p = 0.12: could be chance"
    assert format_p(0.0004) == "p < 0.001" and format_p(0.005) == "p = 0.005"


def test_from_correct_arrays() -> None:
    a = np.array([1, 1, 1, 0, 0, 1, 1], bool)
    b = np.array([1, 0, 0, 0, 1, 1, 0], bool)
    result = compare_correct(a, b)
    assert (result.first_only, result.second_only) == (3, 1)
    with pytest.raises(ValueError):
        compare_correct(a, b[:3])


def test_the_comparison_says_each_pair_in_plain_words() -> None:
    from mnist_tui.runs.compare import FlippedSet
    from mnist_tui.screens.compare import mcnemar_lines

    sets = [FlippedSet(1, 2, np.arange(9)), FlippedSet(2, 1, np.arange(1)), FlippedSet(1, 3, np.arange(6))]
    sets.append(FlippedSet(3, 1, np.arange(14)))
    assert mcnemar_lines(sets) == ["runs 1, 2: p = 0.02: unlikely to be chance", "runs 1, 3: p = 0.12: could be chance"]
