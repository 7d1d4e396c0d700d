"""Metrics, torch-free: a registry of protocol-named metrics, feature networks, the Evaluator."""

from ganflow.sampler.metrics.features import DEFAULT_FEATURES, FeatureNet, IdentityFeatures
from ganflow.sampler.metrics.registry import METRICS, Evaluator, Metric, count_tag

# importing the built-in metrics registers them
from ganflow.sampler.metrics import builtin  # noqa: E402,F401  isort: skip
from ganflow.sampler.metrics import nll  # noqa: E402,F401  isort: skip

__all__ = [
    "DEFAULT_FEATURES",
    "METRICS",
    "Evaluator",
    "FeatureNet",
    "IdentityFeatures",
    "Metric",
    "count_tag",
]
