"""ECG classification data: UCR beat files (official train/test or k folds) and beats cut from a
long WFDB record around its annotated R peaks. Every series is z-normalised per lead."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from convapps.io.signals import read_ucr, read_wfdb
from convapps.nd.beats import MITBIH_N_VS_A, segment_beats
from convapps.nd.datasets import ClassifierData, normalize, stratified_folds, stratified_split


def ecg_from_ucr(
    train_path: str | Path, test_path: str | Path | None = None, *, val_fraction: float = 0.2, seed: int = 0
) -> ClassifierData:
    """The UCR training file split stratified into train/val (``val_fraction``), and the official test
    file (read with the training file's class order) when given. Arrays are ``(N, 1, T)``."""
    train = read_ucr(train_path)
    x = normalize(train.x[:, None, :], "zscore")
    tr, va = stratified_split(train.y, val_fraction, seed=seed)
    x_test = y_test = None
    if test_path is not None:
        test = read_ucr(test_path, classes=train.classes)
        x_test, y_test = normalize(test.x[:, None, :], "zscore"), test.y
    return ClassifierData(x[tr], train.y[tr], x[va], train.y[va], train.classes, x_test, y_test)


def ucr_folds(
    path: str | Path, *, folds: int = 5, val_fraction: float = 0.1, seed: int = 0
) -> Iterator[ClassifierData]:
    """Stratified ``folds``-fold cross-validation of one UCR file: each fold is the test split once;
    ``val_fraction`` of the remaining samples is held out for early stopping."""
    data = read_ucr(path)
    x = normalize(data.x[:, None, :], "zscore")
    for fold, (rest, test) in enumerate(stratified_folds(data.y, folds, seed=seed)):
        tr, va = stratified_split(data.y[rest], val_fraction, seed=seed + fold)
        yield ClassifierData(
            x[rest[tr]], data.y[rest[tr]], x[rest[va]], data.y[rest[va]], data.classes, x[test], data.y[test]
        )


def ecg_from_record(
    record_path: str | Path,
    *,
    labels: dict[str, int] | None = None,
    half_width_s: float = 0.35,
    leads: tuple[int, ...] = (0,),
    val_fraction: float = 0.2,
    test_fraction: float = 0.2,
    seed: int = 0,
) -> tuple[ClassifierData, float]:
    """Beats of an annotated WFDB record (default MIT-BIH N vs A, lead 0 = MLII) split stratified into
    train/val/test. Returns the data and the record's sampling rate (a model trained on it expects it)."""
    record = read_wfdb(record_path)
    beats = segment_beats(record, labels=labels or MITBIH_N_VS_A, half_width_s=half_width_s, leads=leads)
    x = normalize(beats.x, "zscore")
    rest, test = stratified_split(beats.y, test_fraction, seed=seed)
    tr, va = stratified_split(beats.y[rest], val_fraction / (1 - test_fraction), seed=seed + 1)
    data = ClassifierData(
        x[rest[tr]], beats.y[rest[tr]], x[rest[va]], beats.y[rest[va]], beats.classes, x[test], beats.y[test]
    )
    return data, record.fs


def windows(signal: np.ndarray, length: int) -> np.ndarray:
    """Non-overlapping windows ``(N, C, length)`` of a channels-first signal ``(C, T)`` (the tail that
    does not fill a window is dropped)."""
    count = signal.shape[1] // length
    return signal[:, : count * length].reshape(signal.shape[0], count, length).transpose(1, 0, 2)
