"""Training use case shared by ECG and volume classification: a ConvNet, the fit loop, weighted
cross-entropy, early stopping on the validation split, and test figures."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from convapps.errors import InvalidInputError
from convapps.nd.datasets import AugmentDataset, ClassifierData, class_weights
from convapps.nn.build import build_classifier
from convapps.nn.convnet import ConvNetConfig
from convapps.training import FitConfig, FitResult, fit
from convapps.training.data import Batches
from convapps.training.metrics import ClassificationReport, classification_metrics, classification_report, predict_proba


@dataclass(frozen=True)
class TrainOutcome:
    """The trained model (best validation epoch), its fit history and its figures."""

    model: nn.Module
    fit: FitResult
    val: ClassificationReport
    test: ClassificationReport | None


def train_classifier(
    data: ClassifierData,
    *,
    model_config: ConvNetConfig,
    fit_config: FitConfig,
    balanced: bool = False,
    flips: bool = False,
    jitter: bool = False,
) -> TrainOutcome:
    """Fit ``build_classifier(model_config)`` on the training split, early-stopping on the validation split.

    ``balanced`` weights the cross-entropy by inverse class frequency (rare beats); ``flips`` augments
    training samples with random flips along each spatial axis (volumes); ``jitter`` with random shifts
    of up to 3 samples and amplitude scaling by ``1 + N(0, 0.1^2)`` (signals).
    """
    k = len(data.classes)
    if model_config.num_classes != k or model_config.in_channels != data.x_train.shape[1]:
        raise InvalidInputError(
            f"model expects {model_config.in_channels} channels / {model_config.num_classes} classes, "
            f"data has {data.x_train.shape[1]} / {k}"
        )
    torch.manual_seed(fit_config.seed)
    model = build_classifier(model_config)
    weight = class_weights(data.y_train, k) if balanced else None

    def loss(net: torch.nn.Module, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        return F.cross_entropy(net(batch[0]), batch[1], weight=weight)

    x_train, y_train = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    train: Batches = (x_train, y_train)
    if flips or jitter:
        train = AugmentDataset(x_train, y_train, flips=flips, shift=3 if jitter else 0, scale=0.1 if jitter else 0.0)
    val = (torch.from_numpy(data.x_val), torch.from_numpy(data.y_val))
    result = fit(model, train, val=val, loss=loss, val_metrics=classification_metrics, config=fit_config)
    val_report = classification_report(data.y_val, predict_proba(model, val[0]), data.classes)
    test_report = None
    if data.x_test is not None and data.y_test is not None:
        proba = predict_proba(model, torch.from_numpy(data.x_test))
        test_report = classification_report(data.y_test, proba, data.classes)
    return TrainOutcome(model=model, fit=result, val=val_report, test=test_report)
