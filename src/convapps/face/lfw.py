"""The LFW verification protocol: pairs files, 10-fold cross-validated accuracy, ROC and AUC.

View 1 (``pairsDevTrain.txt``, ``pairsDevTest.txt``) is for choosing hyper-parameters such as tau; View 2
(``pairs.txt``: 10 folds of 300 same + 300 different pairs) only reports the final accuracy. For each
fold k, the threshold tau_k maximising accuracy on the other 9 folds is applied to fold k; the result is
the mean +/- standard deviation of the 10 fold accuracies. Distances are the lecture's squared L2.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from convapps.errors import DataFileError


@dataclass(frozen=True)
class Pair:
    """One LFW pair: two image paths, whether they show the same person, and its fold (0-based)."""

    path1: Path
    path2: Path
    same: bool
    fold: int


def _image(root: Path, name: str, number: str) -> Path:
    return root / name / f"{name}_{int(number):04d}.jpg"


def read_pairs(pairs_file: str | Path, root: str | Path) -> list[Pair]:
    """Parse an LFW pairs file (View 1 header ``N``, View 2 header ``folds N``).

    Raises:
        DataFileError: the file is missing or a line is malformed (the message names file and line).
    """
    file, base = Path(pairs_file), Path(root)
    try:
        lines = [ln.split() for ln in file.read_text().splitlines() if ln.strip()]
    except OSError as err:
        raise DataFileError(f"{file}: cannot read the pairs file ({err.strerror})") from err
    if not lines or not all(v.isdigit() for v in lines[0]) or len(lines[0]) not in (1, 2):
        raise DataFileError(f"{file}: first line must be 'N' or 'FOLDS N' (an LFW pairs file)")
    folds, per = (1, int(lines[0][0])) if len(lines[0]) == 1 else (int(lines[0][0]), int(lines[0][1]))
    body = lines[1:]
    if len(body) != folds * 2 * per:
        raise DataFileError(f"{file}: expected {folds * 2 * per} pairs after the header, found {len(body)}")
    pairs = []
    for i, parts in enumerate(body):
        fold, within = divmod(i, 2 * per)
        if len(parts) == 3:
            pairs.append(Pair(_image(base, parts[0], parts[1]), _image(base, parts[0], parts[2]), True, fold))
        elif len(parts) == 4:
            pairs.append(Pair(_image(base, parts[0], parts[1]), _image(base, parts[2], parts[3]), False, fold))
        else:
            raise DataFileError(f"{file}: line {i + 2} is not 'name n1 n2' or 'name1 n1 name2 n2'")
        if pairs[-1].same != (within < per):
            raise DataFileError(f"{file}: line {i + 2}: same/different pairs are not in the expected order")
    return pairs


def accuracy_at(distances: NDArray[np.float64], same: NDArray[np.bool_], tau: float) -> float:
    """Fraction of pairs decided correctly by ``d <= tau``."""
    return float(np.mean((distances <= tau) == same))


def best_threshold(distances: NDArray[np.float64], same: NDArray[np.bool_]) -> float:
    """The tau maximising accuracy on these pairs (midpoint between neighbouring sorted distances)."""
    d = np.sort(np.unique(distances))
    candidates = np.concatenate([[d[0] - 1e-6], (d[:-1] + d[1:]) / 2.0, [d[-1] + 1e-6]])
    accs = np.array([accuracy_at(distances, same, float(t)) for t in candidates])
    best = np.flatnonzero(accs == accs.max())
    return float(candidates[best[len(best) // 2]])


@dataclass(frozen=True)
class CrossValidation:
    """10-fold result: per-fold accuracy and the threshold picked on the other folds."""

    fold_accuracies: tuple[float, ...]
    fold_thresholds: tuple[float, ...]

    @property
    def mean(self) -> float:
        return float(np.mean(self.fold_accuracies))

    @property
    def std(self) -> float:
        return float(np.std(self.fold_accuracies))


def cross_validate(distances: NDArray[np.float64], same: NDArray[np.bool_], folds: NDArray[np.int_]) -> CrossValidation:
    """The official protocol: for each fold, tau picked on the other folds, accuracy on this fold."""
    accs, taus = [], []
    for k in np.unique(folds):
        train = folds != k
        tau = best_threshold(distances[train], same[train])
        accs.append(accuracy_at(distances[~train], same[~train], tau))
        taus.append(tau)
    return CrossValidation(tuple(accs), tuple(taus))


def roc_curve(
    distances: NDArray[np.float64], same: NDArray[np.bool_]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """False-positive and true-positive rates of ``d <= tau`` over every tau (both start at 0, end at 1)."""
    order = np.argsort(distances, kind="stable")
    labels = same[order].astype(np.float64)
    tp = np.concatenate([[0.0], np.cumsum(labels)])
    fp = np.concatenate([[0.0], np.cumsum(1.0 - labels)])
    return fp / max(fp[-1], 1.0), tp / max(tp[-1], 1.0)


def auc(fpr: NDArray[np.float64], tpr: NDArray[np.float64]) -> float:
    """Area under the ROC curve (trapezoids)."""
    return float(np.sum((fpr[1:] - fpr[:-1]) * (tpr[1:] + tpr[:-1]) / 2.0))
