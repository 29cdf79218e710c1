"""One fit loop for every trainer of the project (progress bar, seeds, checkpoints + resume, early
stopping on a validation split, metrics). API: ``docs/dev/training-api.md``."""

from convapps.training.config import FitConfig, OptimizerConfig
from convapps.training.loop import BatchLoss, Callback, EpochLog, FitResult, ValMetrics, fit, supervised_loss
from convapps.training.metrics import (
    ClassificationReport,
    classification_metrics,
    classification_report,
    predict_proba,
)

__all__ = [
    "BatchLoss",
    "Callback",
    "ClassificationReport",
    "EpochLog",
    "FitConfig",
    "FitResult",
    "OptimizerConfig",
    "ValMetrics",
    "classification_metrics",
    "classification_report",
    "fit",
    "predict_proba",
    "supervised_loss",
]
