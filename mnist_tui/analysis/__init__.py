"""NumPy-only analysis behind the understanding views: labels, neighbours, maps, metrics.

Nothing here imports TensorFlow, Keras or Textual, so it runs (and is tested) in the UI
process and the model process alike.
"""

from .attribution import GradientFn, gradient_times_input, integrated_gradients, normalise_signed
from .labels import SuspiciousLabels, given_label_probability, suspicious_labels
from .metrics import ClassMetrics, ConfusedPair, class_metrics, most_confused
from .neighbours import NeighbourIndex, Neighbours, normalise_rows
from .projection import PCA, fit_pca, knn_label_agreement, pca_2d
from .scatter import (
    BRAILLE_BASE,
    DOT_BITS,
    Bounds,
    BrailleScatter,
    braille_scatter,
    class_counts,
    confidence_classes,
    count_phrase,
    data_bounds,
    dot_positions,
)
from .weights import UnitMaps, unit_maps

__all__ = [
    "BRAILLE_BASE",
    "DOT_BITS",
    "PCA",
    "Bounds",
    "BrailleScatter",
    "ClassMetrics",
    "ConfusedPair",
    "GradientFn",
    "NeighbourIndex",
    "Neighbours",
    "SuspiciousLabels",
    "UnitMaps",
    "braille_scatter",
    "class_counts",
    "class_metrics",
    "confidence_classes",
    "count_phrase",
    "data_bounds",
    "dot_positions",
    "fit_pca",
    "given_label_probability",
    "gradient_times_input",
    "integrated_gradients",
    "knn_label_agreement",
    "most_confused",
    "normalise_rows",
    "normalise_signed",
    "pca_2d",
    "suspicious_labels",
    "unit_maps",
]
