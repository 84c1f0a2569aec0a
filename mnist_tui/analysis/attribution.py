"""Attribution maths for why-maps, independent of the deep-learning backend.

The model process supplies ``grads(batch, class_index)``: the gradient of the class's
score with respect to each image of a batch of scaled images (``tf.GradientTape`` on
TensorFlow, ``jax.grad`` on JAX). Everything else here is NumPy, so it is tested with
models whose gradients are known in closed form.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

GradientFn = Callable[[np.ndarray, int], np.ndarray]
"""``grads(batch, class_index)``: gradients shaped like ``batch`` (``(b, height, width)``)."""


def _gradients(grads: GradientFn, batch: np.ndarray, class_index: int) -> np.ndarray:
    result = np.asarray(grads(batch, class_index), dtype=np.float64)
    if result.shape != batch.shape:
        raise ValueError(f"gradient function returned shape {result.shape} for a batch of {batch.shape}")
    return result


def integrated_gradients(
    grads: GradientFn,
    image: np.ndarray,
    class_index: int,
    steps: int = 32,
    baseline: np.ndarray | None = None,
) -> np.ndarray:
    """Integrated gradients along the straight path from a baseline to the image.

    The path integral is approximated by the trapezoid rule over ``steps`` intervals
    (``steps + 1`` gradient evaluations, sent as one batch). The trapezoid rule is exact
    when the gradient changes linearly along the path, so a quadratic score is a test
    with a closed-form answer. The map's sum approximates
    ``score(image) - score(baseline)`` (completeness).

    Args:
        grads: gradient function, see :data:`GradientFn`.
        image: one scaled image, e.g. ``(height, width)`` in ``[0, 1]``.
        class_index: the class whose score is explained.
        steps: intervals along the path; about 32 is enough for a ReLU MLP.
        baseline: the starting image; a black image (zeros) by default.

    Returns:
        A float64 map shaped like ``image``: positive pushed toward the class.
    """
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    image = np.asarray(image, dtype=np.float64)
    baseline = np.zeros_like(image) if baseline is None else np.asarray(baseline, dtype=np.float64)
    if baseline.shape != image.shape:
        raise ValueError(f"baseline shape {baseline.shape} differs from image shape {image.shape}")
    alphas = np.linspace(0.0, 1.0, steps + 1).reshape((-1,) + (1,) * image.ndim)
    path = (baseline + alphas * (image - baseline)).astype(np.float32)
    g = _gradients(grads, path, class_index)
    average = (g[:-1] + g[1:]).sum(axis=0) / (2 * steps)
    return (image - baseline) * average


def gradient_times_input(grads: GradientFn, image: np.ndarray, class_index: int) -> np.ndarray:
    """The gradient at the image times the image: one gradient evaluation.

    Equal to integrated gradients from a black baseline when the score is linear in
    the pixels; a cheaper stand-in where it is measurably as good.

    Returns:
        A float64 map shaped like ``image``.
    """
    image = np.asarray(image, dtype=np.float64)
    g = _gradients(grads, image[None].astype(np.float32), class_index)[0]
    return image * g


def normalise_signed(values: np.ndarray, percentile: float = 99.0) -> np.ndarray:
    """Scale a signed map into ``[-1, 1]`` for drawing, keeping zero at zero.

    Dividing by a high percentile of ``|values|`` rather than the maximum stops one
    extreme pixel from washing the rest of the map out; values beyond it clip to +-1.
    If that percentile is 0 (a sparse map) the maximum is used instead.

    Args:
        values: any shape; NaN and inf count as 0 (nothing to show).
        percentile: in ``(0, 100]``; 100 scales by the maximum.

    Returns:
        float32 array shaped like ``values``; all zeros for an all-zero map.
    """
    if not 0 < percentile <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {percentile}")
    values = np.asarray(values, dtype=np.float64)
    values = np.where(np.isfinite(values), values, 0.0)
    if values.size == 0:
        return values.astype(np.float32)
    magnitude = np.abs(values)
    scale = float(np.percentile(magnitude, percentile))
    if scale <= 0:
        scale = float(magnitude.max())
    if scale <= 0:
        return np.zeros(values.shape, np.float32)
    return np.clip(values / scale, -1.0, 1.0).astype(np.float32)
