"""Evaluation figures of a classifier: accuracy, macro ROC AUC (one-vs-rest) and the confusion matrix.

The AUC is the Mann-Whitney statistic: the probability that a random positive scores higher than a
random negative (ties count one half), computed from ranks in O(n log n).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch

from convapps.errors import InvalidInputError
from convapps.training.data import Batch


def predict_proba(model: torch.nn.Module, x: torch.Tensor, *, batch_size: int = 256) -> np.ndarray:
    """Softmax class probabilities ``(N, K)`` of ``model`` on inputs ``x`` ``(N, ...)`` (eval mode, no grad)."""
    model.eval()
    device = next(model.parameters()).device
    outputs = []
    with torch.no_grad():
        for start in range(0, len(x), batch_size):
            outputs.append(torch.softmax(model(x[start : start + batch_size].to(device)), dim=1).cpu())
    return torch.cat(outputs).numpy() if outputs else np.zeros((0, 0), dtype=np.float32)


def roc_auc(y_true: np.ndarray, scores: np.ndarray) -> float:
    """Binary ROC AUC of ``scores`` for labels ``y_true`` in {0, 1}; NaN when a class is absent."""
    y = np.asarray(y_true).astype(bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = np.asarray(scores)[order]
    ranks = np.empty(len(y), dtype=np.float64)
    # average ranks (1-based) over ties
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    for start, count in zip(first, counts, strict=True):
        ranks[order[start : start + count]] = start + (count + 1) / 2
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def macro_auc(y_true: np.ndarray, proba: np.ndarray) -> float:
    """Binary: AUC of the class-1 probability. K > 2: mean one-vs-rest AUC over classes present."""
    if proba.ndim != 2 or len(proba) != len(y_true):
        raise InvalidInputError(f"probabilities of shape {proba.shape} do not match {len(y_true)} labels")
    if proba.shape[1] == 2:
        return roc_auc(y_true == 1, proba[:, 1])
    aucs = [roc_auc(y_true == k, proba[:, k]) for k in range(proba.shape[1])]
    valid = [a for a in aucs if not np.isnan(a)]
    return float(np.mean(valid)) if valid else float("nan")


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """``C[i, j]`` = number of samples of true class i predicted as class j."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    return matrix


@dataclass(frozen=True)
class ClassificationReport:
    """Accuracy, macro AUC and confusion matrix of one evaluation, with the majority-class baseline."""

    accuracy: float
    macro_auc: float
    confusion: list[list[int]]
    classes: list[str]
    n: int
    majority_accuracy: float
    """Accuracy of always answering the most frequent true class of this set (the trivial baseline)."""

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dictionary."""
        return asdict(self)


def classification_report(
    y_true: np.ndarray, proba: np.ndarray, class_names: Sequence[str] | None = None
) -> ClassificationReport:
    """Figures of probabilities ``proba`` ``(N, K)`` against integer labels ``y_true`` ``(N,)``."""
    y = np.asarray(y_true, dtype=np.int64)
    k = proba.shape[1]
    names = list(class_names) if class_names is not None else [str(i) for i in range(k)]
    pred = proba.argmax(axis=1)
    counts = np.bincount(y, minlength=k)
    return ClassificationReport(
        accuracy=float((pred == y).mean()) if len(y) else float("nan"),
        macro_auc=macro_auc(y, proba),
        confusion=confusion_matrix(y, pred, k).tolist(),
        classes=names,
        n=len(y),
        majority_accuracy=float(counts.max() / max(len(y), 1)),
    )


def classification_metrics(model: torch.nn.Module, batches: Iterable[Batch]) -> dict[str, float]:
    """``val_metrics`` for :func:`convapps.training.fit` on ``(x, y)`` batches: accuracy and macro AUC."""
    probs, labels = [], []
    with torch.no_grad():
        for x, y, *_ in batches:
            device = next(model.parameters()).device
            probs.append(torch.softmax(model(x.to(device)), dim=1).cpu())
            labels.append(y)
    proba = torch.cat(probs).numpy()
    y_true = torch.cat(labels).numpy()
    return {"accuracy": float((proba.argmax(1) == y_true).mean()), "auc": macro_auc(y_true, proba)}
