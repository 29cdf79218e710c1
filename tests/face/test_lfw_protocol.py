"""LFW protocol: pairs files, threshold choice, 10-fold cross-validation, ROC and AUC."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from convapps.errors import DataFileError
from convapps.face.lfw import accuracy_at, auc, best_threshold, cross_validate, read_pairs, roc_curve


def test_read_view2_pairs(shared_data) -> None:  # type: ignore[no-untyped-def]
    lfw = shared_data / "faces" / "lfw"
    pairs = read_pairs(lfw / "pairs.txt", lfw / "lfw-deepfunneled")
    assert len(pairs) == 6000
    assert sorted({p.fold for p in pairs}) == list(range(10))
    assert sum(p.same for p in pairs) == 3000
    first = pairs[0]
    assert first.same and first.path1.name == "Abel_Pacheco_0001.jpg" and first.path2.name == "Abel_Pacheco_0004.jpg"
    assert all(p.path1.is_file() and p.path2.is_file() for p in pairs[:50])


def test_read_view1_pairs(shared_data) -> None:  # type: ignore[no-untyped-def]
    lfw = shared_data / "faces" / "lfw"
    pairs = read_pairs(lfw / "pairsDevTrain.txt", lfw / "lfw-deepfunneled")
    assert len(pairs) == 2200 and {p.fold for p in pairs} == {0}
    assert [p.same for p in pairs[1099:1101]] == [True, False]


def test_malformed_pairs_file(tmp_path: Path) -> None:
    bad = tmp_path / "pairs.txt"
    bad.write_text("1\nA 1 2\nB 1\n")
    with pytest.raises(DataFileError, match="line 3"):
        read_pairs(bad, tmp_path)
    bad.write_text("hello\n")
    with pytest.raises(DataFileError, match="first line"):
        read_pairs(bad, tmp_path)
    with pytest.raises(DataFileError, match="cannot read"):
        read_pairs(tmp_path / "missing.txt", tmp_path)


def test_best_threshold_separates_when_possible() -> None:
    d = np.array([0.1, 0.2, 0.3, 0.5, 0.6, 0.7])
    same = np.array([True, True, True, False, False, False])
    tau = best_threshold(d, same)
    assert 0.3 < tau < 0.5 and tau == pytest.approx(0.4)
    assert accuracy_at(d, same, tau) == 1.0
    assert accuracy_at(d, same, 0.15) == pytest.approx(4 / 6)


def test_cross_validation_picks_threshold_on_other_folds() -> None:
    # fold 0 is separable at 0.4; fold 1's same pairs are all at 0.45 -> the threshold from fold 0
    # (0.4) misclassifies them: accuracy 0.5 on fold 1; fold 0 gets its threshold from fold 1
    # (0.625, midway between 0.45 and 0.8), which misclassifies fold 0's different pair at 0.5.
    d = np.array([0.1, 0.3, 0.5, 0.7, 0.45, 0.45, 0.8, 0.9])
    same = np.array([True, True, False, False, True, True, False, False])
    folds = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    cv = cross_validate(d, same, folds)
    assert cv.fold_thresholds[1] == pytest.approx(0.4)
    assert cv.fold_accuracies[1] == 0.5
    assert cv.fold_thresholds[0] == pytest.approx(0.625)
    assert cv.fold_accuracies[0] == 0.75
    assert cv.mean == pytest.approx(0.625) and cv.std == pytest.approx(0.125)


def test_roc_and_auc() -> None:
    same = np.array([True, False, True, False])
    perfect_fpr, perfect_tpr = roc_curve(np.array([0.1, 0.9, 0.2, 0.8]), same)
    assert auc(perfect_fpr, perfect_tpr) == 1.0
    assert perfect_fpr[0] == perfect_tpr[0] == 0 and perfect_fpr[-1] == perfect_tpr[-1] == 1
    fpr, tpr = roc_curve(np.array([0.1, 0.2, 0.8, 0.9]), same)  # ranks: same, diff, same, diff
    assert auc(fpr, tpr) == pytest.approx(0.75)
    inv_fpr, inv_tpr = roc_curve(np.array([0.9, 0.1, 0.8, 0.2]), same)
    assert auc(inv_fpr, inv_tpr) == 0.0
