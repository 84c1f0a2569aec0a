"""Filtering, ordering and confusion counts on small hand-made predictions."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_tui.predictions import Predictions, ViewCache, ViewFilter


def one_hot(preds, confidences):
    probs = np.zeros((len(preds), 10), np.float32)
    for i, (p, c) in enumerate(zip(preds, confidences)):
        probs[i] = (1 - c) / 9
        probs[i, p] = c
    return probs


@pytest.fixture
def small():
    labels = np.array([0, 1, 2, 1, 0, 2])
    preds = [0, 1, 1, 1, 2, 2]  # mistakes at 2 (2->1) and 4 (0->2)
    conf = [0.9, 0.8, 0.5, 0.95, 0.6, 0.7]
    return Predictions(np.zeros((6, 28, 28), np.uint8), labels, one_hot(preds, conf))


def test_basic_properties(small):
    assert small.predicted.tolist() == [0, 1, 1, 1, 2, 2]
    assert small.correct.tolist() == [True, True, False, True, False, True]
    assert small.accuracy == pytest.approx(4 / 6)
    assert small.mistakes == 2


def test_confusion_counts(small):
    expected = np.zeros((10, 10), int)
    expected[0, 0] = 1
    expected[0, 2] = 1
    expected[1, 1] = 2
    expected[2, 1] = 1
    expected[2, 2] = 1
    np.testing.assert_array_equal(small.confusion, expected)
    assert small.confusion.sum() == len(small)
    assert small.per_digit_accuracy()[:4] == [0.5, 1.0, 0.5, None]


@pytest.mark.parametrize(
    ("view", "indices"),
    [
        (ViewFilter(), [0, 1, 2, 3, 4, 5]),
        (ViewFilter(mistakes_only=True), [2, 4]),
        (ViewFilter(digit=1), [1, 3]),
        (ViewFilter(digit=2, predicted=1), [2]),
        (ViewFilter(digit=2, mistakes_only=True), [2]),
        (ViewFilter(digit=1, mistakes_only=True), []),
        (ViewFilter(by_confidence=True), [2, 4, 5, 1, 0, 3]),
        (ViewFilter(by_confidence=True, mistakes_only=True), [2, 4]),
        (ViewFilter(by_confidence=True, digit=0), [4, 0]),
    ],
)
def test_views(small, view, indices):
    assert ViewCache(small).indices(view).tolist() == indices


def test_views_are_computed_once(small):
    cache = ViewCache(small)
    view = ViewFilter(mistakes_only=True)
    assert cache.indices(view) is cache.indices(ViewFilter(mistakes_only=True))


def test_confidence_ties_keep_index_order():
    p = Predictions(np.zeros((4, 28, 28), np.uint8), np.zeros(4, int), one_hot([0, 0, 0, 0], [0.5, 0.5, 0.4, 0.5]))
    assert p.by_confidence.tolist() == [2, 0, 1, 3]


def test_inconsistent_shapes_are_rejected():
    with pytest.raises(ValueError, match="inconsistent"):
        Predictions(np.zeros((3, 28, 28)), np.zeros(2), np.zeros((3, 10)))


def test_describe():
    assert ViewFilter().describe() == "all"
    assert (
        ViewFilter(mistakes_only=True, digit=3, by_confidence=True).describe()
        == "digit 3, mistakes, least confident first"
    )
    assert ViewFilter(digit=4, predicted=9).describe() == "true 4 → predicted 9"
