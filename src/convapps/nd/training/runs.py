"""End-to-end training runs: train, evaluate, write the report, the confusion matrices and a model
bundle ``model.pt`` that :func:`convapps.nd.predict.predict_file` reads."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from convapps.nd.bundle import ModelBundle, Task, save_bundle
from convapps.nd.datasets import ClassifierData, Normalize
from convapps.nd.training.classifier import TrainOutcome, train_classifier
from convapps.nd.training.report import write_report
from convapps.nn.convnet import ConvNetConfig
from convapps.training import FitConfig
from convapps.training.metrics import ClassificationReport

TASK_NORMALIZE: dict[Task, Normalize] = {"ecg": "zscore", "volume": "unit"}
"""How the ``nd.ecg`` and ``nd.volume`` loaders normalise each task's samples."""


@dataclass(frozen=True)
class RunSummary:
    """What one training run produced."""

    outcome: TrainOutcome
    files: list[Path]
    seconds: float


def train_and_report(
    data: ClassifierData,
    *,
    task: Task,
    model_config: ConvNetConfig,
    fit_config: FitConfig,
    out_dir: str | Path,
    title: str | None = None,
    normalize: Normalize | None = None,
    balanced: bool = False,
    flips: bool = False,
    sample_rate: float | None = None,
) -> RunSummary:
    """Train with checkpoints in ``out_dir/checkpoints``; write ``model.pt``, ``report.json`` and
    ``confusion_{val,test}.png`` into ``out_dir``.

    ``title`` heads the report (default: the folder's name); ``normalize`` is recorded in the bundle for
    prediction (default: the task's convention, ``"zscore"`` for ECG, ``"unit"`` for volumes, as the
    ``nd.ecg`` and ``nd.volume`` loaders prepare data). ``balanced``, ``flips``: see
    :func:`~convapps.nd.training.classifier.train_classifier`; ``sample_rate`` (Hz) of the signals, when
    known, lets prediction cut beats from records at the training rate.
    """
    out_dir = Path(out_dir)
    title = out_dir.name if title is None else title
    normalize = TASK_NORMALIZE[task] if normalize is None else normalize
    started = time.perf_counter()
    fit_config = replace(fit_config, checkpoint_dir=out_dir / "checkpoints")
    outcome = train_classifier(data, model_config=model_config, fit_config=fit_config, balanced=balanced, flips=flips)
    seconds = time.perf_counter() - started
    reports: dict[str, ClassificationReport] = {"val": outcome.val}
    if outcome.test is not None:
        reports["test"] = outcome.test
    metrics = {f"{s}_{k}": getattr(r, k) for s, r in reports.items() for k in ("accuracy", "macro_auc")}
    extra = {
        "task": task,
        "model": model_config.to_dict(),
        "train_samples": len(data.y_train),
        "best_epoch": outcome.fit.best_epoch,
        "epochs_run": len(outcome.fit.history),
        "stopped_early": outcome.fit.stopped_early,
        "seconds": round(seconds, 1),
        "seed": fit_config.seed,
        "threads": fit_config.num_threads,
    }
    files = write_report(out_dir, reports, title=title, extra=extra)
    bundle = ModelBundle(
        task=task,
        config=model_config,
        classes=data.classes,
        input_shape=data.input_shape,
        normalize=normalize,
        state_dict=outcome.model.state_dict(),
        metrics=metrics,
        sample_rate=sample_rate,
    )
    save_bundle(out_dir / "model.pt", bundle)
    return RunSummary(outcome=outcome, files=[out_dir / "model.pt", *files], seconds=seconds)


@dataclass(frozen=True)
class CVSummary:
    """Per-fold test figures of a cross-validation and their mean and standard deviation."""

    folds: list[ClassificationReport]
    seconds: float

    @property
    def accuracy(self) -> float:
        """Mean test accuracy over folds."""
        return statistics.fmean(r.accuracy for r in self.folds)

    @property
    def accuracy_std(self) -> float:
        """Sample standard deviation of the fold accuracies."""
        return statistics.stdev(r.accuracy for r in self.folds) if len(self.folds) > 1 else 0.0

    @property
    def macro_auc(self) -> float:
        """Mean macro AUC over folds."""
        return statistics.fmean(r.macro_auc for r in self.folds)


def cross_validate(
    folds: Iterable[ClassifierData],
    *,
    model_config: ConvNetConfig,
    fit_config: FitConfig,
    balanced: bool = False,
) -> CVSummary:
    """Train one model per fold (early stopping on the fold's validation part) and collect the test
    figures of each held-out fold."""
    started = time.perf_counter()
    reports = []
    for data in folds:
        outcome = train_classifier(data, model_config=model_config, fit_config=fit_config, balanced=balanced)
        if outcome.test is not None:
            reports.append(outcome.test)
    return CVSummary(folds=reports, seconds=time.perf_counter() - started)
