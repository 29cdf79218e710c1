"""Verification figures from pair scores: ROC curve and AUC, EER, TAR at FAR, the best threshold, accuracy
and the k-fold protocol.

Convention: a *distance-like score* ``d`` per pair ``(M,)`` (smaller = more alike: the squared L2 distance
of two encodings, or ``-logit`` of a Siamese head) and ``same`` ``(M,)`` (True = same person). A pair is
accepted ("same") when ``d <= tau``.

- FAR(tau) = accepted different-person pairs / different-person pairs (false accept rate)
- TAR(tau) = accepted same-person pairs / same-person pairs (true accept rate, 1 - FRR)
- EER: the rate where FAR = FRR (linear interpolation between ROC points)
- TAR @ FAR = x: the highest TAR whose FAR <= x. With n different-person pairs FAR has resolution 1/n:
  at FAR = 1e-3 and n = 500 (pairsDevTest) only FAR = 0 qualifies, which the report says.
- k-fold (LFW View 2): for each fold k, the tau maximising accuracy on the other folds is applied to fold
  k; the result is the mean +/- standard deviation of the fold accuracies.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from convapps.errors import InvalidInputError

FAR_TARGET = 1e-3
EDGE = 1e-6
"""How far below the smallest (above the largest) distance the accept-nothing (accept-all) threshold lies."""


def _pairs(distances: ArrayLike, same: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    d = np.asarray(distances, dtype=np.float64).ravel()
    s = np.asarray(same).astype(bool).ravel()
    if len(d) != len(s) or len(d) == 0:
        raise InvalidInputError(f"need as many scores as labels (> 0), got {len(d)} and {len(s)}")
    if not np.isfinite(d).all():
        raise InvalidInputError("pair scores must be finite numbers")
    return d, s


def _both(distances: ArrayLike, same: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    d, s = _pairs(distances, same)
    if not s.any() or s.all():
        raise InvalidInputError("verification figures need both same-person and different-person pairs")
    return d, s


def _accepted_counts(
    d: NDArray[np.float64], s: NDArray[np.bool_]
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    """Distinct scores ``(K,)`` ascending and the same/different pairs accepted at each, ``(K + 1,)`` from 0."""
    order = np.argsort(d, kind="mergesort")
    d_sorted, s_sorted = d[order], s[order]
    last = np.r_[np.nonzero(np.diff(d_sorted))[0], len(d) - 1]  # last index of each distinct value
    same_in = np.r_[0, np.cumsum(s_sorted)[last]].astype(np.int64)
    diff_in = np.r_[0, np.cumsum(~s_sorted)[last]].astype(np.int64)
    return d_sorted[last], same_in, diff_in


def roc_curve(
    distances: ArrayLike, same: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """``(far, tar, thresholds)``, each ``(K + 1,)`` for K distinct scores: the first point accepts nothing
    (FAR = TAR = 0, threshold just below the smallest score), point k accepts ``d <= thresholds[k]``; the
    last point accepts everything (FAR = TAR = 1). Tied scores make one point (a diagonal segment)."""
    d, s = _both(distances, same)
    values, same_in, diff_in = _accepted_counts(d, s)
    tar = same_in / same_in[-1]
    far = diff_in / diff_in[-1]
    return far, tar, np.r_[values[0] - EDGE, values]


def auc(far: NDArray[np.float64], tar: NDArray[np.float64]) -> float:
    """Area under the ROC curve (trapezoids): the probability that a random same-person pair scores lower
    than a random different-person pair, ties counting one half."""
    return float(np.sum(np.diff(far) * (tar[1:] + tar[:-1]) / 2))


def equal_error_rate(far: NDArray[np.float64], tar: NDArray[np.float64]) -> float:
    """The rate where FAR equals FRR = 1 - TAR, interpolated between ROC points."""
    gap = far - (1.0 - tar)  # increasing from -1 to 1
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
    """The tau maximising the accuracy of ``d <= tau`` on these pairs.

    Candidates: the midpoints between neighbouring distinct scores, plus one just below the smallest and
    one just above the largest score. Tie rule: when several candidates reach the highest accuracy, the
    middle one of them (in ascending order; of two middle ones, the upper) is returned, so a plateau of
    equally good thresholds gives its centre.
    """
    d, s = _both(distances, same)
    values, same_in, diff_in = _accepted_counts(d, s)
    candidates = np.r_[values[0] - EDGE, (values[:-1] + values[1:]) / 2.0, values[-1] + EDGE]
    correct = same_in + (diff_in[-1] - diff_in)  # exact integers: ties are found exactly
    best = np.flatnonzero(correct == correct.max())
    return float(candidates[best[len(best) // 2]])


def accuracy_at(distances: ArrayLike, same: ArrayLike, tau: float) -> float:
    """Share of pairs decided correctly by ``d <= tau``."""
    d, s = _pairs(distances, same)
    return float(((d <= tau) == s).mean())


@dataclass(frozen=True)
class CrossValidation:
    """k-fold result: per-fold accuracy and the threshold picked on the other folds."""

    fold_accuracies: tuple[float, ...]
    fold_thresholds: tuple[float, ...]

    @property
    def mean(self) -> float:
        """Mean of the fold accuracies."""
        return float(np.mean(self.fold_accuracies))

    @property
    def std(self) -> float:
        """Standard deviation (population, as LFW reports it) of the fold accuracies."""
        return float(np.std(self.fold_accuracies))


def cross_validate(distances: ArrayLike, same: ArrayLike, folds: ArrayLike) -> CrossValidation:
    """The LFW View 2 protocol: for each fold, tau chosen on the other folds, accuracy on this fold."""
    d, s = _pairs(distances, same)
    f = np.asarray(folds).ravel()
    if len(f) != len(d) or len(np.unique(f)) < 2:
        raise InvalidInputError(f"k-fold needs a fold per pair and at least 2 folds, got {len(np.unique(f))}")
    accs, taus = [], []
    for k in np.unique(f):
        test = f == k
        tau = best_threshold(d[~test], s[~test])
        accs.append(accuracy_at(d[test], s[test], tau))
        taus.append(tau)
    return CrossValidation(tuple(accs), tuple(taus))


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

    def to_dict(self) -> dict[str, float]:
        """JSON-ready fields."""
        return asdict(self)


def verification_report(distances: ArrayLike, same: ArrayLike, *, tau: float) -> VerificationReport:
    """All figures of pairs ``(distances, same)`` at threshold ``tau``."""
    d, s = _both(distances, same)
    far, tar, _ = roc_curve(d, s)
    n_different = int((~s).sum())
    return VerificationReport(
        accuracy=accuracy_at(d, s, tau),
        tau=float(tau),
        auc=auc(far, tar),
        eer=equal_error_rate(far, tar),
        tar_at_far=tar_at_far(far, tar, FAR_TARGET),
        far_target=FAR_TARGET,
        n_same=int(s.sum()),
        n_different=n_different,
        far_resolution=1.0 / n_different,
    )
