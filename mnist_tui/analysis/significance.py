"""Is the difference between two models real? McNemar's exact test on the images where they disagree.

Only the images one model gets right and the other wrong say anything about which is
better: if the two were equally good, each such image would be as likely to favour one as
the other, so the count favouring one is Binomial(n, 1/2). The exact two-sided p-value
is twice the smaller tail, capped at 1 (the "exact" McNemar test of statsmodels and R's
``binom.test``). Standard library only: the tail is summed in exact integers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CHANCE_LEVEL = 0.05
"""Below this p-value the difference is said to be unlikely to be chance."""


def mcnemar_p(first_only: int, second_only: int) -> float:
    """The exact two-sided p-value for ``first_only`` images only the first gets right against ``second_only``."""
    if first_only < 0 or second_only < 0:
        raise ValueError("counts must not be negative")
    n = first_only + second_only
    if n == 0:
        return 1.0
    k = min(first_only, second_only)
    tail = term = 1  # C(n, 0); each next binomial coefficient from the last, in exact integers
    for i in range(k):
        term = term * (n - i) // (i + 1)
        tail += term
    return min(1.0, 2 * tail / 2**n)  # exact integers: no underflow for n in the tens of thousands


@dataclass(frozen=True)
class McNemar:
    """The test's counts and p-value, and how to say it."""

    first_only: int
    """Images the first model gets right and the second wrong."""
    second_only: int
    p: float

    @property
    def chance(self) -> bool:
        """Whether the difference could be chance (p at or above :data:`CHANCE_LEVEL`)."""
        return self.p >= CHANCE_LEVEL

    def words(self) -> str:
        """``p = 0.03: unlikely to be chance`` / ``p = 0.41: could be chance``."""
        return f"{format_p(self.p)}: {'could be chance' if self.chance else 'unlikely to be chance'}"


def format_p(p: float) -> str:
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.2f}" if p >= 0.01 else f"p = {p:.3f}"


def mcnemar(first_only: int, second_only: int) -> McNemar:
    return McNemar(first_only, second_only, mcnemar_p(first_only, second_only))


def compare_correct(first_correct: np.ndarray, second_correct: np.ndarray) -> McNemar:
    """The test from two boolean arrays saying which images each model gets right."""
    a, b = np.asarray(first_correct, bool), np.asarray(second_correct, bool)
    if a.shape != b.shape:
        raise ValueError(f"the two runs scored different images ({a.shape} and {b.shape})")
    return mcnemar(int(np.count_nonzero(a & ~b)), int(np.count_nonzero(b & ~a)))
