"""What the first layer learned: each hidden unit's (or filter's) weights as a small image.

Units are ordered by how much the network uses them, so the grid's first page shows the
ones that matter: a unit whose outgoing weights are near zero contributes little to
the prediction however striking its picture.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .attribution import normalise_signed


@dataclass(frozen=True, eq=False)
class UnitMaps:
    """Hidden units in order of use, most used first.

    Attributes:
        order: ``(units,)`` int64 unit numbers (columns of the kernel).
        usage: ``(units,)`` float64 the usage score of each unit in that order.
        maps: ``(units, side, side)`` float32 in ``[-1, 1]``, one per unit in that order;
            positive weights excite the unit, negative ones inhibit it.
    """

    order: np.ndarray
    usage: np.ndarray
    maps: np.ndarray


def _as_unit_images(kernel: np.ndarray) -> np.ndarray:
    """``(units, h, w)`` from a Dense kernel ``(pixels, units)`` or a Conv2D one ``(h, w, in, units)``."""
    if kernel.ndim == 2:
        pixels, units = kernel.shape
        side = int(round(pixels**0.5))
        if side * side != pixels:
            raise ValueError(f"a Dense kernel needs a square number of inputs, got {pixels}")
        return kernel.T.reshape(units, side, side)
    if kernel.ndim == 4:
        # Several input channels add up into the filter's response, so show their sum.
        return kernel.sum(axis=2).transpose(2, 0, 1)
    raise ValueError(f"expected a (pixels, units) or (h, w, in, units) kernel, got shape {kernel.shape}")


def _usage(kernel: np.ndarray, next_kernel: np.ndarray | None, units: int) -> np.ndarray:
    if next_kernel is None:
        # Without the next layer, the strength of the unit's own weights is the proxy.
        flat = kernel.reshape(-1, units)
        return np.linalg.norm(flat, axis=0)
    if next_kernel.ndim == 2 and next_kernel.shape[0] == units:
        return np.linalg.norm(next_kernel, axis=1)
    if next_kernel.ndim == 4 and next_kernel.shape[2] == units:
        return np.sqrt((next_kernel**2).sum(axis=(0, 1, 3)))
    raise ValueError(f"next layer's kernel {next_kernel.shape} does not take {units} inputs")


def unit_maps(kernel: np.ndarray, next_kernel: np.ndarray | None = None, percentile: float = 100.0) -> UnitMaps:
    """Sort a first layer's units by usage and turn each one's weights into a map.

    Usage is the L2 norm of a unit's outgoing weights (its row of the next Dense
    kernel, or its input slice of the next convolution) when ``next_kernel`` is given,
    else the L2 norm of its own incoming weights. Ties keep unit order.

    Args:
        kernel: ``(pixels, units)`` Dense kernel over a square image, or ``(h, w, in, filters)`` Conv2D kernel.
        next_kernel: the following layer's kernel, ``(units, out)`` or ``(h, w, units, out)``.
        percentile: passed to :func:`normalise_signed` per unit; 100 maps each unit's
            strongest weight to +-1.

    Returns:
        :class:`UnitMaps`.
    """
    kernel = np.asarray(kernel, dtype=np.float64)
    images = _as_unit_images(kernel)
    units = images.shape[0]
    usage = _usage(kernel, None if next_kernel is None else np.asarray(next_kernel, np.float64), units)
    usage = np.where(np.isfinite(usage), usage, 0.0)
    order = np.argsort(-usage, kind="stable")
    shape = images.shape[1:]
    maps = (
        np.stack([normalise_signed(images[u], percentile) for u in order])
        if units
        else np.zeros((0, *shape), np.float32)
    )
    return UnitMaps(order.astype(np.int64), usage[order], maps.astype(np.float32))
