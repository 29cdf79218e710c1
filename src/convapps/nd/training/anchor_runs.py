"""The anchor classifiers (:mod:`convapps.nd.anchors`) run the way our nets are: same data splits, same
report (``report.json``, confusion PNG), same cross-validation summary. An anchor needs no early stopping,
so it fits on the training AND validation parts (all the labelled data a user gave it)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from convapps.errors import InvalidInputError
from convapps.nd.anchors import anchor_scores
from convapps.nd.datasets import ClassifierData
from convapps.nd.training.report import write_report
from convapps.nd.training.runs import CVSummary
from convapps.training.metrics import ClassificationReport, classification_report


@dataclass(frozen=True)
class AnchorRun:
    """Test figures of one anchor fit, its wall time, and the files written."""

    test: ClassificationReport
    seconds: float
    files: list[Path]


def anchor_test_report(data: ClassifierData, name: str, *, seed: int = 0) -> tuple[ClassificationReport, float]:
    """Fit anchor ``name`` on ``data``'s train + val parts; its test figures and the seconds it took."""
    if data.x_test is None or data.y_test is None:
        raise InvalidInputError("the anchor needs a test split to report on (give a test file)")
    started = time.perf_counter()
    x = np.concatenate([data.x_train, data.x_val])
    y = np.concatenate([data.y_train, data.y_val])
    proba = anchor_scores(name, x, y, data.x_test, classes=len(data.classes), seed=seed)
    return classification_report(data.y_test, proba, data.classes), time.perf_counter() - started


def anchor_train_and_report(
    data: ClassifierData, name: str, *, out_dir: str | Path, title: str, seed: int = 0
) -> AnchorRun:
    """:func:`anchor_test_report`, then ``report.json`` and ``confusion_test.png`` in ``out_dir``."""
    report, seconds = anchor_test_report(data, name, seed=seed)
    extra = {
        "task": "ecg",
        "arch": name,
        "train_samples": len(data.y_train) + len(data.y_val),
        "seconds": round(seconds, 1),
        "seed": seed,
    }
    files = write_report(Path(out_dir), {"test": report}, title=title, extra=extra)
    return AnchorRun(test=report, seconds=seconds, files=files)


def cross_validate_anchor(folds: Iterable[ClassifierData], name: str, *, seed: int = 0) -> CVSummary:
    """The anchor on every fold of a cross-validation (the folds of ``runs.cross_validate``)."""
    started = time.perf_counter()
    reports = [anchor_test_report(data, name, seed=seed)[0] for data in folds]
    return CVSummary(folds=reports, seconds=time.perf_counter() - started)
