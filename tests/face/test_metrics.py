"""Verification metrics on hand-computed numbers: ROC endpoints and ties, AUC, EER, TAR at FAR, the tie rule
of the best threshold, accuracy and the k-fold protocol."""

from __future__ import annotations

import numpy as np
import pytest

from convapps.errors import InvalidInputError
from convapps.face.metrics import (
    accuracy_at,
    auc,
    best_threshold,
    cross_validate,
    equal_error_rate,
    roc_curve,
    tar_at_far,
    verification_report,
)


def test_best_threshold_separates_when_possible() -> None:
    d = np.array([0.1, 0.2, 0.3, 0.5, 0.6, 0.7])
    same = np.array([True, True, True, False, False, False])
    tau = best_threshold(d, same)
    assert tau == pytest.approx(0.4)
    assert accuracy_at(d, same, tau) == 1.0
    assert accuracy_at(d, same, 0.15) == pytest.approx(4 / 6)


def test_best_threshold_tie_rule_takes_the_middle_best_candidate() -> None:
    # sorted: S D S D S -> candidates accept 0..5 pairs with 2, 3, 2, 3, 2, 3 correct: the best are
    # after 0.1 (0.15), after 0.3 (0.35) and above 0.5 (0.5 + 1e-6); the middle one is 0.35
    d = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
    same = np.array([True, False, True, False, True])
    assert best_threshold(d, same) == pytest.approx(0.35)
    # two best candidates (0.15 and 0.35): the upper middle one
    assert best_threshold(d[:4], same[:4]) == pytest.approx(0.35)
    # a plateau made by a tied same/different pair: accepting 0.2 (both) is as good as not
    d2 = np.array([0.1, 0.2, 0.2, 0.9])
    s2 = np.array([True, True, False, False])
    assert accuracy_at(d2, s2, 0.15) == accuracy_at(d2, s2, 0.55) == 0.75
    assert best_threshold(d2, s2) == pytest.approx(0.55)


def test_roc_endpoints_ties_and_auc() -> None:
    same = np.array([True, False, True, False])
    far, tar, thresholds = roc_curve(np.array([0.1, 0.9, 0.2, 0.8]), same)
    assert far[0] == tar[0] == 0 and far[-1] == tar[-1] == 1
    assert thresholds[0] < 0.1 and thresholds[1:].tolist() == [0.1, 0.2, 0.8, 0.9]
    assert auc(far, tar) == 1.0
    far, tar, _ = roc_curve(np.array([0.1, 0.2, 0.8, 0.9]), same)  # ranks: same, diff, same, diff
    assert auc(far, tar) == pytest.approx(0.75)
    far, tar, _ = roc_curve(np.array([0.9, 0.1, 0.8, 0.2]), same)
    assert auc(far, tar) == 0.0
    far, tar, thresholds = roc_curve(np.array([0.5, 0.5, 0.5, 0.5]), same)  # all tied: one diagonal step
    assert far.tolist() == [0, 1] and tar.tolist() == [0, 1] and auc(far, tar) == 0.5


def test_roc_eer_tar_hand_computed() -> None:
    d = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    same = np.array([1, 1, 0, 1, 0, 0])
    far, tar, _ = roc_curve(d, same)
    assert far.tolist() == pytest.approx([0, 0, 0, 1 / 3, 1 / 3, 2 / 3, 1])
    assert tar.tolist() == pytest.approx([0, 1 / 3, 2 / 3, 2 / 3, 1, 1, 1])
    assert auc(far, tar) == pytest.approx(8 / 9)  # 8 of 9 (same, different) pairs ordered correctly
    assert equal_error_rate(far, tar) == pytest.approx(1 / 3)
    assert tar_at_far(far, tar, 1e-3) == pytest.approx(2 / 3)
    tau = best_threshold(d, same)
    assert tau == pytest.approx(0.45)  # best candidates 0.25 and 0.45: the upper middle one
    assert accuracy_at(d, same, tau) == pytest.approx(5 / 6)
    report = verification_report(d, same, tau=0.45)
    assert report.accuracy == pytest.approx(5 / 6) and report.n_same == 3 and report.n_different == 3
    assert report.far_resolution == pytest.approx(1 / 3) and report.auc == pytest.approx(8 / 9)
    assert report.to_dict()["eer"] == pytest.approx(1 / 3)


def test_cross_validation_picks_threshold_on_other_folds() -> None:
    # fold 0 is separable at 0.4; fold 1's same pairs are all at 0.45 -> the threshold from fold 0
    # (0.4) misclassifies them: accuracy 0.5 on fold 1; fold 0 gets its threshold from fold 1
    # (0.625, midway between 0.45 and 0.8), which misclassifies fold 0's different pair at 0.5.
    d = np.array([0.1, 0.3, 0.5, 0.7, 0.45, 0.45, 0.8, 0.9])
    same = np.array([True, True, False, False, True, True, False, False])
    folds = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    cv = cross_validate(d, same, folds)
    assert cv.fold_thresholds == pytest.approx((0.625, 0.4))
    assert cv.fold_accuracies == (0.75, 0.5)
    assert cv.mean == pytest.approx(0.625) and cv.std == pytest.approx(0.125)


def test_three_folds() -> None:
    d = np.array([0.1, 0.9, 0.2, 0.8, 0.15, 0.5])
    same = np.array([1, 0, 1, 0, 1, 0])
    folds = np.array([0, 0, 1, 1, 2, 2])
    # fold 2: tau from folds 0, 1 is the midpoint of 0.2 (last same) and 0.8 (first different) = 0.5,
    # so its different-person pair at d = 0.5 is accepted: accuracy 1/2
    assert cross_validate(d, same, folds).fold_accuracies == pytest.approx((1.0, 1.0, 0.5))


def test_bad_inputs() -> None:
    with pytest.raises(InvalidInputError, match="both same-person and different-person"):
        roc_curve([0.1, 0.2], [True, True])
    with pytest.raises(InvalidInputError, match="as many scores as labels"):
        best_threshold([0.1, 0.2], [True])
    with pytest.raises(InvalidInputError, match="finite"):
        accuracy_at([0.1, np.nan], [True, False], 0.5)
    with pytest.raises(InvalidInputError, match="at least 2 folds"):
        cross_validate([0.1, 0.2], [True, False], [0, 0])
    assert accuracy_at([0.1, 0.2], [True, True], 0.15) == 0.5  # one class is fine for accuracy
