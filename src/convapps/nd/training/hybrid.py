"""A ConvNet and MiniRocket voting together: the net's test probabilities and MiniRocket's class scores
(:func:`convapps.nd.anchors.anchor_scores`) averaged with equal weights.

The two make different mistakes: MiniRocket's features are fixed random dilated kernels read by a linear
model, the net's filters are learned end to end, so on small training sets their average is steadier
than either. The weight is fixed at 1/2 in advance (there is no data to tune it on without the test
split: the net's out-of-fold predictions are optimistic because it early-stopped on them).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from convapps.errors import InvalidInputError
from convapps.nd.anchors import anchor_scores
from convapps.nd.datasets import ClassifierData
from convapps.nd.training.classifier import train_classifier
from convapps.nd.training.ensemble import train_fold_ensemble
from convapps.nd.training.report import write_report
from convapps.nd.training.runs import CVSummary
from convapps.nn.convnet import ConvNetConfig
from convapps.training import FitConfig
from convapps.training.metrics import ClassificationReport, classification_report, predict_proba

NET_WEIGHT = 0.5
"""Share of the net in the blend; MiniRocket gets the rest."""


def blend(net_proba: np.ndarray, anchor_proba: np.ndarray, *, net_weight: float = NET_WEIGHT) -> np.ndarray:
    """``w * p_net + (1 - w) * p_anchor`` for class scores ``(N, K)`` of the same samples and classes."""
    if net_proba.shape != anchor_proba.shape or net_proba.ndim != 2:
        raise InvalidInputError(f"class scores must both be (N, K), got {net_proba.shape} and {anchor_proba.shape}")
    if not 0.0 <= net_weight <= 1.0:
        raise InvalidInputError(f"net_weight must be in [0, 1], got {net_weight}")
    return net_weight * net_proba + (1.0 - net_weight) * anchor_proba


@dataclass(frozen=True)
class HybridResult:
    """Test figures of the net (or net ensemble), of MiniRocket alone and of their blend."""

    net: ClassificationReport
    anchor: ClassificationReport
    hybrid: ClassificationReport
    seconds: float


def hybrid_test_report(
    data: ClassifierData,
    *,
    model_config: ConvNetConfig,
    fit_config: FitConfig,
    ensemble_folds: int | None = None,
    jitter: bool = False,
    seed: int = 0,
) -> HybridResult:
    """Fit the net and MiniRocket on ``data`` and report all three on its test split.

    The net: with ``ensemble_folds`` a k-fold ensemble over the train + val parts
    (:func:`~convapps.nd.training.ensemble.train_fold_ensemble`), otherwise one net early-stopped on the
    val part. MiniRocket (kernels drawn with ``seed``) fits on train + val, as every anchor does.
    """
    if data.x_test is None or data.y_test is None:
        raise InvalidInputError("the hybrid is reported on a test split (give a test file)")
    started = time.perf_counter()
    x = np.concatenate([data.x_train, data.x_val])
    y = np.concatenate([data.y_train, data.y_val])
    if ensemble_folds is not None:
        net_proba = train_fold_ensemble(
            x,
            y,
            data.classes,
            data.x_test,
            data.y_test,
            folds=ensemble_folds,
            model_config=model_config,
            fit_config=fit_config,
            jitter=jitter,
        ).proba
    else:
        model = train_classifier(data, model_config=model_config, fit_config=fit_config, jitter=jitter).model
        net_proba = predict_proba(model, torch.from_numpy(data.x_test))
    anchor_proba = anchor_scores("minirocket", x, y, data.x_test, classes=len(data.classes), seed=seed)
    return HybridResult(
        net=classification_report(data.y_test, net_proba, data.classes),
        anchor=classification_report(data.y_test, anchor_proba, data.classes),
        hybrid=classification_report(data.y_test, blend(net_proba, anchor_proba), data.classes),
        seconds=time.perf_counter() - started,
    )


def cross_validate_hybrid(
    folds: Iterable[ClassifierData], *, model_config: ConvNetConfig, fit_config: FitConfig, seed: int = 0
) -> CVSummary:
    """The blend on every fold of a cross-validation (one net per fold, early-stopped on its val part)."""
    started = time.perf_counter()
    reports = [
        hybrid_test_report(data, model_config=model_config, fit_config=fit_config, seed=seed).hybrid for data in folds
    ]
    return CVSummary(folds=reports, seconds=time.perf_counter() - started)


def hybrid_train_and_report(
    data: ClassifierData,
    *,
    model_config: ConvNetConfig,
    fit_config: FitConfig,
    out_dir: str | Path,
    title: str,
    seed: int = 0,
) -> tuple[HybridResult, list[Path]]:
    """:func:`hybrid_test_report` (one net), then ``report.json`` (the blend's test figures, the net's and
    MiniRocket's beside them) and ``confusion_test.png`` in ``out_dir``."""
    result = hybrid_test_report(data, model_config=model_config, fit_config=fit_config, seed=seed)
    extra = {
        "task": "ecg",
        "arch": "hybrid",
        "model": model_config.to_dict(),
        "net_weight": NET_WEIGHT,
        "net_test": result.net.to_dict(),
        "minirocket_test": result.anchor.to_dict(),
        "train_samples": len(data.y_train) + len(data.y_val),
        "seconds": round(result.seconds, 1),
        "seed": seed,
    }
    files = write_report(Path(out_dir), {"test": result.hybrid}, title=title, extra=extra)
    return result, files
