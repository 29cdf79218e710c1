"""Verification figures from pair distances: accuracy at a threshold, ROC curve and AUC, EER, TAR at FAR.

Convention: a *distance* per pair (smaller = more alike; for a Siamese head pass ``-logit``), and
``same`` (1 = same person). A pair is accepted ("same") when ``d <= tau``.

- FAR(tau) = accepted different-person pairs / different-person pairs (false accept rate)
- TAR(tau) = accepted same-person pairs / same-person pairs (true accept rate, 1 - FRR)
- EER: the rate where FAR = FRR (linear interpolation between ROC points)
- TAR @ FAR = x: the highest TAR whose FAR <= x. With n different-person pairs FAR has resolution 1/n:
  at FAR = 1e-3 and n = 500 (DevTest) only FAR = 0 qualifies, which the report says.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from convapps.errors import InvalidInputError

FAR_TARGET = 1e-3


def _check(distances: ArrayLike, same: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    d = np.asarray(distances, dtype=np.float64).ravel()
    s = np.asarray(same).astype(bool).ravel()
    if len(d) != len(s) or len(d) == 0:
        raise InvalidInputError(f"need as many distances as labels (> 0), got {len(d)} and {len(s)}")
    if not s.any() or s.all():
        raise InvalidInputError("verification figures need both same-person and different-person pairs")
    return d, s


def roc_curve(
    distances: ArrayLike, same: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """``(far, tar, thresholds)`` for every distinct threshold (ascending), starting at FAR = TAR = 0."""
    d, s = _check(distances, same)
    order = np.argsort(d, kind="mergesort")
    d_sorted, s_sorted = d[order], s[order]
    last = np.r_[np.nonzero(np.diff(d_sorted))[0], len(d) - 1]  # last index of each distinct value
    tar = np.r_[0.0, np.cumsum(s_sorted)[last] / s.sum()]
    far = np.r_[0.0, np.cumsum(~s_sorted)[last] / (~s).sum()]
    thresholds = np.r_[d_sorted[0] - 1e-12, d_sorted[last]]
    return far, tar, thresholds


def auc(far: NDArray[np.float64], tar: NDArray[np.float64]) -> float:
    """Area under the ROC curve (trapezoids)."""
    return float(np.sum(np.diff(far) * (tar[1:] + tar[:-1]) / 2))


def equal_error_rate(far: NDArray[np.float64], tar: NDArray[np.float64]) -> float:
    """The rate where FAR equals FRR = 1 - TAR, interpolated between ROC points."""
    frr = 1.0 - tar
    gap = far - frr  # increasing from -1 to 1
    i = int(np.searchsorted(gap, 0.0))
    if i == 0:
        return float(far[0])
    g0, g1 = gap[i - 1], gap[i]
    t = 0.0 if g1 == g0 else -g0 / (g1 - g0)
    return float(far[i - 1] + t * (far[i] - far[i - 1]))


def tar_at_far(far: NDArray[np.float64], tar: NDArray[np.float64], target: float = FAR_TARGET) -> float:
    """Highest TAR among thresholds with FAR <= ``target``."""
    return float(tar[far <= target + 1e-15].max())


def best_threshold(distances: ArrayLike, same: ArrayLike) -> float:
    """The threshold tau maximising accuracy of ``d <= tau`` (midpoint between neighbouring distances)."""
    d, s = _check(distances, same)
    far, tar, thresholds = roc_curve(d, s)
    n_same, n_diff = s.sum(), (~s).sum()
    correct = tar * n_same + (1 - far) * n_diff
    i = int(np.argmax(correct))
    if i + 1 < len(thresholds):
        return float((thresholds[i] + thresholds[i + 1]) / 2)
    return float(thresholds[i])


def accuracy_at(distances: ArrayLike, same: ArrayLike, tau: float) -> float:
    """Share of pairs classified correctly by ``d <= tau``."""
    d, s = _check(distances, same)
    return float(((d <= tau) == s).mean())


@dataclass(frozen=True)
class VerificationReport:
    """Figures of one set of pairs at a threshold ``tau`` chosen elsewhere (e.g. on pairsDevTrain)."""

    accuracy: float
    tau: float
    auc: float
    eer: float
    tar_at_far: float
    far_target: float
    n_same: int
    n_different: int
    far_resolution: float
    extra: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready fields."""
        return asdict(self)


def verification_report(distances: ArrayLike, same: ArrayLike, *, tau: float) -> VerificationReport:
    """All figures of pairs ``(distances, same)`` at threshold ``tau``."""
    d, s = _check(distances, same)
    far, tar, _ = roc_curve(d, s)
    return VerificationReport(
        accuracy=accuracy_at(d, s, tau),
        tau=float(tau),
        auc=auc(far, tar),
        eer=equal_error_rate(far, tar),
        tar_at_far=tar_at_far(far, tar, FAR_TARGET),
        far_target=FAR_TARGET,
        n_same=int(s.sum()),
        n_different=int((~s).sum()),
        far_resolution=1.0 / int((~s).sum()),
    )


def kfold_accuracy(distances: ArrayLike, same: ArrayLike, folds: ArrayLike) -> NDArray[np.float64]:
    """LFW View 2 protocol: for each fold, tau chosen on the other folds, accuracy on this fold."""
    d, s = _check(distances, same)
    f = np.asarray(folds).ravel()
    result = []
    for fold in np.unique(f):
        test = f == fold
        tau = best_threshold(d[~test], s[~test])
        result.append(accuracy_at(d[test], s[test], tau))
    return np.asarray(result)
