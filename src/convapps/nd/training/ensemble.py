"""A k-fold ensemble for small training sets: model i trains on all folds but i and early-stops on
fold i, so every training sample serves validation once; test probabilities are averaged."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from convapps.nd.datasets import ClassifierData, stratified_folds
from convapps.nd.training.classifier import train_classifier
from convapps.nn.convnet import ConvNetConfig
from convapps.training import FitConfig
from convapps.training.metrics import ClassificationReport, classification_report, predict_proba


@dataclass(frozen=True)
class EnsembleResult:
    """Test figures of each member and of the averaged probabilities ``proba`` ``(N_test, K)``."""

    members: list[ClassificationReport]
    ensemble: ClassificationReport
    models: list[nn.Module]
    proba: np.ndarray


def train_fold_ensemble(
    x: np.ndarray,
    y: np.ndarray,
    classes: tuple[str, ...],
    x_test: np.ndarray,
    y_test: np.ndarray,
    *,
    folds: int,
    model_config: ConvNetConfig,
    fit_config: FitConfig,
    jitter: bool = False,
) -> EnsembleResult:
    """Train ``folds`` models (seeds ``fit_config.seed + i``) and average their softmax outputs on ``x_test``."""
    members, models, probas = [], [], []
    for i, (train, val) in enumerate(stratified_folds(y, folds, seed=fit_config.seed)):
        data = ClassifierData(x[train], y[train], x[val], y[val], classes, x_test, y_test)
        config = FitConfig(**{**fit_config.__dict__, "seed": fit_config.seed + i})
        outcome = train_classifier(data, model_config=model_config, fit_config=config, jitter=jitter)
        if outcome.test is not None:
            members.append(outcome.test)
        models.append(outcome.model)
        probas.append(predict_proba(outcome.model, torch.from_numpy(x_test)))
    proba = np.mean(probas, axis=0)
    ensemble = classification_report(y_test, proba, classes)
    return EnsembleResult(members=members, ensemble=ensemble, models=models, proba=proba)
