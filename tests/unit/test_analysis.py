"""The NumPy analysis layer on hand-made arrays: exact values, ties, empty and degenerate inputs."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from mnist_tui.analysis import (
    BRAILLE_BASE,
    DOT_BITS,
    Bounds,
    NeighbourIndex,
    braille_scatter,
    class_counts,
    class_metrics,
    confidence_classes,
    count_phrase,
    data_bounds,
    dot_positions,
    fit_pca,
    given_label_probability,
    gradient_times_input,
    integrated_gradients,
    knn_label_agreement,
    most_confused,
    normalise_rows,
    normalise_signed,
    pca_2d,
    suspicious_labels,
    unit_maps,
)

# --------------------------------------------------------------------------- import hygiene


def test_analysis_imports_no_framework():
    code = (
        "import sys, mnist_tui.analysis; "
        "bad = [m for m in ('tensorflow', 'keras', 'textual', 'scipy', 'sklearn', 'jax', 'torch') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


# --------------------------------------------------------------------------- suspicious labels

PROBS = np.array(
    [
        [0.9, 0.1, 0.0],  # label 0: 0.9
        [0.2, 0.7, 0.1],  # label 2: 0.1  (tie with row 3)
        [0.5, 0.5, 0.0],  # label 1: 0.5, argmax tie -> 0
        [0.1, 0.8, 0.1],  # label 0: 0.1  (tie with row 1)
        [0.0, 0.0, 1.0],  # label 2: 1.0
        [0.6, 0.3, 0.1],  # label 1: 0.3
    ]
)
GIVEN = np.array([0, 2, 1, 0, 2, 1])


def test_suspicious_labels_exact_order_with_stable_ties():
    ranked = suspicious_labels(PROBS, GIVEN)
    assert ranked.indices.tolist() == [1, 3, 5, 2, 0, 4]
    assert ranked.scores.tolist() == [0.1, 0.1, 0.3, 0.5, 0.9, 1.0]
    assert ranked.labels.tolist() == [2, 0, 1, 1, 0, 2]
    assert ranked.suggested.tolist() == [1, 1, 0, 0, 0, 2]
    assert len(ranked) == 6


def test_suspicious_labels_top_and_dtypes():
    top = suspicious_labels(PROBS, GIVEN).top(2)
    assert top.indices.tolist() == [1, 3]
    assert top.suggested.tolist() == [1, 1]
    assert top.indices.dtype == np.int64 and top.suggested.dtype == np.int64


def test_given_label_probability():
    assert given_label_probability(PROBS, GIVEN).tolist() == [0.9, 0.1, 0.5, 0.1, 1.0, 0.3]


def test_suspicious_labels_nan_rows_sort_last_and_suggest_sensibly():
    probs = np.array([[np.nan, 0.2, 0.8], [0.3, 0.7, 0.0], [np.nan, np.nan, np.nan], [0.9, np.nan, 0.1]])
    ranked = suspicious_labels(probs, np.array([0, 0, 1, 2]))
    # Row 3 (0.1) and row 1 (0.3) have scores; rows 0 and 2 are NaN and keep index order.
    assert ranked.indices.tolist() == [3, 1, 0, 2]
    assert ranked.suggested.tolist() == [0, 1, 2, 1]  # an all-NaN row suggests its own label
    assert np.isnan(ranked.scores[2:]).all()


def test_suspicious_labels_empty():
    ranked = suspicious_labels(np.zeros((0, 10)), np.zeros(0, int))
    assert len(ranked) == 0 and ranked.suggested.shape == (0,)


@pytest.mark.parametrize(
    "probs, labels",
    [
        (np.zeros((3, 10)), np.zeros(2, int)),
        (np.zeros(10), np.zeros(1, int)),
        (np.zeros((2, 3)), np.array([0, 3])),
        (np.zeros((2, 3)), np.array([-1, 0])),
    ],
)
def test_suspicious_labels_rejects_bad_input(probs, labels):
    with pytest.raises(ValueError):
        suspicious_labels(probs, labels)


# --------------------------------------------------------------------------- nearest neighbours


def test_neighbours_exact_on_made_up_embeddings():
    train = np.array([[1, 0], [0, 1], [1, 1], [-1, 0], [10, 1]], np.float32)
    index = NeighbourIndex(train)
    found = index.query(np.array([2.0, 0.0]), k=3)
    assert found.indices.tolist() == [0, 4, 2]
    np.testing.assert_allclose(found.similarities, [1.0, 10 / np.sqrt(101), 1 / np.sqrt(2)], rtol=1e-6)
    assert found.similarities.dtype == np.float32
    assert len(index) == 5 and index.dim == 2


def test_neighbours_ties_break_by_lower_index_even_at_the_cut():
    # Rows 1, 2, 4 and 5 are the same direction; k=3 cuts through that run of ties.
    train = np.array([[0, 1], [1, 0], [2, 0], [-1, 0], [3, 0], [5, 0]], np.float32)
    found = NeighbourIndex(train).query(np.array([1.0, 0.0]), k=3)
    assert found.indices.tolist() == [1, 2, 4]


def test_neighbours_batch_matches_single_queries():
    rng = np.random.default_rng(0)
    train = rng.normal(size=(500, 16)).astype(np.float32)
    queries = rng.normal(size=(4, 16)).astype(np.float32)
    index = NeighbourIndex(train)
    batch = index.query(queries, k=7)
    assert batch.indices.shape == (4, 7) and batch.similarities.shape == (4, 7)
    for q, row in zip(queries, batch.indices):
        assert index.query(q, k=7).indices.tolist() == row.tolist()
        # Brute force: full cosine similarity and a stable sort.
        sims = (train @ q) / np.linalg.norm(train, axis=1) / np.linalg.norm(q)
        assert row.tolist() == np.argsort(-sims, kind="stable")[:7].tolist()


def test_neighbours_k_bounds():
    index = NeighbourIndex(np.eye(3, dtype=np.float32))
    assert index.query(np.array([0, 1, 0]), k=10).indices.tolist() == [1, 0, 2]
    empty = index.query(np.array([0, 1, 0]), k=0)
    assert empty.indices.shape == (0,) and empty.similarities.shape == (0,)
    assert index.query(np.zeros((0, 3)), k=2).indices.shape == (0, 2)
    with pytest.raises(ValueError):
        index.query(np.array([0, 1, 0]), k=-1)


def test_neighbours_zero_and_nan_rows_are_similar_to_nothing():
    train = np.array([[0, 0], [1, 0], [np.nan, 1], [-1, 0]], np.float32)
    found = NeighbourIndex(train).query(np.array([1.0, 0.0]), k=4)
    assert found.indices.tolist() == [1, 0, 2, 3]
    assert found.similarities.tolist() == [1.0, 0.0, 0.0, -1.0]
    # A zero query has no direction: everything scores 0 and index order decides.
    assert NeighbourIndex(train).query(np.zeros(2), k=2).indices.tolist() == [0, 1]


def test_neighbours_reject_wrong_shapes():
    with pytest.raises(ValueError):
        NeighbourIndex(np.zeros(5))
    with pytest.raises(ValueError):
        NeighbourIndex(np.zeros((5, 3))).query(np.zeros(4))


def test_normalise_rows():
    unit = normalise_rows(np.array([[3, 4], [0, 0], [np.inf, 1]]))
    np.testing.assert_allclose(unit, [[0.6, 0.8], [0.0, 0.0], [0.0, 0.0]], rtol=1e-7)
    assert unit.dtype == np.float32


# --------------------------------------------------------------------------- PCA

CROSS = np.array([[3, 0], [-3, 0], [0, 1], [0, -1]], float)


def test_pca_exact_on_an_axis_aligned_cross():
    pca = fit_pca(CROSS)
    np.testing.assert_allclose(pca.components, [[1, 0], [0, 1]], atol=1e-12)
    np.testing.assert_allclose(pca.explained_variance, [6, 2 / 3])
    np.testing.assert_allclose(pca.explained_variance_ratio, [0.9, 0.1])
    np.testing.assert_allclose(pca_2d(CROSS), CROSS, atol=1e-6)
    np.testing.assert_allclose(pca.transform(np.array([1.0, 2.0])), [1, 2], atol=1e-6)


def test_pca_sign_is_deterministic():
    # Mirrored data has the same axes, so its layout is mirrored too (not flipped back).
    np.testing.assert_allclose(fit_pca(-CROSS).components, fit_pca(CROSS).components)
    np.testing.assert_allclose(pca_2d(-CROSS), -CROSS, atol=1e-6)
    # Largest entry of each component is positive.
    rng = np.random.default_rng(1)
    axes = fit_pca(rng.normal(size=(50, 6)), 3).components
    assert (axes[np.arange(3), np.abs(axes).argmax(axis=1)] > 0).all()


def test_pca_matches_svd_up_to_sign():
    rng = np.random.default_rng(2)
    points = rng.normal(size=(200, 5)) * [5, 3, 2, 1, 0.5]
    centred = points - points.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    ours = fit_pca(points).components
    np.testing.assert_allclose(np.abs(ours), np.abs(vt[:2]), atol=1e-9)


def test_pca_keeps_separate_blobs_separate():
    rng = np.random.default_rng(3)
    centres = np.eye(3, 20) * 10
    points = np.concatenate([c + rng.normal(scale=0.5, size=(100, 20)) for c in centres])
    labels = np.repeat([0, 1, 2], 100)
    layout = pca_2d(points)
    assert layout.shape == (300, 2) and layout.dtype == np.float32
    assert knn_label_agreement(layout, labels, k=10) == 1.0


@pytest.mark.parametrize("points", [np.full((5, 3), 7.0), np.ones((1, 3)), np.zeros((0, 3))])
def test_pca_degenerate_inputs_give_zeros(points):
    layout = pca_2d(points)
    assert layout.shape == (len(points), 2)
    assert (layout == 0).all()
    assert (fit_pca(points).explained_variance_ratio == 0).all()


@pytest.mark.parametrize(
    "points, components",
    [(np.array([[np.nan, 1.0], [0.0, 1.0]]), 2), (np.zeros((4, 2)), 3), (np.zeros((4, 2)), 0), (np.zeros(4), 1)],
)
def test_pca_rejects_bad_input(points, components):
    with pytest.raises(ValueError):
        fit_pca(points, components)


def test_knn_label_agreement_exact():
    layout = np.array([[0.0], [1.0], [2.0], [1.5], [10.0], [11.0], [12.0]])
    labels = np.array([0, 0, 0, 1, 1, 1, 1])
    # Only the 1 at 1.5 is outvoted (its neighbours 1 and 2 are 0s); 1-1 ties go to 0.
    assert knn_label_agreement(layout, labels, k=2) == pytest.approx(6 / 7)
    assert knn_label_agreement(layout, labels, k=2, chunk=1) == pytest.approx(6 / 7)
    assert knn_label_agreement(layout[:1], labels[:1]) == 0.0
    with pytest.raises(ValueError):
        knn_label_agreement(layout, labels[:3])


# --------------------------------------------------------------------------- metrics

SMALL = np.array([[5, 1, 0], [2, 3, 1], [0, 0, 4]])


def test_class_metrics_by_hand():
    m = class_metrics(SMALL)
    # support (rows) 6, 6, 4; predicted (columns) 7, 4, 5; correct 5, 3, 4.
    assert m.support.tolist() == [6, 6, 4] and m.predicted.tolist() == [7, 4, 5]
    np.testing.assert_allclose(m.precision, [5 / 7, 3 / 4, 4 / 5])
    np.testing.assert_allclose(m.recall, [5 / 6, 3 / 6, 4 / 4])
    np.testing.assert_allclose(m.f1, [10 / 13, 6 / 10, 8 / 9])
    assert m.accuracy == 12 / 16
    assert m.macro_f1 == pytest.approx((10 / 13 + 6 / 10 + 8 / 9) / 3)


def test_class_metrics_zero_division_is_zero():
    # Class 1 is never predicted; class 2 neither occurs nor is predicted.
    m = class_metrics(np.array([[2, 0, 0], [1, 0, 0], [0, 0, 0]]))
    assert m.precision.tolist() == [2 / 3, 0.0, 0.0]
    assert m.recall.tolist() == [1.0, 0.0, 0.0]
    assert m.f1.tolist() == [0.8, 0.0, 0.0]
    assert m.macro_f1 == pytest.approx(0.4)  # class 2 is outside the label set
    empty = class_metrics(np.zeros((10, 10), int))
    assert empty.accuracy == 0.0 and empty.macro_f1 == 0.0 and (empty.f1 == 0).all()


def test_most_confused_sorted_by_count_then_row_major():
    confusion = np.array([[9, 2, 3], [3, 9, 0], [1, 2, 9]])
    pairs = most_confused(confusion, k=4)
    assert pairs == [(0, 2, 3), (1, 0, 3), (0, 1, 2), (2, 1, 2)]
    assert pairs[0].true == 0 and pairs[0].predicted == 2 and pairs[0].count == 3
    assert most_confused(confusion, k=0) == []
    # Never lists empty cells or the diagonal, even if asked for more.
    assert len(most_confused(confusion, k=50)) == 5
    assert most_confused(np.diag([5, 5])) == []


@pytest.mark.parametrize("bad", [np.zeros((2, 3)), np.zeros(4), np.array([[1, -1], [0, 1]])])
def test_metrics_reject_bad_matrices(bad):
    with pytest.raises(ValueError):
        class_metrics(bad)
    with pytest.raises(ValueError):
        most_confused(bad)


# --------------------------------------------------------------------------- braille scatter

BOX = Bounds(0.0, 4.0, 0.0, 4.0)  # with a 2x1 grid: 4x4 dots, one dot per data unit


def test_dot_bits_cover_every_dot_once():
    assert sorted(DOT_BITS.ravel().tolist()) == [1 << b for b in range(8)]
    assert DOT_BITS[3, 0] == 0x40 and DOT_BITS[0, 1] == 0x08


def test_scatter_corners_and_the_maximum_map_exactly():
    x = np.array([0.0, 4.0, 4.0, 0.0])
    y = np.array([4.0, 4.0, 0.0, 0.0])  # top-left, top-right, bottom-right, bottom-left
    s = braille_scatter(x, y, width=2, height=1, bounds=BOX)
    assert s.rows.tolist() == [0, 0, 0, 0] and s.cols.tolist() == [0, 1, 1, 0]
    assert s.codes.tolist() == [[0x01 | 0x40, 0x08 | 0x80]]
    assert s.char(0, 0) == chr(0x2841) and s.char(0, 1) == chr(0x2888)
    assert s.counts.tolist() == [[2, 2]]


def test_scatter_edges_between_dots_and_cells():
    # x=1 starts dot column 1 (the left cell's right column); x=2 starts the next cell.
    # y=3 is dot row 1 counted from the top.
    x = np.array([1.0, 2.0, 0.999])
    y = np.array([3.0, 3.0, 3.001])
    s = braille_scatter(x, y, width=2, height=1, bounds=BOX)
    col, row = dot_positions(x, y, 2, 1, BOX)
    assert col.tolist() == [1, 2, 0] and row.tolist() == [1, 1, 0]
    assert s.codes.tolist() == [[0x10 | 0x01, 0x02]]


def test_scatter_default_bounds_and_taller_grid():
    # Default bounds are the data's own; a 1x2 grid has 2x8 dots.
    x = np.array([0.0, 10.0, 5.0])
    y = np.array([-1.0, 1.0, 0.0])
    s = braille_scatter(x, y, width=1, height=2)
    assert s.bounds == Bounds(0.0, 10.0, -1.0, 1.0)
    # y=0 is exactly halfway down: dot row 4, the first row of the lower cell; x=5 is
    # halfway across: dot column 1. (0, -1) is the bottom-left dot, dot 7.
    assert s.rows.tolist() == [1, 0, 1]
    assert s.codes.tolist() == [[0x08], [0x40 | 0x08]]


def test_scatter_single_point_and_constant_axis_are_centred():
    s = braille_scatter(np.array([7.0]), np.array([-2.0]), width=3, height=2)
    # 6x8 dots: the middle is dot column 3 (cell 1, right) and dot row 4 (cell 1, top).
    assert s.cell_of(0) == (1, 1)
    assert s.codes[1, 1] == 0x08 and s.codes.sum() == 0x08
    line = braille_scatter(np.array([1.0, 1.0]), np.array([0.0, 4.0]), width=1, height=1)
    assert line.codes.tolist() == [[0x08 | 0x80]]


def test_scatter_skips_non_finite_and_out_of_bounds_points():
    x = np.array([np.nan, 1.0, 9.0, 2.0])
    y = np.array([1.0, np.inf, 1.0, 1.0])
    s = braille_scatter(x, y, width=2, height=1, bounds=BOX)
    assert s.rows.tolist() == [-1, -1, -1, 0]
    assert s.cell_of(0) is None and s.cell_of(3) == (0, 1)
    assert s.counts.sum() == 1
    assert data_bounds(x, y) == Bounds(2.0, 9.0, 1.0, 1.0)
    assert data_bounds(np.array([np.nan]), np.array([0.0])) == Bounds(0.0, 0.0, 0.0, 0.0)


def test_scatter_colour_majority_ties_and_priority():
    #       cell 0: classes 3, 3, 5       -> 3
    #       cell 1: classes 4, 2          -> tie -> 2
    #       cell 2: classes 1, 1, 1, 6*   -> 6 (a priority point wins)
    #       cell 3: empty                 -> -1
    x = np.array([0.1, 0.2, 0.3, 1.1, 1.2, 2.1, 2.2, 2.3, 2.4])
    y = np.zeros(9)
    classes = np.array([3, 3, 5, 4, 2, 1, 1, 1, 6])
    priority = np.array([0, 0, 0, 0, 0, 0, 0, 0, 1], bool)
    s = braille_scatter(x, y, width=4, height=1, classes=classes, priority=priority, bounds=Bounds(0, 4, 0, 1))
    assert s.colour.tolist() == [[3, 2, 6, -1]]
    assert s.marked.tolist() == [[False, False, True, False]]
    assert s.counts.tolist() == [[3, 2, 4, 0]]
    plain = braille_scatter(x, y, width=4, height=1, bounds=Bounds(0, 4, 0, 1))
    assert plain.colour.tolist() == [[0, 0, 0, -1]] and not plain.marked.any()


def test_scatter_lines_use_spaces_for_empty_cells():
    s = braille_scatter(np.array([0.0]), np.array([4.0]), width=2, height=2, bounds=BOX)
    assert s.lines() == [chr(BRAILLE_BASE + 0x01) + " ", "  "]
    assert s.lines(empty=chr(BRAILLE_BASE))[1] == chr(BRAILLE_BASE) * 2
    assert s.size == (2, 2)


def test_scatter_empty_input_and_bad_arguments():
    s = braille_scatter(np.zeros(0), np.zeros(0), width=3, height=2)
    assert s.codes.shape == (2, 3) and (s.colour == -1).all()
    assert s.select(0, 0, 5, 5).tolist() == []
    with pytest.raises(ValueError):
        braille_scatter(np.zeros(2), np.zeros(2), width=0, height=1)
    with pytest.raises(ValueError):
        braille_scatter(np.zeros(2), np.zeros(3), width=1, height=1)
    with pytest.raises(ValueError):
        braille_scatter(np.float64(1.0), np.float64(1.0), width=1, height=1)
    with pytest.raises(ValueError):
        braille_scatter(np.zeros(2), np.zeros(2), width=1, height=1, classes=np.array([0, -1]))


def test_selection_rectangle_and_counts():
    # A 4x4 grid over [0, 4]^2: one point per cell at cell centres, row 0 at the top.
    xs, ys = np.meshgrid(np.arange(4) + 0.5, np.arange(4) + 0.5)
    x, y = xs.ravel(), ys.ravel()
    digits = np.array([7, 7, 1, 1, 7, 2, 2, 2, 7, 7, 7, 0, 3, 3, 3, 3])
    s = braille_scatter(x, y, width=4, height=4, classes=digits, bounds=BOX)
    # y=0.5 is the bottom row (3); cells (2..3, 0..1) hold points 0, 1, 4, 5.
    chosen = s.select(2, 0, 3, 1)
    assert chosen.tolist() == [0, 1, 4, 5]
    assert s.select(3, 1, 2, 0).tolist() == chosen.tolist()  # corners in either order
    assert s.select(10, 10, 12, 12).tolist() == []
    assert s.select(-5, -5, 20, 20).tolist() == list(range(16))
    inside = class_counts(digits, indices=chosen)
    total = class_counts(digits)
    assert inside[7] == 3 and total[7] == 6 and inside.sum() == 4
    assert class_counts(digits, indices=np.array([], int)).tolist() == [0] * 10
    assert count_phrase(7, int(inside[7]), int(total[7])) == "3 of 6 sevens"


def test_confidence_classes():
    conf = np.array([0.1, 0.5, 0.899, 0.9, 0.99, 1.0, np.nan])
    assert confidence_classes(conf).tolist() == [0, 1, 1, 2, 3, 3, 0]
    assert confidence_classes(conf, edges=(0.5,)).tolist() == [0, 1, 1, 1, 1, 1, 0]
    assert confidence_classes(np.zeros(0)).shape == (0,)


def test_count_phrase():
    assert count_phrase(7, 47, 412) == "47 of 412 sevens"
    assert count_phrase(6, 1200, 1500) == "1,200 of 1,500 sixes"
    assert count_phrase(1, 0, 1) == "0 of 1 one"


# --------------------------------------------------------------------------- attribution

RNG = np.random.default_rng(4)
WEIGHTS = RNG.normal(size=(3, 28, 28))  # a linear model: score_c(x) = sum(W_c * x)
IMAGE = RNG.uniform(size=(28, 28))


def linear_grads(batch, class_index):
    return np.broadcast_to(WEIGHTS[class_index], batch.shape).copy()


def test_integrated_gradients_of_a_linear_model_is_weights_times_input():
    ig = integrated_gradients(linear_grads, IMAGE, 2, steps=32)
    np.testing.assert_allclose(ig, WEIGHTS[2] * IMAGE, rtol=1e-12)
    np.testing.assert_allclose(gradient_times_input(linear_grads, IMAGE, 2), WEIGHTS[2] * IMAGE, rtol=1e-12)
    assert ig.shape == (28, 28)


def test_integrated_gradients_with_a_baseline_uses_the_difference():
    baseline = np.full((28, 28), 0.25)
    ig = integrated_gradients(linear_grads, IMAGE, 0, steps=4, baseline=baseline)
    np.testing.assert_allclose(ig, WEIGHTS[0] * (IMAGE - 0.25), rtol=1e-12, atol=1e-15)


def test_integrated_gradients_quadratic_score_is_exact_and_differs_from_gradient_times_input():
    # score = sum(w * x^2): gradient 2wx is linear along the path, so the trapezoid is exact.
    def grads(batch, class_index):
        return 2 * WEIGHTS[class_index] * batch

    ig = integrated_gradients(grads, IMAGE, 1, steps=3)
    np.testing.assert_allclose(ig, WEIGHTS[1] * IMAGE**2, rtol=1e-6)
    np.testing.assert_allclose(gradient_times_input(grads, IMAGE, 1), 2 * WEIGHTS[1] * IMAGE**2, rtol=1e-6)


def test_integrated_gradients_completeness_on_a_nonlinear_score():
    # score = sum(sin(3x)) from a black image: IG per pixel approaches sin(3x).
    ig = integrated_gradients(lambda b, c: 3 * np.cos(3 * b), IMAGE, 0, steps=32)
    np.testing.assert_allclose(ig, np.sin(3 * IMAGE), atol=2e-3)
    assert ig.sum() == pytest.approx(np.sin(3 * IMAGE).sum(), rel=1e-3)


def test_integrated_gradients_sends_one_float32_batch():
    calls = []

    def grads(batch, class_index):
        calls.append((batch.shape, batch.dtype, class_index, batch[0].max(), batch[-1].copy()))
        return np.zeros_like(batch)

    integrated_gradients(grads, IMAGE, 7, steps=32)
    [(shape, dtype, cls, first_max, last)] = calls
    assert shape == (33, 28, 28) and dtype == np.float32 and cls == 7
    assert first_max == 0.0  # the black baseline
    np.testing.assert_allclose(last, IMAGE, rtol=1e-6)


def test_attribution_rejects_bad_arguments():
    with pytest.raises(ValueError):
        integrated_gradients(linear_grads, IMAGE, 0, steps=0)
    with pytest.raises(ValueError):
        integrated_gradients(linear_grads, IMAGE, 0, baseline=np.zeros((2, 2)))
    with pytest.raises(ValueError):
        integrated_gradients(lambda b, c: np.zeros((28, 28)), IMAGE, 0)
    with pytest.raises(ValueError):
        gradient_times_input(lambda b, c: np.zeros(3), IMAGE, 0)


def test_normalise_signed():
    values = np.array([[-2.0, 1.0], [0.0, 4.0]])
    assert normalise_signed(values, 100).tolist() == [[-0.5, 0.25], [0.0, 1.0]]
    # The median of |values| is 1.5, so -2 and 4 clip and 1 becomes 2/3.
    np.testing.assert_allclose(normalise_signed(values, 50), [[-1, 2 / 3], [0, 1]], rtol=1e-6)
    assert normalise_signed(values).dtype == np.float32


def test_normalise_signed_robust_to_one_extreme_pixel():
    values = np.ones(1000)
    values[0] = -1000.0
    scaled = normalise_signed(values, 99)
    assert scaled[0] == -1.0 and (scaled[1:] == 1.0).all()


def test_normalise_signed_degenerate_maps():
    assert (normalise_signed(np.zeros((28, 28))) == 0).all()
    sparse = np.zeros(1000)
    sparse[5] = -3.0  # the 99th percentile of |sparse| is 0: scale by the maximum
    assert normalise_signed(sparse)[5] == -1.0
    assert normalise_signed(np.array([np.nan, 2.0, np.inf]), 100).tolist() == [0.0, 1.0, 0.0]
    assert normalise_signed(np.zeros(0)).shape == (0,)
    with pytest.raises(ValueError):
        normalise_signed(np.ones(3), 0)


# --------------------------------------------------------------------------- weight grid


def test_unit_maps_dense_sorted_by_kernel_norm():
    # 4 inputs (a 2x2 image), 3 units; norms 1, 4, 4 -> order 1, 2 (tie keeps order), 0.
    kernel = np.array([[1, 0, 4], [0, 4, 0], [0, 0, 0], [0, 0, 0]], float)
    maps = unit_maps(kernel)
    assert maps.order.tolist() == [1, 2, 0]
    assert maps.usage.tolist() == [4.0, 4.0, 1.0]
    assert maps.maps.shape == (3, 2, 2) and maps.maps.dtype == np.float32
    assert maps.maps[0].tolist() == [[0, 1], [0, 0]]
    assert maps.maps[1].tolist() == [[1, 0], [0, 0]]


def test_unit_maps_usage_from_the_next_layer_and_signed_maps():
    kernel = np.array([[2, -1], [-4, 0], [1, 0], [0, 0.5]])
    nxt = np.array([[0.1, 0.0], [3.0, 4.0]])  # unit 1 is used far more
    maps = unit_maps(kernel, nxt)
    assert maps.order.tolist() == [1, 0]
    np.testing.assert_allclose(maps.usage, [5.0, 0.1])
    assert maps.maps[0].tolist() == [[-1, 0], [0, 0.5]]
    assert maps.maps[1].tolist() == [[0.5, -1], [0.25, 0]]


def test_unit_maps_conv_filters():
    kernel = np.zeros((3, 3, 2, 2))
    kernel[0, 0, 0, 0] = 1.0
    kernel[0, 0, 1, 0] = 1.0  # input channels add up: 2 at the corner
    kernel[1, 1, 0, 1] = -0.5
    kernel[2, 2, 0, 1] = 0.25
    nxt = np.zeros((3, 3, 2, 4))
    nxt[..., 1, :] = 1.0
    maps = unit_maps(kernel, nxt)
    assert maps.order.tolist() == [1, 0]
    np.testing.assert_allclose(maps.usage, [6.0, 0.0])
    assert maps.maps[0][1, 1] == -1.0 and maps.maps[0][2, 2] == 0.5
    assert maps.maps[1][0, 0] == 1.0 and maps.maps[1].sum() == 1.0
    assert unit_maps(kernel).order.tolist() == [0, 1]  # own norms: sqrt(2) > sqrt(0.3125)


def test_unit_maps_zero_unit_and_bad_shapes():
    maps = unit_maps(np.zeros((784, 2)))
    assert maps.maps.shape == (2, 28, 28) and (maps.maps == 0).all()
    assert maps.order.tolist() == [0, 1]
    with pytest.raises(ValueError):
        unit_maps(np.zeros((5, 2)))
    with pytest.raises(ValueError):
        unit_maps(np.zeros((4, 2)), np.zeros((3, 10)))
    with pytest.raises(ValueError):
        unit_maps(np.zeros((4,)))
