"""Metric sets: named groups of metrics and baselines computed from a split's predictions.

One file per metric set; each declares ``task_kind``, ``headline`` (the metrics a runs table
shows), ``baselines`` (metric -> the baseline it is compared with) and ``directions``.
"""

from seqrun.metrics.base import direction
from seqrun.metrics.classification import ClassificationMetrics, predicted_labels, roc_auc
from seqrun.metrics.forecast import ForecastMetrics, rain_scores
from seqrun.metrics.regression import RegressionMetrics

__all__ = [
    "ClassificationMetrics",
    "ForecastMetrics",
    "RegressionMetrics",
    "direction",
    "predicted_labels",
    "rain_scores",
    "roc_auc",
]
